#!/usr/bin/python3
"""Golden inputs/outputs for the engine's operators, computed with PyTorch.

Run with Debian's interpreter (torch 1.13, numpy, onnx):
    /usr/bin/python3 scripts/make_op_goldens.py
Writes tests/fixtures/ops/:
  onnx_<case>.onnx + onnx_<case>_in.npy + onnx_<case>_out.npy
      tiny torch modules exported to ONNX (opset 13); the test opens the
      .onnx through the ONNX reader and runs it with the engine.
  keras_<case>_*.npy
      Keras semantics (NHWC, TensorFlow "same" padding with the odd pad at
      bottom/right) computed by explicit F.pad + torch ops; the test builds
      the Keras layer by hand.
  mnist8_in.npy / mnist8_out.npy
      the corpus model Baskov_PyTorch-__mnist-8.onnx rebuilt in torch from
      its initializers (whole-model golden).
Seed: torch.manual_seed(20261126), numpy seed 20261126.
"""
import os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261126
torch.manual_seed(SEED)
np.random.seed(SEED)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "ops")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
os.makedirs(OUT, exist_ok=True)


def save(name, array):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(array, dtype=np.float32))


def export(name, module, shape):
    module.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        y = module(x)
    torch.onnx.export(module, x, os.path.join(OUT, f"onnx_{name}.onnx"), opset_version=13,
                      input_names=["input"], output_names=["output"], do_constant_folding=True)
    save(f"onnx_{name}_in.npy", x.numpy())
    save(f"onnx_{name}_out.npy", y.numpy())


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


# --- ONNX semantics (NCHW) -------------------------------------------------
export("conv_pads_stride_dilation", nn.Conv2d(3, 5, 3, stride=2, padding=(1, 2), dilation=(1, 2)), (1, 3, 9, 11))
export("conv_groups", nn.Conv2d(4, 6, 3, padding=1, groups=2), (1, 4, 7, 6))
export("conv_depthwise", nn.Conv2d(5, 10, 3, padding=1, groups=5), (1, 5, 6, 7))
export("conv1d", nn.Conv1d(3, 4, 3, stride=2, padding=1), (1, 3, 13))
export("conv_transpose", nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (1, 3, 5, 4))
export("maxpool_ceil", nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (1, 3, 8, 9))
export("avgpool_include_pad", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True), (1, 2, 7, 8))
export("avgpool_exclude_pad_ceil", nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 7, 8))
export("resize_bilinear", Lambda(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)), (1, 2, 3, 5))
export("resize_nearest", Lambda(lambda x: F.interpolate(x, scale_factor=2, mode="nearest")), (1, 2, 3, 4))
export("softmax_axis1", Lambda(lambda x: torch.softmax(x, dim=1)), (1, 4, 3, 2))
export("gemm_bn_act", nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.BatchNorm1d(7), nn.ELU(), nn.Linear(7, 5), nn.Hardsigmoid()), (2, 3, 2, 2))
export("broadcast_ops", Lambda(lambda x: (x * torch.tensor([1.5, -2.0, 0.5]).reshape(1, 3, 1, 1) + 1.0) / (x.abs() + 1.0) - x.mean(dim=(2, 3), keepdim=True)), (1, 3, 4, 5))
export("global_pool_flatten", nn.Sequential(nn.Conv2d(2, 3, 1), nn.LeakyReLU(0.1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.SiLU()), (1, 2, 5, 5))
export("gelu_tanh_sigmoid", nn.Sequential(nn.GELU(), nn.Tanh(), nn.Sigmoid()), (1, 3, 2, 2))
export("pad_reflect_transpose", Lambda(lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect").permute(0, 2, 3, 1)), (1, 2, 4, 5))
export("concat_shape_reshape", Lambda(lambda x: torch.cat([x, x * 2], dim=1).reshape(x.shape[0], -1)), (1, 2, 3, 3))

# --- Keras semantics (NHWC, TF "same") -------------------------------------
def tf_same(size, kernel, stride, dilation=1):
    out = (size + stride - 1) // stride
    total = max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size)
    return total // 2, total - total // 2


# Conv2D, padding="same", strides 2, odd input: the extra pad goes bottom/right.
x = torch.randn(1, 7, 8, 3)
kernel = torch.randn(3, 3, 3, 4)  # H W Cin Cout (Keras layout)
bias = torch.randn(4)
top, bottom = tf_same(7, 3, 2)
left, right = tf_same(8, 3, 2)
y = F.conv2d(F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom)), kernel.permute(3, 2, 0, 1), bias, stride=2)
save("keras_conv_same_in.npy", x.numpy())
save("keras_conv_same_kernel.npy", kernel.numpy())
save("keras_conv_same_bias.npy", bias.numpy())
save("keras_conv_same_out.npy", torch.relu(y).permute(0, 2, 3, 1).numpy())

# DepthwiseConv2D, same, stride 2, depth_multiplier 2.
x = torch.randn(1, 6, 5, 3)
kernel = torch.randn(3, 3, 3, 2)  # H W Cin multiplier
top, bottom = tf_same(6, 3, 2)
left, right = tf_same(5, 3, 2)
weight = kernel.permute(2, 3, 0, 1).reshape(6, 1, 3, 3)  # out channel c * 2 + m
y = F.conv2d(F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom)), weight, None, stride=2, groups=3)
save("keras_depthwise_same_in.npy", x.numpy())
save("keras_depthwise_same_kernel.npy", kernel.numpy())
save("keras_depthwise_same_out.npy", y.permute(0, 2, 3, 1).numpy())

# AveragePooling2D, same, pool 3 stride 2: Keras divides by the real pixels only.
x = torch.randn(1, 7, 6, 2)
top, bottom = tf_same(7, 3, 2)
left, right = tf_same(6, 3, 2)
nchw = x.permute(0, 3, 1, 2)
sums = F.avg_pool2d(F.pad(nchw, (left, right, top, bottom)), 3, stride=2, divisor_override=1)
counts = F.avg_pool2d(F.pad(torch.ones_like(nchw), (left, right, top, bottom)), 3, stride=2, divisor_override=1)
save("keras_avgpool_same_in.npy", x.numpy())
save("keras_avgpool_same_out.npy", (sums / counts).permute(0, 2, 3, 1).numpy())

# --- whole model: the corpus mnist-8 rebuilt from its initializers ---------
import onnx
from onnx import numpy_helper
model = onnx.load(os.path.join(CORPUS, "Baskov_PyTorch-__mnist-8.onnx"))
w = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
x = torch.rand(1, 1, 28, 28)
h = F.max_pool2d(torch.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"], padding=1)), 2)
h = F.max_pool2d(torch.relu(F.conv2d(h, w["conv2.weight"], w["conv2.bias"], padding=1)), 2)
h = torch.relu(F.linear(h.reshape(1, -1), w["fc1.weight"], w["fc1.bias"]))
save("mnist8_in.npy", x.numpy())
save("mnist8_out.npy", F.linear(h, w["fc2.weight"], w["fc2.bias"]).numpy())
print("wrote", len(os.listdir(OUT)), "files to", OUT)
