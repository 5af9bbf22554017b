#!/usr/bin/python3
"""Writes the dataset and model-comparison fixtures (tests/fixtures/dataset/).

Run with Debian's Python (numpy, onnx; dataset-fashion-mnist):
    /usr/bin/python3 scripts/make_dataset_fixtures.py

What it writes, all from the first 200 Fashion-MNIST test images:
  fashion200/<class>/<index>.png   the ImageFolder layout ('/' in a class name becomes '_')
  fashion200.zip                   the same folder zipped (one top-level folder)
  fashion200.npz                   images uint8 [200, 28, 28] and labels int64 [200]
  labels.txt                       the ten class names, one a line
  small_dead.onnx                  the small demo model with conv1 filter 2 zeroed and its
                                   bias set to -1 (a channel that never fires), and conv2
                                   filters 3 and 7 perturbed by 10 % noise
  small_permuted.onnx              the small demo model with conv1's filters permuted
                                   (and conv2's input channels to match): the same function
  expected.json                    accuracy, top-5 and the confusion matrix of the demo
                                   model on the 200 images, computed here with numpy from
                                   the ONNX file's own weights (an independent forward pass),
                                   plus the facts the pair was built with
"""
import gzip
import io
import json
import os
import struct
import sys
import zipfile
import zlib

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "dataset")
MNIST = "/usr/share/datasets/fashion-mnist"
MODEL = os.path.join(ROOT, "assets", "models", "fashion_small.onnx")
COUNT = 200
PERMUTATION = [3, 0, 4, 1, 2]  # new filter i is old filter PERMUTATION[i]
DEAD_FILTER = 2
PERTURBED = [3, 7]
SEED = 1234


def read_idx(name):
    with gzip.open(os.path.join(MNIST, name)) as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def png_bytes(grey):
    """A greyscale 8-bit PNG, deterministic (fixed zlib level, no timestamps)."""
    h, w = grey.shape
    raw = b"".join(b"\x00" + grey[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def class_names():
    with open(os.path.join(ROOT, "assets", "models", "metrics.json")) as f:
        return json.load(f)["class_names"]


def conv2d(x, w, b):
    """NCHW valid convolution, stride 1 (the demo model's convs)."""
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    out = np.zeros((n, k, h - kh + 1, wd - kw + 1), dtype=np.float64)
    for dy in range(kh):
        for dx in range(kw):
            patch = x[:, :, dy:dy + h - kh + 1, dx:dx + wd - kw + 1]
            out += np.einsum("nchw,kc->nkhw", patch, w[:, :, dy, dx])
    return out + b[None, :, None, None]


def forward(weights, images):
    x = images.astype(np.float64)[:, None] / 255.0
    x = np.maximum(conv2d(x, weights["net.conv2d.weight"], weights["net.conv2d.bias"]), 0)
    x = np.maximum(conv2d(x, weights["net.conv2d_1.weight"], weights["net.conv2d_1.bias"]), 0)
    x = x.reshape(x.shape[0], -1)
    return x @ weights["net.dense.weight"].T + weights["net.dense.bias"]


def write_model(model, weights, path):
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for init in copy.graph.initializer:
        if init.name in weights:
            init.CopyFrom(numpy_helper.from_array(weights[init.name].astype(np.float32), init.name))
    with open(path, "wb") as f:
        f.write(copy.SerializeToString())


def main():
    images = read_idx("t10k-images-idx3-ubyte.gz")[:COUNT]
    labels = read_idx("t10k-labels-idx1-ubyte.gz")[:COUNT].astype(np.int64)
    names = class_names()
    folders = [n.replace("/", "_") for n in names]
    os.makedirs(OUT, exist_ok=True)
    folder_root = os.path.join(OUT, "fashion200")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (image, label) in enumerate(zip(images, labels)):
            relative = os.path.join(folders[label], "%03d.png" % i)
            os.makedirs(os.path.join(folder_root, folders[label]), exist_ok=True)
            data = png_bytes(image)
            with open(os.path.join(folder_root, relative), "wb") as f:
                f.write(data)
            info = zipfile.ZipInfo("fashion200/" + relative, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    with open(os.path.join(OUT, "fashion200.zip"), "wb") as f:
        f.write(buffer.getvalue())
    buffer = io.BytesIO()
    np.savez(buffer, images=images, labels=labels)
    with open(os.path.join(OUT, "fashion200.npz"), "wb") as f:
        f.write(buffer.getvalue())
    with open(os.path.join(OUT, "labels.txt"), "w") as f:
        f.write("\n".join(names) + "\n")

    model = onnx.load(MODEL)
    weights = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    logits = forward(weights, images)
    predicted = logits.argmax(axis=1)
    top5 = np.argsort(-logits, axis=1, kind="stable")[:, :5]
    confusion = np.zeros((10, 10), dtype=np.int64)
    for t, p in zip(labels, predicted):
        confusion[t, p] += 1

    rng = np.random.default_rng(SEED)
    dead = {k: v.copy() for k, v in weights.items()}
    dead["net.conv2d.weight"][DEAD_FILTER] = 0.0
    dead["net.conv2d.bias"][DEAD_FILTER] = -1.0
    for f in PERTURBED:
        w = dead["net.conv2d_1.weight"][f]
        dead["net.conv2d_1.weight"][f] = w + 0.1 * np.linalg.norm(w) / np.sqrt(w.size) * rng.standard_normal(w.shape)
    write_model(model, dead, os.path.join(OUT, "small_dead.onnx"))
    dead_predicted = forward(dead, images).argmax(axis=1)

    permuted = {k: v.copy() for k, v in weights.items()}
    permuted["net.conv2d.weight"] = weights["net.conv2d.weight"][PERMUTATION]
    permuted["net.conv2d.bias"] = weights["net.conv2d.bias"][PERMUTATION]
    permuted["net.conv2d_1.weight"] = weights["net.conv2d_1.weight"][:, PERMUTATION]
    write_model(model, permuted, os.path.join(OUT, "small_permuted.onnx"))
    permuted_predicted = forward(permuted, images).argmax(axis=1)

    expected = {
        "count": COUNT,
        "accuracy": float((predicted == labels).mean()),
        "top5": float(np.mean([labels[i] in top5[i] for i in range(COUNT)])),
        "confusion": confusion.tolist(),
        "predictions": predicted.tolist(),
        "labels": labels.tolist(),
        "dead_filter": DEAD_FILTER,
        "perturbed_filters": PERTURBED,
        "dead_agreement": float((dead_predicted == predicted).mean()),
        "permutation": PERMUTATION,
        "permuted_agreement": float((permuted_predicted == predicted).mean()),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("accuracy %.4f top5 %.4f dead agreement %.4f permuted agreement %.4f"
          % (expected["accuracy"], expected["top5"], expected["dead_agreement"], expected["permuted_agreement"]))


if __name__ == "__main__":
    sys.exit(main())
