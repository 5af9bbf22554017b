#!/usr/bin/python3
"""Trains and writes the demo models and sample images that ship with ConvScope.

Run with Debian's Python (it has torch, torchvision, numpy, h5py, onnx):

    /usr/bin/python3 scripts/train_demo.py            # (re)writes assets/
    /usr/bin/python3 scripts/train_demo.py --check    # verifies assets/ (quick)
    /usr/bin/python3 scripts/train_demo.py --check --full

What it writes (see assets/README.md for the user-facing description):
  assets/models/fashion_small.{h5,keras,onnx}   the classic first CNN
  assets/models/fashion_deep.{h5,keras,onnx}    conv blocks + BN + dropout
  assets/models/metrics.json                    accuracies, parameters, seeds
  assets/models/SHA256SUMS                      of every generated file
  assets/images/fashion_samples.png + .json     1000 Fashion-MNIST test images
  assets/images/rgb_*.png                       small RGB pictures drawn here

Every model is written three ways from the same torch weights: the Keras 2
full-model .h5 layout, the Keras 3 .keras zip (both through scripts/
keras_layout.py, since Keras itself is not installed) and ONNX opset 13
(torch.onnx.export). Before anything is written the script proves that the
Keras files compute the torch function: a float64 numpy forward pass in NHWC
using the Keras-layout arrays must match torch's output, and the ONNX file's
initializers must equal torch's parameters.

Reproducibility: training is seeded, single-process, with
torch.use_deterministic_algorithms(True) and a fixed thread count, so on the
same machine and software the output is identical byte for byte (h5py stores
no timestamps, the zip members carry fixed dates, the PNG encoder below is
deterministic). A different CPU (its SIMD width changes float summation order
in oneDNN/MKL) or another torch/zlib version may change the weights' last
bits and so the bytes; --check then reports the mismatch.

--check (quick, about a minute): regenerates into a temporary folder and
compares sha256 with assets/models/SHA256SUMS. It retrains the small model
from scratch (proving the training is reproducible) and, to stay fast, loads
the deep model's parameters from the shipped ONNX file instead of retraining
it, then re-exports all three formats, re-measures the accuracies and
re-draws the images. --check --full retrains the deep model too (a few
minutes on two cores).
"""

import argparse
import gzip
import hashlib
import json
import os
import struct
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx
import onnx.numpy_helper

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(SCRIPT_DIR)
sys.path.insert(0, SCRIPT_DIR)
import keras_layout  # noqa: E402  (scripts/keras_layout.py, owned by the keras engineer)
import fixture_writers  # noqa: E402  (scripts/fixture_writers.py: PNG and Keras config writers)
from fixture_writers import read_png, write_png  # noqa: E402

DATASET_DIR = "/usr/share/datasets/fashion-mnist"
DATASET_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

TORCH_THREADS = 1  # also makes the float summation order independent of the core count
BATCH_SIZE = 128
SAMPLES_PER_CLASS = 100
SPRITE_COLUMNS = 50          # 100 tiles per class = exactly two sprite rows per class
ONNX_OPSET = 13
KERAS2_VERSION = "2.3.0-tf"  # the tf.keras schema of the corpus .h5 (no InputLayer entry)
KERAS3_VERSION = "3.10.0"
# Keras 3 marks a dtype policy object serialised more than once with Python's
# id() of it; any fixed number keeps the file reproducible.
KERAS3_SHARED_POLICY_ID = 140000000000000
# torch's BatchNorm2d defaults; Keras's momentum is 1 - torch's momentum.
BN_EPSILON = 1e-5
BN_TORCH_MOMENTUM = 0.1

# Layer lists shared by torch, Keras and the numpy reference. Names follow
# Keras's automatic naming, so one name means the same layer in every format
# (torch module names become the ONNX initializer and node names).
MODEL_SPECS = {
    "small": {
        "seed": 20240501,
        "epochs": 2,
        "max_lr": 0.01,
        "layers": [
            ("Conv2D", dict(filters=5, kernel=3, padding="valid", activation="relu", use_bias=True)),
            ("Conv2D", dict(filters=15, kernel=3, padding="valid", activation="relu", use_bias=True)),
            ("Flatten", {}),
            ("Dense", dict(units=10, activation="softmax")),
        ],
    },
    "deep": {
        "seed": 20240502,
        "epochs": 4,
        "max_lr": 0.01,
        "layers": [
            ("Conv2D", dict(filters=16, kernel=3, padding="same", activation="linear", use_bias=False)),
            ("BatchNormalization", {}),
            ("Activation", dict(activation="relu")),
            ("Conv2D", dict(filters=16, kernel=3, padding="same", activation="linear", use_bias=False)),
            ("BatchNormalization", {}),
            ("Activation", dict(activation="relu")),
            ("MaxPooling2D", dict(pool=2)),
            ("Dropout", dict(rate=0.1)),
            ("Conv2D", dict(filters=32, kernel=3, padding="same", activation="linear", use_bias=False)),
            ("BatchNormalization", {}),
            ("Activation", dict(activation="relu")),
            ("Conv2D", dict(filters=32, kernel=3, padding="same", activation="linear", use_bias=False)),
            ("BatchNormalization", {}),
            ("Activation", dict(activation="relu")),
            ("MaxPooling2D", dict(pool=2)),
            ("Dropout", dict(rate=0.2)),
            ("Conv2D", dict(filters=64, kernel=3, padding="same", activation="linear", use_bias=False)),
            ("BatchNormalization", {}),
            ("Activation", dict(activation="relu")),
            ("GlobalAveragePooling2D", {}),
            ("Dropout", dict(rate=0.3)),
            ("Dense", dict(units=10, activation="softmax")),
        ],
    },
}
INPUT_SHAPE_HWC = (28, 28, 1)


# ---------------------------------------------------------------- dataset

def read_idx(path, expected_dims):
    """An IDX file (the MNIST container): magic 0x0000 08 <dims>, big-endian
    sizes, then uint8 data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError("%s: %d bytes, expected an IDX header" % (path, len(data)))
    zero, dtype_code, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08 or dims != expected_dims:
        raise ValueError("%s: IDX magic %02x %02x %02x, expected uint8 with %d dims"
                         % (path, zero, dtype_code, dims, expected_dims))
    shape = struct.unpack(">%dI" % dims, data[4:4 + 4 * dims])
    offset = 4 + 4 * dims
    if len(data) - offset != int(np.prod(shape)):
        raise ValueError("%s: %d data bytes, expected %d for shape %s"
                         % (path, len(data) - offset, int(np.prod(shape)), shape))
    return np.frombuffer(data, np.uint8, offset=offset).reshape(shape)


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_dataset():
    paths = {key: os.path.join(DATASET_DIR, name) for key, name in DATASET_FILES.items()}
    missing = [p for p in paths.values() if not os.path.exists(p)]
    if missing:
        sys.exit("missing %s: install Debian's dataset-fashion-mnist (scripts/bootstrap)"
                 % ", ".join(missing))
    data = {
        "train_images": read_idx(paths["train_images"], 3),
        "train_labels": read_idx(paths["train_labels"], 1),
        "test_images": read_idx(paths["test_images"], 3),
        "test_labels": read_idx(paths["test_labels"], 1),
    }
    data["file_sha256"] = {DATASET_FILES[k]: sha256_of(p) for k, p in paths.items()}
    return data


def to_model_input(images_uint8):
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28 in [0, 1]: the only
    preprocessing the demo models expect."""
    return torch.from_numpy(images_uint8.astype(np.float32)[:, None] / 255.0)


# ---------------------------------------------------------------- models

def keras_layer_names(layers):
    """Keras's automatic names: snake_case class name, then _1, _2, ..."""
    return keras_layout.keras3_layer_keys([kind for kind, _ in layers])


class DemoNet(nn.Module):
    """A torch model built from a MODEL_SPECS layer list, one module per Keras
    layer that has parameters; forward returns logits (softmax is applied
    only for export and in predict(), so training uses the stable
    cross-entropy on logits)."""

    def __init__(self, layers):
        super().__init__()
        self.layer_specs = list(zip(keras_layer_names(layers), layers))
        softmax_layers = [i for i, (_, o) in enumerate(layers) if o.get("activation") == "softmax"]
        if softmax_layers not in ([], [len(layers) - 1]):
            raise ValueError("softmax is supported only as the last layer's activation")
        channels = INPUT_SHAPE_HWC[2]
        height, width = INPUT_SHAPE_HWC[0], INPUT_SHAPE_HWC[1]
        self.flatten_chw = None
        features = None
        for name, (kind, options) in self.layer_specs:
            if kind == "Conv2D":
                padding = 1 if options["padding"] == "same" else 0
                self.add_module(name, nn.Conv2d(channels, options["filters"], options["kernel"],
                                                padding=padding, bias=options["use_bias"]))
                channels = options["filters"]
                if padding == 0:
                    height -= options["kernel"] - 1
                    width -= options["kernel"] - 1
            elif kind == "BatchNormalization":
                self.add_module(name, nn.BatchNorm2d(channels, eps=BN_EPSILON,
                                                     momentum=BN_TORCH_MOMENTUM))
            elif kind == "MaxPooling2D":
                height //= options["pool"]
                width //= options["pool"]
            elif kind == "Dropout":
                self.add_module(name, nn.Dropout(options["rate"]))
            elif kind == "Flatten":
                self.flatten_chw = (channels, height, width)
                features = channels * height * width
            elif kind == "GlobalAveragePooling2D":
                features = channels
            elif kind == "Dense":
                self.add_module(name, nn.Linear(features, options["units"]))
                features = options["units"]
            elif kind != "Activation":
                raise ValueError("unknown layer kind %s" % kind)

    def forward(self, x):
        for name, (kind, options) in self.layer_specs:
            if kind in ("Conv2D", "BatchNormalization", "Dropout"):
                x = getattr(self, name)(x)
            elif kind == "Dense":
                x = getattr(self, name)(x)  # a final softmax is left out: see above
            elif kind == "MaxPooling2D":
                x = F.max_pool2d(x, options["pool"])
            elif kind == "Flatten":
                x = torch.flatten(x, 1)
            elif kind == "GlobalAveragePooling2D":
                # adaptive pooling to 1x1 exports as ONNX GlobalAveragePool
                x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
            if options.get("activation") == "relu":
                x = F.relu(x)
        return x


class SoftmaxHead(nn.Module):
    """The exported function: the network plus its final softmax, as Keras's
    Dense(activation="softmax") computes it. Keeps DemoNet's module names."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return F.softmax(self.net(x), dim=1)


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def train(name, data, log):
    spec = MODEL_SPECS[name]
    seed_everything(spec["seed"])
    net = DemoNet(spec["layers"])
    images = to_model_input(data["train_images"])
    labels = torch.from_numpy(data["train_labels"].astype(np.int64))
    count = images.shape[0]
    steps_per_epoch = (count + BATCH_SIZE - 1) // BATCH_SIZE
    optimizer = torch.optim.Adam(net.parameters(), lr=spec["max_lr"] / 25)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=spec["max_lr"], total_steps=spec["epochs"] * steps_per_epoch)
    shuffle = torch.Generator().manual_seed(spec["seed"] + 1)
    for epoch in range(spec["epochs"]):
        net.train()
        order = torch.randperm(count, generator=shuffle)
        loss_sum = 0.0
        for start in range(0, count, BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            loss = F.cross_entropy(net(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item() * len(batch)
        log("  %s epoch %d/%d: mean training loss %.4f"
            % (name, epoch + 1, spec["epochs"], loss_sum / count))
    net.eval()
    return net


def predict(net, images_uint8):
    """Softmax probabilities, float32 N x 10, in batches."""
    net.eval()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images_uint8), 1000):
            logits = net(to_model_input(images_uint8[start:start + 1000]))
            outputs.append(F.softmax(logits, dim=1).numpy())
    return np.concatenate(outputs)


def accuracy(net, images, labels):
    return float(np.mean(predict(net, images).argmax(axis=1) == labels))


def parameter_count(net):
    """Keras counts BatchNormalization's moving statistics as (non-trainable)
    parameters; so do we, to match model.summary()."""
    trainable = sum(p.numel() for p in net.parameters())
    moving = sum(b.numel() for n, b in net.named_buffers() if "running_" in n)
    return {"total": trainable + moving, "trainable": trainable, "non_trainable": moving}


# ---------------------------------------------------------------- torch -> Keras weights

def keras_weights(net):
    """[(layer_name, class_name, [(short_name, ndarray in Keras layout)])] for
    every layer, in model order (weightless layers get an empty list)."""
    result = []
    for name, (kind, options) in net.layer_specs:
        arrays = []
        if kind == "Conv2D":
            conv = getattr(net, name)
            # torch OIHW -> Keras HWIO (both are cross-correlations).
            arrays.append(("kernel", conv.weight.detach().numpy().transpose(2, 3, 1, 0)))
            if conv.bias is not None:
                arrays.append(("bias", conv.bias.detach().numpy()))
        elif kind == "BatchNormalization":
            bn = getattr(net, name)
            arrays += [("gamma", bn.weight.detach().numpy()),
                       ("beta", bn.bias.detach().numpy()),
                       ("moving_mean", bn.running_mean.numpy()),
                       ("moving_variance", bn.running_var.numpy())]
        elif kind == "Dense":
            dense = getattr(net, name)
            kernel = dense.weight.detach().numpy()  # (out, in)
            if net.flatten_chw is not None and kernel.shape[1] == int(np.prod(net.flatten_chw)):
                # torch flattens C,H,W; Keras flattens H,W,C. Reorder the
                # input rows so the Keras model computes the same function.
                channels, height, width = net.flatten_chw
                kernel = kernel.reshape(-1, channels, height, width).transpose(0, 2, 3, 1)
                kernel = kernel.reshape(kernel.shape[0], -1)
            arrays += [("kernel", kernel.T), ("bias", dense.bias.detach().numpy())]
        result.append((name, kind, [(n, np.ascontiguousarray(a, dtype=np.float32))
                                    for n, a in arrays]))
    return result


# ---------------------------------------------------------------- Keras configs
# The layer and model configs are written by scripts/fixture_writers.py (shared
# with the Keras fixture script); the demo adds its BatchNormalization
# parameters (torch's, as Keras writes them) and its fixed policy id.

def _keras_layers(layers):
    return [(kind, dict(options, momentum=1.0 - BN_TORCH_MOMENTUM, epsilon=BN_EPSILON)
             if kind == "BatchNormalization" else options) for kind, options in layers]


def keras2_model_config(layers):
    return fixture_writers.keras2_sequential_config(_keras_layers(layers), keras_layer_names(layers),
                                                    INPUT_SHAPE_HWC)


def keras3_model_config(layers):
    return fixture_writers.keras3_sequential_config(_keras_layers(layers), keras_layer_names(layers),
                                                    INPUT_SHAPE_HWC, KERAS3_SHARED_POLICY_ID)


# ---------------------------------------------------------------- numpy reference (NHWC)

def keras_reference_forward(layers, weights, images_uint8):
    """The Keras model's function in float64 numpy, NHWC, computed only from
    the arrays we write into the Keras files. Independent of torch."""
    x = images_uint8.astype(np.float64)[..., None] / 255.0
    for (kind, options), (_, _, arrays) in zip(layers, weights):
        named = {n: a.astype(np.float64) for n, a in arrays}
        if kind == "Conv2D":
            kernel = named["kernel"]
            size = kernel.shape[0]
            if options["padding"] == "same":
                pad = size // 2
                x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            out_h, out_w = x.shape[1] - size + 1, x.shape[2] - size + 1
            out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
            for dy in range(size):
                for dx in range(size):
                    out += x[:, dy:dy + out_h, dx:dx + out_w, :] @ kernel[dy, dx]
            if "bias" in named:
                out += named["bias"]
            x = out
        elif kind == "BatchNormalization":
            x = ((x - named["moving_mean"]) / np.sqrt(named["moving_variance"] + BN_EPSILON)
                 * named["gamma"] + named["beta"])
        elif kind == "MaxPooling2D":
            p = options["pool"]
            n, h, w, c = x.shape
            x = x[:, :h // p * p, :w // p * p, :].reshape(n, h // p, p, w // p, p, c).max(axis=(2, 4))
        elif kind == "Flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "GlobalAveragePooling2D":
            x = x.mean(axis=(1, 2))
        elif kind == "Dense":
            x = x @ named["kernel"] + named["bias"]
        activation = options.get("activation")
        if activation == "relu":
            x = np.maximum(x, 0.0)
        elif activation == "softmax":
            e = np.exp(x - x.max(axis=1, keepdims=True))
            x = e / e.sum(axis=1, keepdims=True)
    return x


# ---------------------------------------------------------------- writers

def write_keras_files(name, net, folder):
    layers = MODEL_SPECS[name]["layers"]
    weights = keras_weights(net)
    keras_layout.write_keras2_h5(
        os.path.join(folder, "fashion_%s.h5" % name),
        keras2_model_config(layers),
        [(layer, [("%s/%s:0" % (layer, short), array) for short, array in arrays])
         for layer, _, arrays in weights],
        keras_version=KERAS2_VERSION, backend="tensorflow")
    keras_layout.write_keras_v3(
        os.path.join(folder, "fashion_%s.keras" % name),
        keras3_model_config(layers),
        [("layers/%s" % layer, layer, [array for _, array in arrays])
         for layer, _, arrays in weights],
        keras_version=KERAS3_VERSION)
    return weights


def write_onnx(name, net, folder):
    path = os.path.join(folder, "fashion_%s.onnx" % name)
    net.eval()
    example = torch.zeros(1, 1, 28, 28)
    # PRESERVE (with the model in eval mode) keeps BatchNormalization as its
    # own node with torch's parameters; EVAL would fold it into the Conv
    # weights, and the viewer should show the network as it was trained.
    torch.onnx.export(SoftmaxHead(net), example, path, opset_version=ONNX_OPSET,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False,
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}})
    return path


def torch_parameters(net):
    """name -> array for every parameter and BatchNorm statistic (not the
    step counter), keyed as in the exported graph (under SoftmaxHead.net)."""
    return {"net." + key: value.detach().numpy() for key, value in net.state_dict().items()
            if not key.endswith("num_batches_tracked")}


def check_onnx_initializers(path, net):
    model = onnx.load(path)
    onnx.checker.check_model(model)
    initializers = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    expected = torch_parameters(net)
    if set(expected) - set(initializers):
        raise AssertionError("%s lacks initializers %s (has %s)"
                             % (path, sorted(set(expected) - set(initializers)), sorted(initializers)))
    for key, value in expected.items():
        if initializers[key].shape != value.shape or not np.array_equal(initializers[key], value):
            raise AssertionError("%s: initializer %s differs from torch" % (path, key))
    return len(expected)


def load_net_from_onnx(name, path):
    """The deep model's parameters back from a shipped ONNX file (quick --check)."""
    net = DemoNet(MODEL_SPECS[name]["layers"])
    model = onnx.load(path)
    initializers = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    state = net.state_dict()
    for key in state:
        if key.endswith("num_batches_tracked"):
            continue
        state[key] = torch.from_numpy(initializers["net." + key].copy())
    net.load_state_dict(state)
    net.eval()
    return net


# ---------------------------------------------------------------- sample images

def choose_samples(test_labels):
    """The first SAMPLES_PER_CLASS test images of each class (in dataset
    order), grouped by class: no randomness, easy to audit."""
    indices = []
    for label in range(len(CLASS_NAMES)):
        indices += [int(i) for i in np.flatnonzero(test_labels == label)[:SAMPLES_PER_CLASS]]
    return indices


def write_sample_sprite(folder, data, indices):
    images = data["test_images"][indices]
    labels = [int(v) for v in data["test_labels"][indices]]
    rows = (len(indices) + SPRITE_COLUMNS - 1) // SPRITE_COLUMNS
    sprite = np.zeros((rows * 28, SPRITE_COLUMNS * 28), np.uint8)
    for tile, image in enumerate(images):
        y, x = divmod(tile, SPRITE_COLUMNS)
        sprite[y * 28:(y + 1) * 28, x * 28:(x + 1) * 28] = image
    png_path = os.path.join(folder, "fashion_samples.png")
    write_png(png_path, sprite)
    if not np.array_equal(read_png(png_path), sprite):
        raise AssertionError("the sprite PNG does not decode to its pixels")
    description = {
        "image": "fashion_samples.png",
        "pixel_format": "8-bit grayscale, 0 = background; model input is value / 255",
        "tile_width": 28,
        "tile_height": 28,
        "columns": SPRITE_COLUMNS,
        "rows": rows,
        "count": len(indices),
        "tile_order": "row-major: tile t is at column t % columns, row t // columns",
        "class_names": CLASS_NAMES,
        "labels": labels,
        "source": {
            "dataset": "Fashion-MNIST test set (Zalando Research), MIT licence",
            "debian_package": "dataset-fashion-mnist",
            "files": {k: v for k, v in data["file_sha256"].items() if k.startswith("t10k")},
            "selection": "the first %d test images of each class, in class order"
                         % SAMPLES_PER_CLASS,
            "test_indices": indices,
        },
    }
    write_json(os.path.join(folder, "fashion_samples.json"), description, compact_lists=True)


def _supersampled(mask_function, size, factor=4):
    """Anti-aliased coverage in [0, 1] of a shape given as f(x, y) -> bool
    on [0, 1]^2 coordinates (y down)."""
    coords = (np.arange(size * factor) + 0.5) / (size * factor)
    x, y = np.meshgrid(coords, coords)
    mask = mask_function(x, y).astype(np.float64)
    return mask.reshape(size, factor, size, factor).mean(axis=(1, 3))


def _composite(background, coverage, color):
    return background * (1 - coverage[..., None]) + np.asarray(color, np.float64) * coverage[..., None]


def draw_rgb_images(size=96):
    """Small pictures for trying RGB-input models, drawn from geometry only
    (no photographs, so no licence attached)."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1.0)
    pictures = {}

    # A sneaker seen from the side, toe to the right: sole, upper with an
    # ankle opening and laces, on a soft sky-to-floor background.
    background = np.stack([0.75 + 0.2 * yy, 0.82 + 0.1 * yy, 0.95 - 0.25 * yy], axis=-1) * 255
    top_x = [0.10, 0.14, 0.22, 0.32, 0.40, 0.60, 0.80, 0.92]
    top_y = [0.56, 0.34, 0.38, 0.40, 0.31, 0.44, 0.52, 0.62]
    upper = _supersampled(lambda x, y: (x > 0.10) & (x < 0.92)
                          & (y > np.interp(x, top_x, top_y)) & (y < 0.67), size)
    sole = _supersampled(lambda x, y: (y > 0.66) & (y < 0.74) & (x > 0.08) & (x < 0.94), size)
    laces = _supersampled(lambda x, y: (np.mod((x - 0.42) * 14, 1) < 0.3) & (x > 0.42) & (x < 0.64)
                          & (y > np.interp(x, top_x, top_y) + 0.01)
                          & (y < np.interp(x, top_x, top_y) + 0.07), size)
    swoosh = _supersampled(lambda x, y: (np.abs(y - (0.6 - 0.25 * (x - 0.3) ** 2 * 4)) < 0.015)
                           & (x > 0.3) & (x < 0.75), size)
    image = _composite(background, upper, (200, 40, 45))
    image = _composite(image, laces, (245, 245, 240))
    image = _composite(image, swoosh, (250, 250, 250))
    image = _composite(image, sole, (250, 250, 250))
    image = _composite(image, _supersampled(lambda x, y: (y > 0.735) & (y < 0.76)
                                            & (x > 0.08) & (x < 0.94), size), (60, 60, 60))
    pictures["rgb_shoe.png"] = image

    # A T-shirt: body, sleeves and a collar cut-out on a wooden-ish backdrop.
    grain = 0.06 * np.sin(xx * 40 + 3 * np.sin(yy * 7))
    background = np.stack([0.62 + grain, 0.45 + grain, 0.3 + grain], axis=-1) * 255
    body = _supersampled(lambda x, y: (x > 0.3) & (x < 0.7) & (y > 0.2) & (y < 0.88), size)
    sleeves = _supersampled(lambda x, y: (y > 0.2) & (y < 0.45)
                            & (np.abs(x - 0.5) < 0.2 + 0.6 * (y - 0.2))
                            & (np.abs(x - 0.5) > 0.12)
                            & (y - 0.2 < 0.25 - 0.55 * (np.abs(x - 0.5) - 0.2)), size)
    collar = _supersampled(lambda x, y: ((x - 0.5) / 0.1) ** 2 + ((y - 0.2) / 0.07) ** 2 < 1, size)
    shirt = np.clip(np.maximum(body, sleeves) - collar, 0, 1)
    image = _composite(background, shirt, (40, 90, 180))
    stripe = _supersampled(lambda x, y: (np.mod(y * 12, 1) < 0.3) & (y > 0.3), size)
    image = _composite(image, shirt * stripe, (235, 235, 240))
    pictures["rgb_shirt.png"] = image

    # Stripes in four orientations: each quadrant excites different edge kernels.
    quadrants = np.zeros((size, size))
    half = size // 2
    q = np.arange(half)
    qy, qx = np.meshgrid(q, q, indexing="ij")
    quadrants[:half, :half] = (qx // 4) % 2
    quadrants[:half, half:] = (qy // 4) % 2
    quadrants[half:, :half] = ((qx + qy) // 6) % 2
    quadrants[half:, half:] = ((qx - qy + size) // 6) % 2
    pictures["rgb_stripes.png"] = np.stack([quadrants * 255, quadrants * 220 + 20,
                                            quadrants * 40 + 30], axis=-1)

    # Hard edges: a square, a disc and a triangle in primary colours on black.
    image = np.zeros((size, size, 3))
    image = _composite(image, _supersampled(lambda x, y: (x > 0.08) & (x < 0.42)
                                            & (y > 0.08) & (y < 0.42), size), (230, 30, 30))
    image = _composite(image, _supersampled(lambda x, y: (x - 0.72) ** 2 + (y - 0.3) ** 2
                                            < 0.2 ** 2, size), (30, 200, 40))
    image = _composite(image, _supersampled(lambda x, y: (y < 0.92) & (y > 0.55)
                                            & (np.abs(x - 0.5) < (y - 0.55) * 0.9), size),
                       (40, 80, 240))
    pictures["rgb_shapes.png"] = image

    # Smooth gradients: red left-to-right, green top-to-bottom, blue diagonal.
    pictures["rgb_gradient.png"] = np.stack([xx, yy, 1 - (xx + yy) / 2], axis=-1) * 255

    return {name: np.clip(np.round(p), 0, 255).astype(np.uint8) for name, p in pictures.items()}


# ---------------------------------------------------------------- output helpers

def write_json(path, value, compact_lists=False):
    """JSON in insertion order with a two-space indent; with compact_lists,
    long integer lists stay on one line so the file stays small."""
    text = json.dumps(value, indent=2)
    if compact_lists:
        placeholder = {}

        def shrink(v):
            if isinstance(v, dict):
                return {k: shrink(x) for k, x in v.items()}
            if isinstance(v, list) and len(v) > 20 and all(isinstance(i, int) for i in v):
                key = "@@list%d@@" % len(placeholder)
                placeholder[key] = json.dumps(v, separators=(",", ":"))
                return key
            return v
        text = json.dumps(shrink(value), indent=2)
        for key, dumped in placeholder.items():
            text = text.replace('"%s"' % key, dumped)
    with open(path, "w") as f:
        f.write(text + "\n")


def generated_files(out_dir):
    names = []
    for sub in ("models", "images"):
        for entry in sorted(os.listdir(os.path.join(out_dir, sub))):
            # Sub-folders (images/photos/) come from other scripts.
            if entry != "SHA256SUMS" and os.path.isfile(os.path.join(out_dir, sub, entry)):
                names.append("%s/%s" % (sub, entry))
    return names


def write_checksums(out_dir):
    lines = ["%s  %s\n" % (sha256_of(os.path.join(out_dir, name)), name)
             for name in generated_files(out_dir)]
    with open(os.path.join(out_dir, "models", "SHA256SUMS"), "w") as f:
        f.writelines(lines)


def read_checksums(out_dir):
    sums = {}
    with open(os.path.join(out_dir, "models", "SHA256SUMS")) as f:
        for line in f:
            digest, name = line.rstrip("\n").split("  ", 1)
            sums[name] = digest
    return sums


# ---------------------------------------------------------------- main steps

def export_model(name, net, data, sample_indices, out_dir, log):
    """Writes the three files of one model after proving they agree with
    torch, and returns its metrics.json entry."""
    folder = os.path.join(out_dir, "models")
    weights = write_keras_files(name, net, folder)
    probe = data["test_images"][:16]
    reference = keras_reference_forward(MODEL_SPECS[name]["layers"], weights, probe)
    torch_out = predict(net, probe)
    difference = float(np.max(np.abs(reference - torch_out)))
    if difference > 1e-5:
        raise AssertionError("%s: Keras-layout numpy forward differs from torch by %g"
                             % (name, difference))
    onnx_path = write_onnx(name, net, folder)
    checked = check_onnx_initializers(onnx_path, net)
    log("  %s: Keras NHWC reference vs torch max |diff| %.2e; %d ONNX initializers equal torch"
        % (name, difference, checked))
    spec = MODEL_SPECS[name]
    test_images, test_labels = data["test_images"], data["test_labels"]
    return {
        "files": ["fashion_%s.h5" % name, "fashion_%s.keras" % name, "fashion_%s.onnx" % name],
        "input": "float32 image in [0, 1] (pixel / 255); Keras NHWC (N, 28, 28, 1), "
                 "ONNX NCHW (N, 1, 28, 28) named 'input'",
        "output": "softmax probabilities over class_names (ONNX output 'probabilities')",
        "parameters": parameter_count(net),
        "test_accuracy": round(accuracy(net, test_images, test_labels), 4),
        "test_images": int(len(test_labels)),
        "sample_accuracy": round(accuracy(net, test_images[sample_indices],
                                          test_labels[sample_indices]), 4),
        "sample_images": len(sample_indices),
        "training": {"seed": spec["seed"], "epochs": spec["epochs"], "batch_size": BATCH_SIZE,
                     "optimizer": "Adam, one-cycle learning rate up to %g" % spec["max_lr"],
                     "loss": "cross-entropy", "augmentation": "none",
                     "train_images": int(len(data["train_labels"]))},
        "keras_numpy_vs_torch_max_abs_diff_below": 1e-5,
    }


def generate(out_dir, retrain_deep, log, deep_onnx_source=None):
    torch.set_num_threads(TORCH_THREADS)
    torch.use_deterministic_algorithms(True)
    os.makedirs(os.path.join(out_dir, "models"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    data = load_dataset()
    sample_indices = choose_samples(data["test_labels"])
    metrics = {
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist)",
        "class_names": CLASS_NAMES,
        "sample_set": "images/fashion_samples.json",
        "software": {"torch": torch.__version__.split("+")[0], "numpy": np.__version__,
                     "onnx_opset": ONNX_OPSET, "torch_threads": TORCH_THREADS},
        "models": {},
    }
    for name in ("small", "deep"):
        if name == "deep" and not retrain_deep:
            log("  deep: parameters loaded from %s (no retraining)" % deep_onnx_source)
            net = load_net_from_onnx(name, deep_onnx_source)
        else:
            net = train(name, data, log)
        metrics["models"][name] = export_model(name, net, data, sample_indices, out_dir, log)
        log("  %s: test accuracy %.4f, sample accuracy %.4f" % (
            name, metrics["models"][name]["test_accuracy"],
            metrics["models"][name]["sample_accuracy"]))
    write_json(os.path.join(out_dir, "models", "metrics.json"), metrics)
    write_sample_sprite(os.path.join(out_dir, "images"), data, sample_indices)
    for file_name, pixels in draw_rgb_images().items():
        write_png(os.path.join(out_dir, "images", file_name), pixels)
    write_checksums(out_dir)


def check(assets_dir, full, log):
    expected = read_checksums(assets_dir)
    problems = []
    for name, digest in expected.items():
        path = os.path.join(assets_dir, name)
        if not os.path.exists(path):
            problems.append("%s: listed in SHA256SUMS but missing" % name)
        elif sha256_of(path) != digest:
            problems.append("%s: shipped file does not match SHA256SUMS" % name)
    with tempfile.TemporaryDirectory(prefix="convscope_demo_") as scratch:
        generate(scratch, retrain_deep=full, log=log,
                 deep_onnx_source=os.path.join(assets_dir, "models", "fashion_deep.onnx"))
        regenerated = read_checksums(scratch)
        for name in sorted(set(expected) | set(regenerated)):
            if expected.get(name) != regenerated.get(name):
                problems.append("%s: regenerated sha256 %s, shipped %s"
                                % (name, regenerated.get(name), expected.get(name)))
    for problem in problems:
        log("MISMATCH " + problem)
    log("check %s: %d files compared, %d mismatches"
        % ("FAILED" if problems else "passed", len(expected), len(problems)))
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "assets"),
                        help="assets folder to write or check (default: the repo's assets/)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary folder and compare sha256")
    parser.add_argument("--full", action="store_true",
                        help="with --check: retrain the deep model too")
    args = parser.parse_args()

    def log(message):
        print(message, flush=True)

    if args.check:
        sys.exit(0 if check(args.out, args.full, log) else 1)
    generate(args.out, retrain_deep=True, log=log)
    log("wrote %s" % args.out)


if __name__ == "__main__":
    main()
