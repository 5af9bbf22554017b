#!/usr/bin/python3
"""Autograd goldens for the explanation methods (src/core/explain).

Run with Debian's interpreter (torch 1.13, numpy, onnx, h5py):
    /usr/bin/python3 scripts/make_explain_goldens.py
Seed: torch.manual_seed(20261127), numpy seed 20261127; one torch thread.

One small CNN, random weights, written twice with the same weights:
  tests/fixtures/explain/tiny_cnn.onnx   torch.onnx.export, opset 13, NCHW
  tests/fixtures/explain/tiny_cnn.h5     tf.keras 2.3 layout via
                                         scripts/keras_layout.py, NHWC
      input 12x12x3 -> Conv2D(4, 3x3, same, relu) -> MaxPooling2D(2)
      -> Conv2D(6, 3x3, valid, relu) -> GlobalAveragePooling2D
      -> Dense(5, softmax)
  GlobalAveragePooling instead of Flatten: no row permutation between the
  NCHW and NHWC flatten orders is needed for the Dense kernel.

Goldens (float32 .npy, NCHW like the ONNX input; the test transposes for
Keras), all for the top class c of the golden input and its pre-softmax
score (the logit), as src/core/grad/gradient.h defines the class target:
  input.npy        [1,3,12,12] uniform [0,1)
  class.npy        [1] the top class, as float
  logits.npy       [1,5]
  saliency.npy     d logit_c / d input
  ig.npy           Integrated Gradients, zero baseline, 32 steps at the
                   midpoints alpha_k = (k + 0.5) / 32:
                   x * mean_k d logit_c / d input (alpha_k x)
  ig_delta.npy     [1] logit_c(x) - logit_c(0), the completeness target
  gradcam.npy      [4,4] Grad-CAM on the last conv layer's ReLU output A:
                   relu(sum_k w_k A_k), w_k = mean over pixels of d logit_c / d A_k
  gradcampp.npy    [4,4] Grad-CAM++ on the same A, with pytorch-grad-cam's
                   closed form (g = d logit_c / d A): a = g^2 / (2 g^2 +
                   sum_ij(A_k) g^3) (0 where the denominator is 0),
                   w_k = sum_ij a relu(g), relu(sum_k w_k A_k)
  occlusion.npy    [3,3] logit_c(x) - logit_c(x with a 4x4 window of zeros
                   over all channels), windows at stride 4
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPT_DIR)
import keras_layout  # noqa: E402

SEED = 20261127
OUT = os.path.join(SCRIPT_DIR, "..", "tests", "fixtures", "explain")
HEIGHT, WIDTH, CHANNELS, CLASSES = 12, 12, 3, 5
IG_STEPS = 32


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv2d = nn.Conv2d(CHANNELS, 4, 3, padding=1)
        self.conv2d_1 = nn.Conv2d(4, 6, 3, padding=0)
        self.dense = nn.Linear(6, CLASSES)

    def features(self, x):
        """The last conv layer's ReLU output (Grad-CAM's feature map)."""
        x = F.max_pool2d(F.relu(self.conv2d(x)), 2)
        return F.relu(self.conv2d_1(x))

    def head(self, a):
        return self.dense(a.mean(dim=(2, 3)))

    def forward(self, x):
        return self.head(self.features(x))


class WithSoftmax(nn.Module):
    """What the files hold: Dense(activation="softmax")."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return F.softmax(self.net(x), dim=1)


def keras_config():
    """tf.keras 2.3's Sequential get_config() for the same layers."""
    def conv(name, filters, padding, first=False):
        config = {"name": name, "trainable": True, "dtype": "float32", "filters": filters,
                  "kernel_size": [3, 3], "strides": [1, 1], "padding": padding,
                  "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu",
                  "use_bias": True,
                  "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                  "bias_initializer": {"class_name": "Zeros", "config": {}},
                  "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                  "kernel_constraint": None, "bias_constraint": None}
        if first:
            config = {"batch_input_shape": [None, HEIGHT, WIDTH, CHANNELS], **config}
        return {"class_name": "Conv2D", "config": config}

    layers = [
        conv("conv2d", 4, "same", first=True),
        {"class_name": "MaxPooling2D",
         "config": {"name": "max_pooling2d", "trainable": True, "dtype": "float32", "pool_size": [2, 2],
                    "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}},
        conv("conv2d_1", 6, "valid"),
        {"class_name": "GlobalAveragePooling2D",
         "config": {"name": "global_average_pooling2d", "trainable": True, "dtype": "float32",
                    "data_format": "channels_last"}},
        {"class_name": "Dense",
         "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": CLASSES,
                    "activation": "softmax", "use_bias": True,
                    "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                    "bias_initializer": {"class_name": "Zeros", "config": {}},
                    "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                    "kernel_constraint": None, "bias_constraint": None}},
    ]
    return {"class_name": "Sequential",
            "config": {"name": "sequential", "layers": layers,
                       "build_input_shape": [None, HEIGHT, WIDTH, CHANNELS]}}


def keras_weights(net):
    def conv(module, name):
        # torch OIHW -> Keras HWIO (both are cross-correlations).
        kernel = module.weight.detach().numpy().transpose(2, 3, 1, 0)
        return (name, [(name + "/kernel:0", kernel), (name + "/bias:0", module.bias.detach().numpy())])

    return [
        conv(net.conv2d, "conv2d"),
        ("max_pooling2d", []),
        conv(net.conv2d_1, "conv2d_1"),
        ("global_average_pooling2d", []),
        ("dense", [("dense/kernel:0", net.dense.weight.detach().numpy().T),
                   ("dense/bias:0", net.dense.bias.detach().numpy())]),
    ]


def save(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))


def input_gradient(net, x, c):
    x = x.clone().requires_grad_(True)
    net(x)[0, c].backward()
    return x.grad.detach()


def main():
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    os.makedirs(OUT, exist_ok=True)
    net = TinyCnn().eval()
    x = torch.rand(1, CHANNELS, HEIGHT, WIDTH)

    torch.onnx.export(WithSoftmax(net), x, os.path.join(OUT, "tiny_cnn.onnx"), opset_version=13,
                      input_names=["input"], output_names=["probabilities"], do_constant_folding=False)
    keras_layout.write_keras2_h5(
        os.path.join(OUT, "tiny_cnn.h5"), keras_config(),
        [(name, [(w, np.ascontiguousarray(a, dtype=np.float32)) for w, a in weights])
         for name, weights in keras_weights(net)])

    with torch.no_grad():
        logits = net(x)
    c = int(logits[0].argmax())

    saliency = input_gradient(net, x, c)

    total = torch.zeros_like(x)
    for k in range(IG_STEPS):
        alpha = (k + 0.5) / IG_STEPS
        total += input_gradient(net, alpha * x, c)
    ig = x * total / IG_STEPS
    with torch.no_grad():
        ig_delta = net(x)[0, c] - net(torch.zeros_like(x))[0, c]

    a = net.features(x).detach().requires_grad_(True)
    net.head(a)[0, c].backward()
    weights = a.grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * a).sum(dim=1))[0].detach()

    g = a.grad.double()
    a64 = a.detach().double()
    g2, g3 = g * g, g * g * g
    denominator = 2 * g2 + a64.sum(dim=(2, 3), keepdim=True) * g3
    alpha = torch.where(denominator != 0, g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator)),
                        torch.zeros_like(denominator))
    weights_pp = (alpha * F.relu(g)).sum(dim=(2, 3), keepdim=True)
    cam_pp = F.relu((weights_pp * a64).sum(dim=1))[0]

    drops = np.zeros((3, 3))
    with torch.no_grad():
        clean = net(x)[0, c]
        for row in range(3):
            for column in range(3):
                occluded = x.clone()
                occluded[:, :, row * 4:row * 4 + 4, column * 4:column * 4 + 4] = 0.0
                drops[row, column] = float(clean - net(occluded)[0, c])

    save("gradcampp.npy", cam_pp.numpy())
    save("occlusion.npy", drops)
    save("input.npy", x.numpy())
    save("class.npy", np.array([c]))
    save("logits.npy", logits.numpy())
    save("saliency.npy", saliency.numpy())
    save("ig.npy", ig.numpy())
    save("ig_delta.npy", np.array([float(ig_delta)]))
    save("gradcam.npy", cam.numpy())
    print(json.dumps({"class": c, "logits": logits[0].tolist(), "ig_sum": float(ig.sum()),
                      "ig_delta": float(ig_delta), "cam_max": float(cam.max())}))


if __name__ == "__main__":
    main()
