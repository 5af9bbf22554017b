#!/usr/bin/python3
"""Writes opset-versioned ONNX fixtures into tests/fixtures/onnx_opset/.

Run with Debian's interpreter, then compute the expected outputs with
onnxruntime-web (the reference):
    /usr/bin/python3 scripts/make_onnx_opset_fixtures.py
    node scripts/onnx_opset_expected.mjs

Each case is one small model whose meaning depends on the opset it imports
(ONNX changed where an op's axes/bounds/scales live, and Softmax's axis
semantics, between opsets). The script writes, per case NAME:
    NAME.onnx       the model (runtime input "x", everything else initializers)
    NAME_in.npy     a random float32 input (numpy seed SEED)
and cases.json listing the cases with their output names. The .mjs adds
NAME_out<i>.npy per output, computed by onnxruntime-web.

Cases:
  softmax / log_softmax / hardmax at opsets 11 and 13 on (1,3,2,2) with no
      axis attribute: opset 11 flattens from axis 1 (12 values), 13 runs on the last axis
  resize at 10 (scales input 1, asymmetric), 11 (roi, scales, sizes at 1,2,3;
      half_pixel) and 13 (roi absent), nearest and linear
  upsample at 9 (scales input)
  split, unsqueeze, squeeze, reduce_sum with axes as an attribute (11) and as an input (13)
  clip at 6 (min/max attributes) and 11/13 (inputs, one absent)
  pad at 2 (pads attribute) and 11 (pads input)
  slice at 9 (starts/ends/axes attributes) and 13 (inputs, negative step)
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20261202
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx_opset")
rng = np.random.default_rng(SEED)


def model(name, opset, nodes, input_shape, outputs, initializers=()):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in initializers])
    m = helper.make_model(graph, producer_name="convscope-opset-fixtures",
                          opset_imports=[helper.make_opsetid("", opset)])
    # Old opsets need an IR version onnxruntime accepts for them.
    m.ir_version = 7
    # (No onnx.checker: it wants output shapes; onnxruntime validates the models.)
    return m


def ints(values):
    return np.asarray(values, dtype=np.int64)


def floats(values):
    return np.asarray(values, dtype=np.float32)


def cases():
    s4 = (1, 3, 2, 2)
    img = (1, 2, 3, 4)
    out = []
    for op in ("Softmax", "LogSoftmax", "Hardmax"):
        for opset in (11, 13):
            name = f"{op.lower()}_opset{opset}"
            out.append((name, model(name, opset, [helper.make_node(op, ["x"], ["y"])], s4, ["y"])))
    out.append(("softmax_axis2_opset11", model("softmax_axis2_opset11", 11,
               [helper.make_node("Softmax", ["x"], ["y"], axis=2)], s4, ["y"])))

    out.append(("resize_nearest_opset10", model("r", 10, [helper.make_node("Resize", ["x", "scales"], ["y"], mode="nearest")],
                img, ["y"], [("scales", floats([1, 1, 2, 1.5]))])))
    out.append(("resize_linear_opset10", model("r", 10, [helper.make_node("Resize", ["x", "scales"], ["y"], mode="linear")],
                img, ["y"], [("scales", floats([1, 1, 2, 2]))])))
    out.append(("resize_linear_opset11", model("r", 11, [helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="linear")],
                img, ["y"], [("roi", floats([])), ("scales", floats([1, 1, 2, 2]))])))
    out.append(("resize_nearest_sizes_opset11", model("r", 11,
                [helper.make_node("Resize", ["x", "roi", "scales", "sizes"], ["y"], mode="nearest")],
                img, ["y"], [("roi", floats([])), ("scales", floats([])), ("sizes", ints([1, 2, 5, 7]))])))
    out.append(("resize_linear_opset13", model("r", 13, [helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear")],
                img, ["y"], [("scales", floats([1, 1, 1.5, 0.5]))])))
    out.append(("resize_nearest_sizes_opset13", model("r", 13,
                [helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest",
                                  coordinate_transformation_mode="asymmetric", nearest_mode="floor")],
                img, ["y"], [("sizes", ints([1, 2, 6, 3]))])))
    out.append(("upsample_opset9", model("u", 9, [helper.make_node("Upsample", ["x", "scales"], ["y"], mode="nearest")],
                img, ["y"], [("scales", floats([1, 1, 2, 3]))])))

    out.append(("split_attribute_opset11", model("s", 11, [helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[1, 2])],
                s4, ["a", "b"])))
    out.append(("split_input_opset13", model("s", 13, [helper.make_node("Split", ["x", "split"], ["a", "b"], axis=1)],
                s4, ["a", "b"], [("split", ints([2, 1]))])))
    out.append(("split_equal_opset13", model("s", 13, [helper.make_node("Split", ["x"], ["a", "b"], axis=-1)], s4, ["a", "b"])))
    out.append(("unsqueeze_attribute_opset11", model("u", 11, [helper.make_node("Unsqueeze", ["x"], ["y"], axes=[0, -1])],
                s4, ["y"])))
    out.append(("unsqueeze_input_opset13", model("u", 13, [helper.make_node("Unsqueeze", ["x", "axes"], ["y"])],
                s4, ["y"], [("axes", ints([1]))])))
    out.append(("squeeze_attribute_opset11", model("q", 11, [helper.make_node("Squeeze", ["x"], ["y"], axes=[0])], s4, ["y"])))
    out.append(("squeeze_input_opset13", model("q", 13, [helper.make_node("Squeeze", ["x", "axes"], ["y"])],
                s4, ["y"], [("axes", ints([0]))])))
    out.append(("reduce_sum_attribute_opset11", model("r", 11,
                [helper.make_node("ReduceSum", ["x"], ["y"], axes=[1, 3], keepdims=0)], s4, ["y"])))
    out.append(("reduce_sum_input_opset13", model("r", 13, [helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)],
                s4, ["y"], [("axes", ints([2]))])))

    out.append(("clip_attributes_opset6", model("c", 6, [helper.make_node("Clip", ["x"], ["y"], min=-0.5, max=0.25)], s4, ["y"])))
    out.append(("clip_inputs_opset11", model("c", 11, [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])],
                s4, ["y"], [("lo", floats(-0.25).reshape(())), ("hi", floats(0.5).reshape(()))])))
    out.append(("clip_min_only_opset13", model("c", 13, [helper.make_node("Clip", ["x", "lo"], ["y"])],
                s4, ["y"], [("lo", floats(0.1).reshape(()))])))

    out.append(("pad_attribute_opset2", model("p", 2, [helper.make_node("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 0, 2, 1], value=0.5)],
                s4, ["y"])))
    out.append(("pad_input_opset11", model("p", 11, [helper.make_node("Pad", ["x", "pads", "value"], ["y"], mode="constant")],
                s4, ["y"], [("pads", ints([0, 0, 2, 1, 0, 0, 1, 2])), ("value", floats(-1.5).reshape(()))])))

    out.append(("slice_attributes_opset9", model("l", 9,
                [helper.make_node("Slice", ["x"], ["y"], starts=[1, -1], ends=[3, 10], axes=[1, 3])], s4, ["y"])))
    out.append(("slice_inputs_opset13", model("l", 13, [helper.make_node("Slice", ["x", "b", "e", "a", "s"], ["y"])],
                s4, ["y"], [("b", ints([2, 1])), ("e", ints([-10, 2])), ("a", ints([1, 2])), ("s", ints([-1, 1]))])))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    listing = []
    for name, m in cases():
        onnx.save(m, os.path.join(OUT, name + ".onnx"))
        shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
        np.save(os.path.join(OUT, name + "_in.npy"), rng.standard_normal(shape).astype(np.float32))
        listing.append({"name": name, "opset": m.opset_import[0].version, "outputs": [o.name for o in m.graph.output]})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"seed": SEED, "onnx": onnx.__version__, "cases": listing}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(listing)} cases to {OUT}")


if __name__ == "__main__":
    main()
