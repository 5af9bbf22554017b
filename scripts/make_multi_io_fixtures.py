#!/usr/bin/python3
"""Writes the several-inputs / several-outputs fixtures into tests/fixtures/onnx/multi_io/.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_multi_io_fixtures.py
(onnx 1.12, numpy; versions and the seed are recorded in multi_io.json).

Files:
  two_in_two_out.onnx   opset 13, helper-built: graph inputs "image" (1, 3, 8, 8) and
                        "gain" (1, 4, 1, 1), both float32 and both fed at run time;
                        Conv 3x3 pad 1 (initializer weights and bias) -> Mul by "gain"
                        -> Relu = output "features" (1, 4, 8, 8), then GlobalAveragePool
                        -> Flatten = output "head/scores" (1, 4) (a name with a '/',
                        which `convscope run --out DIR` writes as head_scores.npy)
  image.npy, gain.npy   the inputs (numpy.random.default_rng(SEED))
  image.pb              "image" as a serialized TensorProto with raw_data, as the ONNX
                        test suite stores inputs (tests/core/formats: read_onnx_tensor)
  indices.pb            an int64 TensorProto (2, 3) written with int64_data, not raw_data
  indices.npy           the same values
  multi_io.json         names, shapes, versions

The expected outputs are not written here: tests/js_api/cli_run.test.mjs runs
the model with onnxruntime-web and compares `convscope run`'s files with it.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20261202
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "tests", "fixtures", "onnx", "multi_io"))


def two_in_two_out(rng):
    weights = rng.standard_normal((4, 3, 3, 3)).astype(np.float32) * 0.5
    bias = rng.standard_normal(4).astype(np.float32) * 0.1
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["conv_out"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["conv_out", "gain"], ["scaled"], name="scale_by_gain"),
        helper.make_node("Relu", ["scaled"], ["features"], name="relu"),
        helper.make_node("GlobalAveragePool", ["features"], ["pooled"], name="pool"),
        helper.make_node("Flatten", ["pooled"], ["head/scores"], name="flatten"),
    ]
    graph = helper.make_graph(
        nodes, "two_in_two_out",
        inputs=[helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8]),
                helper.make_tensor_value_info("gain", TensorProto.FLOAT, [1, 4, 1, 1])],
        outputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 4, 8, 8]),
                 helper.make_tensor_value_info("head/scores", TensorProto.FLOAT, [1, 4])],
        initializer=[numpy_helper.from_array(weights, "conv.weight"), numpy_helper.from_array(bias, "conv.bias")])
    model = helper.make_model(graph, producer_name="convscope-fixtures", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(SEED)
    model = two_in_two_out(rng)
    onnx.save(model, os.path.join(OUT, "two_in_two_out.onnx"))
    image = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    gain = rng.uniform(-1.0, 2.0, (1, 4, 1, 1)).astype(np.float32)
    np.save(os.path.join(OUT, "image.npy"), image)
    np.save(os.path.join(OUT, "gain.npy"), gain)
    with open(os.path.join(OUT, "image.pb"), "wb") as f:
        f.write(numpy_helper.from_array(image, "image").SerializeToString())
    indices = np.array([[0, -1, 7], [2 ** 40, 3, -(2 ** 33)]], dtype=np.int64)
    typed = helper.make_tensor("indices", TensorProto.INT64, list(indices.shape), indices.flatten().tolist(), raw=False)
    with open(os.path.join(OUT, "indices.pb"), "wb") as f:
        f.write(typed.SerializeToString())
    np.save(os.path.join(OUT, "indices.npy"), indices)
    manifest = {
        "model": "two_in_two_out.onnx",
        "inputs": {"image": list(image.shape), "gain": list(gain.shape)},
        "outputs": {"features": [1, 4, 8, 8], "head/scores": [1, 4]},
        "output_files": {"features": "features.npy", "head/scores": "head_scores.npy"},
        "versions": {"onnx": onnx.__version__, "numpy": np.__version__, "python": sys.version.split()[0],
                     "seed": SEED, "generator": "scripts/make_multi_io_fixtures.py"},
    }
    with open(os.path.join(OUT, "multi_io.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
