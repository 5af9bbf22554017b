#!/usr/bin/python3
"""Writes the benchmark's ONNX models into build/bench-models/ (not committed).

Run with Debian's Python (torch 1.13, torchvision 0.14):
    /usr/bin/python3 bench/make_bench_models.py [--out DIR] [--force]

Every model has random weights from a fixed seed (SEED below, reseeded per
model so adding one does not change the others), batch 1, exported with
torch.onnx.export at opset 13 in eval mode (which folds BatchNorm into the
preceding Conv). A manifest.json beside the files lists them with their
input shapes and what each measures; bench/run_bench.mjs reads it.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision

SEED = 20240601
OPSET = 13
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SingleConv(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups)

    def forward(self, x):
        return self.conv(x)


class CifarCnn(nn.Module):
    """A small CIFAR-10 sized classifier: three conv blocks, global pool, dense."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def randomise_batchnorm(model):
    # Fresh BatchNorm layers are identities (mean 0, var 1); random running
    # statistics make the folded conv weights realistic.
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.1, 0.1)
    return model


# name, builder, input shape (NCHW), kind, what it measures
MODELS = [
    ("conv3x3_c64_56", lambda: SingleConv(64, 64, 3), (1, 64, 56, 56), "dense3x3",
     "3x3 conv, 64->64 channels at 56x56, stride 1 (ResNet stage 1)"),
    ("conv3x3_c128_28", lambda: SingleConv(128, 128, 3), (1, 128, 28, 28), "dense3x3",
     "3x3 conv, 128->128 channels at 28x28, stride 1 (ResNet stage 2)"),
    ("conv1x1_c256_28", lambda: SingleConv(256, 256, 1), (1, 256, 28, 28), "pointwise",
     "1x1 conv, 256->256 channels at 28x28"),
    ("depthwise3x3_c96_56", lambda: SingleConv(96, 96, 3, groups=96), (1, 96, 56, 56), "depthwise",
     "depthwise 3x3 conv, 96 channels at 56x56"),
    ("stem3x3s2_c32_224", lambda: SingleConv(3, 32, 3, stride=2), (1, 3, 224, 224), "stem",
     "stride-2 3x3 stem conv, 3->32 channels, 224x224 input"),
    ("cifar_cnn", lambda: randomise_batchnorm(CifarCnn()), (1, 3, 32, 32), "network",
     "small CIFAR-size CNN: 3 conv+BN+ReLU+maxpool blocks, global pool, dense"),
    ("mobilenet_v2", lambda: randomise_batchnorm(torchvision.models.mobilenet_v2(weights=None)), (1, 3, 224, 224),
     "network", "torchvision MobileNetV2, random weights, 224x224"),
    ("resnet18", lambda: randomise_batchnorm(torchvision.models.resnet18(weights=None)), (1, 3, 224, 224),
     "network", "torchvision ResNet-18, random weights, 224x224"),
]


def export(name, builder, shape, path, seed):
    torch.manual_seed(seed)
    model = builder().eval()
    example = torch.rand(*shape)
    with torch.no_grad():
        torch.onnx.export(model, example, path, opset_version=OPSET, input_names=["input"],
                          output_names=["output"], do_constant_folding=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "bench-models"))
    parser.add_argument("--force", action="store_true", help="rewrite models that already exist")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest = {"seed": SEED, "opset": OPSET, "torch": torch.__version__,
                "torchvision": torchvision.__version__, "models": []}
    for index, (name, builder, shape, kind, description) in enumerate(MODELS):
        path = os.path.join(args.out, name + ".onnx")
        if args.force or not os.path.exists(path):
            export(name, builder, shape, path, SEED + index)
            print(f"wrote {path} ({os.path.getsize(path)} bytes)")
        manifest["models"].append({"name": name, "file": name + ".onnx", "input_shape": list(shape),
                                   "kind": kind, "description": description, "seed": SEED + index})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
