#!/usr/bin/python3
"""Checks that `convscope weights MODEL --layer NAME --out DIR` writes .npy
files numpy.load returns exactly: same dtype, shape and values as h5py reads
from the model file (weight_names layouts: Keras 1/2 full and weights-only).

    /usr/bin/python3 scripts/check_keras_weights_npy.py build/<name>/convscope
Exits non-zero on the first mismatch.
"""

import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["tests/fixtures/keras/sequential_k2.h5", "tests/fixtures/keras/weights_k2.h5",
         "tests/fixtures/keras/weights_k1.h5", "tests/fixtures/keras/functional_k2.h5",
         "../shared/corpus/N-Harish_onnx_converted_model__mnist.h5"]


def names(attrs, key):
    if key in attrs:
        return [n.decode() if isinstance(n, bytes) else n for n in attrs[key]]
    out, chunk = [], 0
    while "%s%d" % (key, chunk) in attrs:
        out += [n.decode() if isinstance(n, bytes) else n for n in attrs["%s%d" % (key, chunk)]]
        chunk += 1
    return out


def main():
    convscope = sys.argv[1]
    checked = 0
    for relative in FILES:
        path = os.path.join(ROOT, relative)
        with h5py.File(path, "r") as f:
            group = f["model_weights"] if "model_weights" in f else f
            for layer in names(group.attrs, "layer_names"):
                weight_names = names(group[layer].attrs, "weight_names")
                if not weight_names:
                    continue
                with tempfile.TemporaryDirectory() as out:
                    subprocess.run([convscope, "weights", path, "--layer", layer, "--out", out], check=True,
                                   stdout=subprocess.DEVNULL)
                    for weight in weight_names:
                        file_name = re.sub(r"[^A-Za-z0-9._-]", "_", weight)
                        loaded = np.load(os.path.join(out, file_name + ".npy"))
                        original = group[layer][weight][()]
                        if loaded.dtype != original.dtype or loaded.shape != original.shape or \
                                not np.array_equal(loaded, original):
                            sys.exit("%s %s %s: numpy.load gives %s %s, the file holds %s %s" % (
                                relative, layer, weight, loaded.dtype, loaded.shape, original.dtype, original.shape))
                        checked += 1
    print("ok: %d arrays identical after numpy.load" % checked)


if __name__ == "__main__":
    main()
