#!/usr/bin/python3
"""Writes the ONNX reader fixtures into tests/fixtures/onnx/.

Run with Debian's interpreter: /usr/bin/python3 scripts/make_onnx_fixtures.py
(torch 1.13 and onnx 1.12 at the time of writing; the versions used are
recorded in every .json). Weights come from torch.manual_seed(SEED) and
numpy.random.default_rng(SEED).

For every model X.onnx the script writes X.json with what the onnx package
says about it: node count, op types and names in order, initializers (name,
shape, numpy dtype, element count, sum of values), graph inputs without
initializers and outputs with shapes (symbolic dims as -1), opsets, and the
output shape of every node from onnx.shape_inference (only fully known ones).
Files whose reading must fail get an "error" phrase instead.

It also writes corpus_expected.json for /work/shared/corpus/Baskov_PyTorch-__mnist-8.onnx
(read in place, never copied).

Models:
  lenet_opset11.onnx        conv/pool(ceil_mode)/flatten/gemm, initializers also listed as inputs
  lenet_opset13.onnx        same network, symbolic batch dim
  residual_opset11/13.onnx  conv, BatchNormalization, residual Add, Concat, GlobalAveragePool
  depthwise_opset9.onnx     grouped (depthwise) conv and Upsample
  depthwise_opset13.onnx    grouped (depthwise) conv and Resize
  typed_data.onnx           helper-built: float16/double/int8/uint8/int16/int32/bool/int64
                            tensors, float_data written unpacked, int64 shape constant,
                            Constant nodes, symbolic dims, a custom-domain node
  subgraph.onnx             an If node with GRAPH attributes and a STRING Constant
                            (both unsupported nodes, not errors)
  external_data.onnx        an initializer with external data (must fail, naming it)
  shapes.onnx               ConvTranspose, Pad (input pads), ceil_mode MaxPool, Transpose,
                            ReduceMean, Squeeze (input axes), Flatten axis 0, Reshape with -1,
                            batched MatMul, Concat axis -1, Gemm transA (two Gemms
                            sharing one initializer),
                            Resize with sizes, SAME_UPPER AveragePool
  unordered.onnx            nodes out of topological order and an undefined input (warnings)
  cycle.onnx                two nodes feeding each other (must fail)
"""
import io
import json
import os
import struct
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper, shape_inference

SEED = 1234
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "tests", "fixtures", "onnx"))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "corpus", "Baskov_PyTorch-__mnist-8.onnx"))
VERSIONS = {"torch": torch.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0], "seed": SEED, "generator": "scripts/make_onnx_fixtures.py"}


# ---- torch models --------------------------------------------------------------

class LeNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 5)
        self.pool1 = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(4, 8, 3)
        self.pool2 = torch.nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.fc = torch.nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):  # 1x1x17x17 -> 13 -> 6 -> 4 -> ceil((4-3)/2)+1 = 2
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


class Residual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.body = torch.nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.left = torch.nn.Conv2d(8, 4, 1)
        self.right = torch.nn.Conv2d(8, 4, 3, stride=2, padding=1)
        self.up = torch.nn.Upsample(scale_factor=2, mode="nearest")
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        # BatchNorm after ReLU so export keeps it as a node instead of folding it into the conv.
        stem = self.bn(torch.relu(self.stem(x)))
        y = torch.relu(self.body(stem)) + stem
        y = torch.cat([self.left(y), self.up(self.right(y))], dim=1)
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1)
        return self.fc(torch.flatten(y, 1))


class Depthwise(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.expand = torch.nn.Conv2d(3, 6, 1)
        self.depthwise = torch.nn.Conv2d(6, 6, 3, padding=1, groups=6)
        self.pointwise = torch.nn.Conv2d(6, 4, 1)
        self.pool = torch.nn.AvgPool2d(2)
        self.up = torch.nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x):
        x = torch.nn.functional.relu6(self.expand(x))
        x = self.pointwise(torch.relu(self.depthwise(x)))
        return self.up(self.pool(x)) * 0.5


def randomize_batchnorm(module, rng):
    for layer in module.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.running_mean.copy_(torch.from_numpy(rng.standard_normal(layer.num_features).astype("f4")))
            layer.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, layer.num_features).astype("f4")))


def export(module, example, opset, keep_initializers_as_inputs=False, dynamic_batch=False):
    module.eval()
    buffer = io.BytesIO()
    dynamic_axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(module, example, buffer, opset_version=opset, input_names=["input"],
                      output_names=["output"], keep_initializers_as_inputs=keep_initializers_as_inputs,
                      dynamic_axes=dynamic_axes, do_constant_folding=True)
    model = onnx.load_from_string(buffer.getvalue())
    # The reader's own shape inference is under test, so the file must not
    # already carry intermediate shapes for it to fall back on.
    del model.graph.value_info[:]
    return model


# ---- helper-built models -------------------------------------------------------

def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, wire_type, payload):
    tag = varint((number << 3) | wire_type)
    if wire_type == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


def unpacked_float_tensor(name, array):
    """TensorProto bytes with float_data written one field per element (the
    unpacked encoding onnx's own writer never produces)."""
    out = b"".join(field(1, 0, varint(d)) for d in array.shape)
    out += field(2, 0, varint(TensorProto.FLOAT))
    out += b"".join(field(4, 5, struct.pack("<f", v)) for v in array.reshape(-1).tolist())
    out += field(8, 2, name.encode())
    return out


def typed_data_model(rng):
    conv_w = rng.standard_normal((2, 2, 3, 3)).astype("f4")
    conv_b = rng.standard_normal(2).astype("f4")
    fc_w = rng.standard_normal((32, 3)).astype("f4")
    initializers = [
        numpy_helper.from_array(conv_b, "conv_b"),
        numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "flat_shape"),
        helper.make_tensor("scale_f16", TensorProto.FLOAT16, [4], rng.standard_normal(4).astype(np.float16).tobytes(),
                           raw=True),
        helper.make_tensor("scale_f64", TensorProto.DOUBLE, [3], rng.standard_normal(3).tolist()),
        helper.make_tensor("codes_i8", TensorProto.INT8, [5], [-128, -1, 0, 7, 127]),
        numpy_helper.from_array(np.arange(6, dtype=np.uint8).reshape(2, 3), "codes_u8"),
        helper.make_tensor("codes_i16", TensorProto.INT16, [2], [-300, 300]),
        helper.make_tensor("codes_i32", TensorProto.INT32, [3], [-70000, 0, 70000]),
        helper.make_tensor("mask_bool", TensorProto.BOOL, [4], [True, False, True, True]),
        helper.make_tensor("axes_i64", TensorProto.INT64, [1], [1]),
    ]
    nodes = [
        helper.make_node("Conv", ["X", "conv_w", "conv_b"], ["conv"], name="conv", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["conv"], ["relu"], name=""),  # unnamed: the reader names it
        helper.make_node("Reshape", ["relu", "flat_shape"], ["flat"], name="flatten"),
        helper.make_node("Constant", [], ["fc_w"], name="fc_weight",
                         value=numpy_helper.from_array(fc_w, "fc_w_value")),
        helper.make_node("MatMul", ["flat", "fc_w"], ["logits"], name="fc"),
        helper.make_node("Constant", [], ["offsets"], name="offsets", value_floats=[0.5, -0.5, 0.25]),
        helper.make_node("Add", ["logits", "offsets"], ["shifted"], name="shift"),
        helper.make_node("Unsqueeze", ["shifted", "axes_i64"], ["expanded"], name="expand"),
        helper.make_node("Softmax", ["shifted"], ["Y"], name="softmax", axis=-1),
        helper.make_node("Inspect", ["expanded", "scale_f16", "scale_f64", "codes_i8", "codes_u8", "codes_i16",
                                     "codes_i32", "mask_bool"], ["Z"], name="inspect", domain="com.example",
                         mode="all"),
    ]
    graph = helper.make_graph(
        nodes, "typed_data",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2, 4, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 3]),
         helper.make_tensor_value_info("Z", TensorProto.FLOAT, None)],
        initializers)
    model = helper.make_model(graph, producer_name="convscope-fixtures", producer_version="1",
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
    model.doc_string = "typed data fixture"
    model.model_version = 7
    helper.set_model_props(model, {"author": "convscope", "license": "CC0"})
    # Append conv_w with unpacked float_data to the graph's bytes; field
    # order inside a message is free, so this is still a valid GraphProto.
    graph_bytes = model.graph.SerializeToString() + field(5, 2, unpacked_float_tensor("conv_w", conv_w))
    model.ClearField("graph")
    data = model.SerializeToString() + field(7, 2, graph_bytes)
    return data


def shapes_model(rng):
    """Operators the torch exports above do not produce, so shape inference
    of each is compared with onnx.shape_inference."""
    def weight(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype("f4"), name)
    initializers = [
        weight("deconv_w", 3, 2, 3, 3),
        weight("batched_w", 1, 4, 5),
        weight("gemm_w", 6, 7),
        numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 1, 0], dtype=np.int64), "pads"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "squeeze_axes"),
        numpy_helper.from_array(np.array([3, -1, 4], dtype=np.int64), "batch_shape"),
        numpy_helper.from_array(np.array([1, 3, 12, 10], dtype=np.int64), "resize_sizes"),
    ]
    nodes = [
        helper.make_node("ConvTranspose", ["X", "deconv_w"], ["up"], name="deconv", strides=[2, 2],
                         pads=[1, 1, 1, 1], output_padding=[1, 1], group=1),
        helper.make_node("Pad", ["up", "pads"], ["padded"], name="pad", mode="constant"),
        helper.make_node("MaxPool", ["padded"], ["pooled"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], ceil_mode=1),
        helper.make_node("Transpose", ["pooled"], ["nhwc"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("ReduceMean", ["nhwc"], ["row_mean"], name="mean", axes=[-1], keepdims=1),
        helper.make_node("Squeeze", ["row_mean", "squeeze_axes"], ["squeezed"], name="squeeze"),
        helper.make_node("Transpose", ["squeezed"], ["swapped"], name="swap"),
        helper.make_node("Flatten", ["nhwc"], ["flat_all"], name="flat_all", axis=0),
        helper.make_node("Reshape", ["flat_all", "batch_shape"], ["batched"], name="to_batches"),
        helper.make_node("MatMul", ["batched", "batched_w"], ["projected"], name="project"),
        helper.make_node("Concat", ["projected", "projected"], ["joined"], name="join", axis=-1),
        helper.make_node("Gemm", ["gemm_in", "gemm_w"], ["gemm_out"], name="gemm", transA=1),
        # gemm_w is shared: a weight of both Gemm layers.
        helper.make_node("Gemm", ["gemm_in", "gemm_w"], ["gemm_again"], name="gemm_again", transA=1, alpha=0.5),
        helper.make_node("Resize", ["X", "", "", "resize_sizes"], ["resized"], name="resize", mode="nearest"),
        helper.make_node("AveragePool", ["resized"], ["same_pooled"], name="same_pool", kernel_shape=[3, 3],
                         strides=[2, 2], auto_pad="SAME_UPPER"),
    ]
    graph = helper.make_graph(
        nodes, "shapes",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 3, 5, 4]),
         helper.make_tensor_value_info("gemm_in", TensorProto.FLOAT, [6, 2])],
        [helper.make_tensor_value_info("swapped", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("joined", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("gemm_out", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("gemm_again", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("same_pooled", TensorProto.FLOAT, None)],
        initializers)
    return helper.make_model(graph, producer_name="convscope-fixtures", opset_imports=[helper.make_opsetid("", 13)])


def subgraph_model():
    then_graph = helper.make_graph([helper.make_node("Identity", ["A"], ["then_out"])], "then",
                                   [], [helper.make_tensor_value_info("then_out", TensorProto.FLOAT, [2])])
    else_graph = helper.make_graph([helper.make_node("Neg", ["A"], ["else_out"])], "else",
                                   [], [helper.make_tensor_value_info("else_out", TensorProto.FLOAT, [2])])
    nodes = [helper.make_node("If", ["cond"], ["picked"], name="branch", then_branch=then_graph,
                              else_branch=else_graph),
             helper.make_node("Relu", ["picked"], ["out"], name="relu"),
             helper.make_node("Constant", [], ["labels"], name="labels",
                              value=helper.make_tensor("labels_value", TensorProto.STRING, [2], [b"cat", b"dog"]))]
    graph = helper.make_graph(nodes, "subgraph",
                              [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
                               helper.make_tensor_value_info("A", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2])])
    return helper.make_model(graph, producer_name="convscope-fixtures", opset_imports=[helper.make_opsetid("", 13)])


def external_data_model():
    weight = TensorProto()
    weight.name = "dense_w"
    weight.data_type = TensorProto.FLOAT
    weight.dims.extend([4, 2])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "dense_w.bin"), ("offset", "0"), ("length", "32")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph([helper.make_node("MatMul", ["X", "dense_w"], ["Y"], name="dense")], "external",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])], [weight])
    return helper.make_model(graph, producer_name="convscope-fixtures", opset_imports=[helper.make_opsetid("", 13)])


def unordered_model():
    """Nodes out of topological order (no cycle) and one undefined input: warnings, not errors."""
    nodes = [helper.make_node("Relu", ["a"], ["b"], name="second"),
             helper.make_node("Add", ["X", "X"], ["a"], name="first"),
             helper.make_node("Mul", ["b", "ghost"], ["Y"], name="third")]
    graph = helper.make_graph(nodes, "unordered", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2])])
    return helper.make_model(graph, producer_name="convscope-fixtures", opset_imports=[helper.make_opsetid("", 13)])


def cycle_model():
    nodes = [helper.make_node("Add", ["X", "b"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second")]
    graph = helper.make_graph(nodes, "cycle", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    return helper.make_model(graph, producer_name="convscope-fixtures", opset_imports=[helper.make_opsetid("", 13)])


# ---- expectations --------------------------------------------------------------

def value_shape(value_info):
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else -1 for d in tensor_type.shape.dim]


def summarize(model):
    graph = model.graph
    initializer_names = {t.name for t in graph.initializer}
    initializers = []
    for tensor in graph.initializer:
        array = numpy_helper.to_array(tensor)
        initializers.append({"name": tensor.name, "shape": list(array.shape), "dtype": str(array.dtype),
                             "count": int(array.size), "sum": float(array.astype(np.float64).sum())})
    inferred = shape_inference.infer_shapes(model, data_prop=True)
    known = {}
    for info in list(inferred.graph.value_info) + list(inferred.graph.output):
        shape = value_shape(info)
        if shape is not None:
            known[info.name] = shape
    output_shapes = {}
    for node in graph.node:
        if node.output and node.output[0] in known:
            output_shapes[node.output[0]] = known[node.output[0]]
    opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    return {
        "versions": VERSIONS,
        "ir_version": model.ir_version,
        "producer_name": model.producer_name,
        "producer_version": model.producer_version,
        "opset": opsets,
        "graph_name": graph.name,
        "node_count": len(graph.node),
        "op_types": [n.op_type for n in graph.node],
        "node_names": [n.name for n in graph.node],
        "node_domains": [n.domain for n in graph.node],
        "node_inputs": [list(n.input) for n in graph.node],
        "initializers": initializers,
        "parameter_total": int(sum(i["count"] for i in initializers)),
        "initializers_listed_as_inputs": sum(1 for i in graph.input if i.name in initializer_names),
        "inputs": [{"name": i.name, "shape": value_shape(i)} for i in graph.input if i.name not in initializer_names],
        "outputs": [{"name": o.name, "shape": value_shape(o)} for o in graph.output],
        "output_shapes": output_shapes,
        "metadata_props": {p.key: p.value for p in model.metadata_props},
    }


def write(name, data, expectation):
    with open(os.path.join(OUT, name + ".onnx"), "wb") as handle:
        handle.write(data)
    with open(os.path.join(OUT, name + ".json"), "w") as handle:
        json.dump(expectation, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(f"{name}.onnx: {len(data)} bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    lenet = LeNet()
    residual = Residual()
    randomize_batchnorm(residual, rng)
    depthwise = Depthwise()
    exports = [
        ("lenet_opset11", export(lenet, torch.randn(1, 1, 17, 17), 11, keep_initializers_as_inputs=True)),
        ("lenet_opset13", export(lenet, torch.randn(1, 1, 17, 17), 13, dynamic_batch=True)),
        ("residual_opset11", export(residual, torch.randn(1, 3, 8, 8), 11)),
        ("residual_opset13", export(residual, torch.randn(1, 3, 8, 8), 13)),
        ("depthwise_opset9", export(depthwise, torch.randn(1, 3, 8, 8), 9)),
        ("depthwise_opset13", export(depthwise, torch.randn(1, 3, 8, 8), 13)),
        ("subgraph", subgraph_model()),
        ("unordered", unordered_model()),
        ("shapes", shapes_model(rng)),
    ]
    for name, model in exports:
        write(name, model.SerializeToString(), summarize(model))

    typed = typed_data_model(rng)
    write("typed_data", typed, summarize(onnx.load_from_string(typed)))

    for name, model, phrase in (
            ("external_data", external_data_model(), "dense_w.bin"),
            ("cycle", cycle_model(), "cycle")):
        write(name, model.SerializeToString(), {"versions": VERSIONS, "error": phrase})

    corpus = onnx.load(CORPUS)
    expectation = summarize(corpus)
    expectation["file"] = os.path.basename(CORPUS)
    with open(os.path.join(OUT, "corpus_expected.json"), "w") as handle:
        json.dump(expectation, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("corpus_expected.json:", expectation["node_count"], "nodes,", expectation["parameter_total"], "parameters")


if __name__ == "__main__":
    main()
