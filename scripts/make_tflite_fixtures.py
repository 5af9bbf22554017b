#!/usr/bin/python3
"""Writes the TensorFlow Lite fixtures under tests/fixtures/tflite/.

There is no TensorFlow in Debian, so the files are built here with Debian's
python3-flatbuffers runtime (the generic Builder; no generated schema code)
following tensorflow/lite/schema/schema.fbs field by field, and validated by
loading them in Google's LiteRT runtime for the web (tests/tools/tflite_runtime_check.mjs)
when node_modules holds @litertjs/core.

  fixtures:
    float_cnn.tflite       CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, RESHAPE,
                           FULLY_CONNECTED, SOFTMAX; float32; metadata
                           min_runtime_version; a signature def
    int8_conv.tflite       QUANTIZE -> int8 CONV_2D with per-channel filter
                           scales -> DEQUANTIZE
    float16.tflite         float16 filter and bias -> DEQUANTIZE -> CONV_2D ->
                           ADD (fused RELU6)
    int4.tflite            a packed INT4 constant (per-channel scales) -> DEQUANTIZE -> ADD
    sparse.tflite          a sparse constant (SparsityParameters) -> DENSIFY -> ADD
    custom_op.tflite       FULLY_CONNECTED (int8-only opcode field), GELU
                           (code 150: deprecated field saturated at 127),
                           a CUSTOM TFLite_Detection_PostProcess-named op
    labels.tflite          FULLY_CONNECTED + SOFTMAX with TFLITE_METADATA naming
                           labels.txt and a ZIP archive appended holding it
    external_buffers.tflite float_cnn's graph with every constant stored after
                           the flatbuffer (Buffer.offset / size, schema 3c)
  plus <name>.json with the facts the C++ tests check (op types, layer names,
  inputs/outputs, weight shapes, dtypes and CRC-32 of their bytes).

Usage: /usr/bin/python3 scripts/make_tflite_fixtures.py   (deterministic)
"""
import io
import json
import os
import zipfile
import zlib

import flatbuffers
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "tflite")

# TensorType, BuiltinOperator and BuiltinOptions values (schema.fbs).
FLOAT32, FLOAT16, INT32, UINT8, INT64, STRING, BOOL, INT16, COMPLEX64, INT8 = range(10)
INT4 = 17
OP = {"DENSIFY": 124, "ADD": 0, "CONV_2D": 3, "DEPTHWISE_CONV_2D": 4, "DEQUANTIZE": 6, "FULLY_CONNECTED": 9,
      "MAX_POOL_2D": 17, "RESHAPE": 22, "SOFTMAX": 25, "CUSTOM": 32, "QUANTIZE": 114, "GELU": 150}
OPTIONS = {"Conv2DOptions": 1, "DepthwiseConv2DOptions": 2, "Pool2DOptions": 5, "FullyConnectedOptions": 8,
           "SoftmaxOptions": 9, "AddOptions": 11, "ReshapeOptions": 17, "GeluOptions": 116}
NUMPY_TYPES = {FLOAT32: "<f4", FLOAT16: "<f2", INT32: "<i4", UINT8: "u1", INT64: "<i8", INT8: "i1"}
DTYPE_NAMES = {INT4: "int8", FLOAT32: "float32", FLOAT16: "float16", INT32: "int32", UINT8: "uint8", INT64: "int64", INT8: "int8"}
PADDING = {"SAME": 0, "VALID": 1}
ACTIVATION = {"NONE": 0, "RELU": 1, "RELU6": 3}


class FlatBuilder:
    """Tables as lists of (field id, kind, value); every listed field is written."""

    def __init__(self):
        self.b = flatbuffers.Builder(4096)
        self.b.ForceDefaults(True)

    def string(self, text):
        return self.b.CreateString(text)

    def scalars(self, values, dtype):
        return self.b.CreateNumpyVector(np.asarray(values, dtype=dtype))

    def data(self, raw):
        # Buffer.data is force_align: 16: align the first element, then write.
        self.b.Prep(16, len(raw))
        return self.b.CreateNumpyVector(np.frombuffer(raw, dtype=np.uint8))

    def offsets(self, items):
        self.b.StartVector(4, len(items), 4)
        for item in reversed(items):
            self.b.PrependUOffsetTRelative(item)
        return self.b.EndVector()

    def table(self, fields):
        self.b.StartObject(max([f[0] for f in fields]) + 1 if fields else 0)
        for field_id, kind, value in fields:
            getattr(self.b, "Prepend%sSlot" % kind)(field_id, value, 0)
        return self.b.EndObject()

    def finish(self, root):
        self.b.Finish(root, file_identifier=b"TFL3")
        return bytes(self.b.Output())


def options_fields(values):
    """[(id, kind, value)] from [(kind, value)] in field-id order; None skips an id."""
    return [(i, kind, value) for i, entry in enumerate(values) if entry is not None for kind, value in [entry]]


def build_model(spec, external_base=None):
    """spec: tensors, operators, opcodes, inputs, outputs, metadata, signature.
    With external_base, constant data is not in the flatbuffer: Buffer.offset
    = external_base + the data's place in the trailer, returned beside it."""
    fb = FlatBuilder()
    buffers = [b""]  # buffer 0: the empty sentinel
    tensor_buffer = []
    for tensor in spec["tensors"]:
        if tensor.get("data") is not None:
            buffers.append(tensor["data"])
            tensor_buffer.append(len(buffers) - 1)
        else:
            tensor_buffer.append(0)
    metadata_entries = []
    for name, raw in spec.get("metadata", []):
        buffers.append(raw)
        metadata_entries.append((name, len(buffers) - 1))

    trailer = b""
    buffer_offsets = []
    for raw in buffers:
        if external_base is None or not raw or raw in [m for _, m in spec.get("metadata", [])]:
            buffer_offsets.append(fb.table([(0, "UOffsetTRelative", fb.data(raw))]) if raw else fb.table([]))
            continue
        trailer += b"\0" * (-len(trailer) % 16)
        offset = external_base + len(trailer)
        trailer += raw
        buffer_offsets.append(fb.table([(1, "Uint64", offset), (2, "Uint64", len(raw))]))
    buffers_vector = fb.offsets(buffer_offsets)

    tensor_tables = []
    for index, tensor in enumerate(spec["tensors"]):
        fields = [(0, "UOffsetTRelative", fb.scalars(tensor["shape"], "<i4")),
                  (1, "Int8", tensor["type"]), (2, "Uint32", tensor_buffer[index]),
                  (3, "UOffsetTRelative", fb.string(tensor["name"]))]
        quant = tensor.get("quant")
        if quant:
            q = fb.table([(2, "UOffsetTRelative", fb.scalars(quant["scale"], "<f4")),
                          (3, "UOffsetTRelative", fb.scalars(quant["zero_point"], "<i8")),
                          (6, "Int32", quant.get("axis", 0))])
            fields.append((4, "UOffsetTRelative", q))
        if tensor.get("sparse"):
            # A dense-format SparsityParameters (traversal_order [0], one DENSE
            # dimension): the smallest valid sparse tensor for DENSIFY.
            dim = fb.table([(0, "Int8", 0), (1, "Int32", tensor["shape"][0])])
            sparsity = fb.table([(0, "UOffsetTRelative", fb.scalars([0], "<i4")),
                                 (2, "UOffsetTRelative", fb.offsets([dim]))])
            fields.append((6, "UOffsetTRelative", sparsity))
        if "shape_signature" in tensor:
            fields.append((7, "UOffsetTRelative", fb.scalars(tensor["shape_signature"], "<i4")))
        tensor_tables.append(fb.table(fields))
    tensors_vector = fb.offsets(tensor_tables)

    op_tables = []
    for op in spec["operators"]:
        fields = [(0, "Uint32", op["opcode"]), (1, "UOffsetTRelative", fb.scalars(op["inputs"], "<i4")),
                  (2, "UOffsetTRelative", fb.scalars(op["outputs"], "<i4"))]
        if "options" in op:
            kind, values = op["options"]
            option_fields = []
            for field_id, field_kind, value in values:
                if field_kind == "Vector":
                    value = fb.scalars(value, "<i4")
                    field_kind = "UOffsetTRelative"
                option_fields.append((field_id, field_kind, value))
            options = fb.table(option_fields)
            fields += [(3, "Uint8", OPTIONS[kind]), (4, "UOffsetTRelative", options)]
        if "custom_options" in op:
            fields.append((5, "UOffsetTRelative", fb.scalars(list(op["custom_options"]), "u1")))
        op_tables.append(fb.table(fields))
    operators_vector = fb.offsets(op_tables)

    subgraph = fb.table([(0, "UOffsetTRelative", tensors_vector),
                         (1, "UOffsetTRelative", fb.scalars(spec["inputs"], "<i4")),
                         (2, "UOffsetTRelative", fb.scalars(spec["outputs"], "<i4")),
                         (3, "UOffsetTRelative", operators_vector),
                         (4, "UOffsetTRelative", fb.string(spec.get("subgraph_name", "main")))])
    subgraphs_vector = fb.offsets([subgraph])

    code_tables = []
    for code in spec["opcodes"]:
        fields = [(0, "Int8", code["deprecated"]), (2, "Int32", code.get("version", 1))]
        if "builtin" in code:
            fields.append((3, "Int32", code["builtin"]))
        if "custom" in code:
            fields.append((1, "UOffsetTRelative", fb.string(code["custom"])))
        code_tables.append(fb.table(fields))
    codes_vector = fb.offsets(code_tables)

    metadata_vector = fb.offsets([fb.table([(0, "UOffsetTRelative", fb.string(name)), (1, "Uint32", index)])
                                  for name, index in metadata_entries])
    signature = None
    if "signature" in spec:
        key, inputs, outputs = spec["signature"]
        maps = [fb.offsets([fb.table([(0, "UOffsetTRelative", fb.string(n)), (1, "Uint32", t)]) for n, t in group])
                for group in (inputs, outputs)]
        signature = fb.offsets([fb.table([(0, "UOffsetTRelative", maps[0]), (1, "UOffsetTRelative", maps[1]),
                                          (2, "UOffsetTRelative", fb.string(key)), (4, "Uint32", 0)])])
    fields = [(0, "Uint32", 3), (1, "UOffsetTRelative", codes_vector), (2, "UOffsetTRelative", subgraphs_vector),
              (3, "UOffsetTRelative", fb.string(spec.get("description", "ConvScope fixture"))),
              (4, "UOffsetTRelative", buffers_vector), (6, "UOffsetTRelative", metadata_vector)]
    if signature is not None:
        fields.append((7, "UOffsetTRelative", signature))
    return fb.finish(fb.table(fields)), trailer


def array(values, type_code):
    return np.ascontiguousarray(values, dtype=NUMPY_TYPES[type_code]).tobytes()


def conv_options(padding, stride, activation):
    return ("Conv2DOptions", [(0, "Int8", PADDING[padding]), (1, "Int32", stride), (2, "Int32", stride),
                              (3, "Int8", ACTIVATION[activation]), (4, "Int32", 1), (5, "Int32", 1)])


def runtime_version(text):
    return text.encode() + b"\0" * (16 - len(text))


# ---- numpy references (the runtime check compares LiteRT.js's outputs) --------

def runtime_feed(shape):
    """The input tests/tools/tflite_runtime_check.mjs feeds: sin(0.37 k)."""
    count = int(np.prod(shape))
    return np.sin(np.arange(count) * 0.37).astype("<f4").reshape(shape)


def conv_nhwc(x, filters, bias, padding):
    """x 1HWC, filters OHWI (depthwise: 1HWC with one output per channel)."""
    kh, kw = filters.shape[1], filters.shape[2]
    if padding == "SAME":
        x = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((1, oh, ow, filters.shape[0]), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nhwc,oc->nhwo", x[:, i:i + oh, j:j + ow, :], filters[:, i, j, :])
    return out + bias


def depthwise_nhwc(x, filters, bias):
    kh, kw = filters.shape[1], filters.shape[2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((1, oh, ow, x.shape[3]), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += x[:, i:i + oh, j:j + ow, :] * filters[0, i, j, :]
    return out + bias


def float_cnn_reference(conv_w, conv_b, dw_w, dw_b, fc_w, fc_b):
    x = runtime_feed((1, 8, 8, 1)).astype(np.float64)
    y = np.maximum(conv_nhwc(x, conv_w, conv_b, "SAME"), 0)
    y = depthwise_nhwc(y, dw_w, dw_b)
    y = y.reshape(1, 3, 2, 3, 2, 4).max(axis=(2, 4))
    y = y.reshape(1, 36) @ fc_w.T.astype(np.float64) + fc_b
    e = np.exp(y - y.max())
    return [float(v) for v in (e / e.sum()).ravel()]


# ---- the models --------------------------------------------------------------

def float_cnn_spec(rng):
    conv_w = rng.standard_normal((4, 3, 3, 1)).astype("<f4") * 0.5
    conv_b = rng.standard_normal(4).astype("<f4") * 0.1
    dw_w = rng.standard_normal((1, 3, 3, 4)).astype("<f4") * 0.5
    dw_b = rng.standard_normal(4).astype("<f4") * 0.1
    fc_w = rng.standard_normal((5, 36)).astype("<f4") * 0.2
    fc_b = rng.standard_normal(5).astype("<f4") * 0.1
    t = [
        dict(name="serving_default_input:0", shape=[1, 8, 8, 1], shape_signature=[-1, 8, 8, 1], type=FLOAT32),
        dict(name="model/conv/Conv2D", shape=[4, 3, 3, 1], type=FLOAT32, data=array(conv_w, FLOAT32)),
        dict(name="model/conv/BiasAdd/ReadVariableOp", shape=[4], type=FLOAT32, data=array(conv_b, FLOAT32)),
        dict(name="model/conv/Relu;model/conv/BiasAdd;model/conv/Conv2D", shape=[1, 8, 8, 4], type=FLOAT32),
        dict(name="model/dw/depthwise", shape=[1, 3, 3, 4], type=FLOAT32, data=array(dw_w, FLOAT32)),
        dict(name="model/dw/BiasAdd/ReadVariableOp", shape=[4], type=FLOAT32, data=array(dw_b, FLOAT32)),
        dict(name="model/dw/BiasAdd;model/dw/depthwise", shape=[1, 6, 6, 4], type=FLOAT32),
        dict(name="model/pool/MaxPool", shape=[1, 3, 3, 4], type=FLOAT32),
        dict(name="model/flatten/Const", shape=[2], type=INT32, data=array([-1, 36], INT32)),
        dict(name="model/flatten/Reshape", shape=[1, 36], type=FLOAT32),
        dict(name="model/dense/MatMul", shape=[5, 36], type=FLOAT32, data=array(fc_w, FLOAT32)),
        dict(name="model/dense/BiasAdd/ReadVariableOp", shape=[5], type=FLOAT32, data=array(fc_b, FLOAT32)),
        dict(name="model/dense/BiasAdd", shape=[1, 5], type=FLOAT32),
        dict(name="StatefulPartitionedCall:0", shape=[1, 5], type=FLOAT32),
    ]
    ops = [
        dict(opcode=0, inputs=[0, 1, 2], outputs=[3], options=conv_options("SAME", 1, "RELU")),
        dict(opcode=1, inputs=[3, 4, 5], outputs=[6],
             options=("DepthwiseConv2DOptions", [(0, "Int8", PADDING["VALID"]), (1, "Int32", 1), (2, "Int32", 1),
                                                 (3, "Int32", 1), (4, "Int8", 0), (5, "Int32", 1), (6, "Int32", 1)])),
        dict(opcode=2, inputs=[6], outputs=[7],
             options=("Pool2DOptions", [(0, "Int8", PADDING["VALID"]), (1, "Int32", 2), (2, "Int32", 2),
                                        (3, "Int32", 2), (4, "Int32", 2), (5, "Int8", 0)])),
        dict(opcode=3, inputs=[7, 8], outputs=[9], options=("ReshapeOptions", [(0, "Vector", [-1, 36])])),
        dict(opcode=4, inputs=[9, 10, 11], outputs=[12], options=("FullyConnectedOptions", [(0, "Int8", 0)])),
        dict(opcode=5, inputs=[12], outputs=[13], options=("SoftmaxOptions", [(0, "Float32", 1.0)])),
    ]
    opcodes = [dict(deprecated=OP[n], builtin=OP[n]) for n in
               ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX")]
    return dict(tensors=t, operators=ops, opcodes=opcodes, inputs=[0], outputs=[13],
                metadata=[("min_runtime_version", runtime_version("1.14.0"))],
                signature=("serving_default", [("input", 0)], [("output_0", 13)]),
                expected_output=float_cnn_reference(conv_w, conv_b, dw_w, dw_b, fc_w, fc_b))


def int8_conv_spec(rng):
    input_scale, input_zero = 0.05, -3
    filter_scales = np.array([0.011, 0.02, 0.0075], dtype="<f4")
    filters = rng.integers(-127, 128, size=(3, 3, 3, 2)).astype("i1")
    bias = rng.integers(-500, 500, size=3).astype("<i4")
    t = [
        dict(name="input", shape=[1, 6, 6, 2], type=FLOAT32),
        dict(name="input_int8", shape=[1, 6, 6, 2], type=INT8,
             quant=dict(scale=[input_scale], zero_point=[input_zero])),
        dict(name="conv/filter", shape=[3, 3, 3, 2], type=INT8, data=array(filters, INT8),
             quant=dict(scale=filter_scales.tolist(), zero_point=[0, 0, 0], axis=0)),
        dict(name="conv/bias", shape=[3], type=INT32, data=array(bias, INT32),
             quant=dict(scale=(filter_scales * input_scale).tolist(), zero_point=[0, 0, 0], axis=0)),
        dict(name="conv/Relu", shape=[1, 4, 4, 3], type=INT8, quant=dict(scale=[0.1], zero_point=[2])),
        dict(name="output", shape=[1, 4, 4, 3], type=FLOAT32),
    ]
    ops = [dict(opcode=0, inputs=[0], outputs=[1]),
           dict(opcode=1, inputs=[1, 2, 3], outputs=[4], options=conv_options("VALID", 1, "RELU")),
           dict(opcode=2, inputs=[4], outputs=[5])]
    opcodes = [dict(deprecated=OP["QUANTIZE"], builtin=OP["QUANTIZE"]),
               dict(deprecated=OP["CONV_2D"], builtin=OP["CONV_2D"], version=3),
               dict(deprecated=OP["DEQUANTIZE"], builtin=OP["DEQUANTIZE"])]
    return dict(tensors=t, operators=ops, opcodes=opcodes, inputs=[0], outputs=[5],
                metadata=[("min_runtime_version", runtime_version("2.3.0"))])


def float16_spec(rng):
    conv_w = (rng.standard_normal((2, 3, 3, 1)) * 0.5).astype("<f2")
    conv_b = (rng.standard_normal(2) * 0.1).astype("<f2")
    add_c = (rng.standard_normal(2) * 0.1).astype("<f4")
    t = [
        dict(name="input", shape=[1, 5, 5, 1], type=FLOAT32),
        dict(name="conv/filter_fp16", shape=[2, 3, 3, 1], type=FLOAT16, data=array(conv_w, FLOAT16)),
        dict(name="conv/filter", shape=[2, 3, 3, 1], type=FLOAT32),
        dict(name="conv/bias_fp16", shape=[2], type=FLOAT16, data=array(conv_b, FLOAT16)),
        dict(name="conv/bias", shape=[2], type=FLOAT32),
        dict(name="conv/BiasAdd", shape=[1, 5, 5, 2], type=FLOAT32),
        dict(name="add/y", shape=[2], type=FLOAT32, data=array(add_c, FLOAT32)),
        dict(name="output", shape=[1, 5, 5, 2], type=FLOAT32),
    ]
    ops = [dict(opcode=0, inputs=[1], outputs=[2]),
           dict(opcode=0, inputs=[3], outputs=[4]),
           dict(opcode=1, inputs=[0, 2, 4], outputs=[5], options=conv_options("SAME", 1, "NONE")),
           dict(opcode=2, inputs=[5, 6], outputs=[7], options=("AddOptions", [(0, "Int8", ACTIVATION["RELU6"])]))]
    opcodes = [dict(deprecated=OP["DEQUANTIZE"], builtin=OP["DEQUANTIZE"], version=3),
               dict(deprecated=OP["CONV_2D"], builtin=OP["CONV_2D"]),
               dict(deprecated=OP["ADD"], builtin=OP["ADD"])]
    x = runtime_feed((1, 5, 5, 1)).astype(np.float64)
    y = conv_nhwc(x, conv_w.astype(np.float64), conv_b.astype(np.float64), "SAME") + add_c
    return dict(tensors=t, operators=ops, opcodes=opcodes, inputs=[0], outputs=[7],
                expected_output=[float(v) for v in np.clip(y, 0, 6).ravel()])


def custom_op_spec(rng):
    fc_w = rng.standard_normal((3, 4)).astype("<f4")
    t = [
        dict(name="input", shape=[1, 4], type=FLOAT32),
        dict(name="dense/kernel", shape=[3, 4], type=FLOAT32, data=array(fc_w, FLOAT32)),
        dict(name="dense/MatMul", shape=[1, 3], type=FLOAT32),
        dict(name="gelu", shape=[1, 3], type=FLOAT32),
        dict(name="postprocess", shape=[1, 3], type=FLOAT32),
    ]
    ops = [dict(opcode=0, inputs=[0, 1, -1], outputs=[2], options=("FullyConnectedOptions", [(0, "Int8", 0)])),
           dict(opcode=1, inputs=[2], outputs=[3], options=("GeluOptions", [(0, "Bool", True)])),
           dict(opcode=2, inputs=[3], outputs=[4], custom_options=b"\x01\x02\x03\x04\x05")]
    # FULLY_CONNECTED as an old converter wrote it (int8 field only); GELU
    # as a new one does (int8 saturated at 127, the real code in the int32).
    opcodes = [dict(deprecated=OP["FULLY_CONNECTED"]),
               dict(deprecated=127, builtin=OP["GELU"]),
               dict(deprecated=OP["CUSTOM"], builtin=OP["CUSTOM"], custom="TFLite_Detection_PostProcess")]
    return dict(tensors=t, operators=ops, opcodes=opcodes, inputs=[0], outputs=[4])


def pack_int4(values):
    """TFLite INT4: two values a byte, the first in the low nibble."""
    nibbles = (np.asarray(values, dtype=np.int64) & 0xF).astype(np.uint8)
    if len(nibbles) % 2:
        nibbles = np.append(nibbles, 0)
    return (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8).tobytes()


def int4_spec(rng):
    values = rng.integers(-8, 8, size=6)
    t = [dict(name="input", shape=[2, 3], type=FLOAT32),
         dict(name="int4/weights", shape=[2, 3], type=INT4, data=pack_int4(values),
              quant=dict(scale=[0.25, 0.5], zero_point=[0, 0], axis=0), int4_values=values.tolist()),
         dict(name="int4/dequantized", shape=[2, 3], type=FLOAT32),
         dict(name="output", shape=[2, 3], type=FLOAT32)]
    ops = [dict(opcode=0, inputs=[1], outputs=[2]),
           dict(opcode=1, inputs=[0, 2], outputs=[3], options=("AddOptions", [(0, "Int8", 0)]))]
    opcodes = [dict(deprecated=OP["DEQUANTIZE"], builtin=OP["DEQUANTIZE"], version=5),
               dict(deprecated=OP["ADD"], builtin=OP["ADD"])]
    # The runtime check feeds sin(0.37 k); the output it must produce checks
    # the nibble order and the per-channel scales against LiteRT.
    feed = runtime_feed((2, 3))
    real = (values.reshape(2, 3) * np.array([[0.25], [0.5]])).astype("<f4")
    return dict(tensors=t, operators=ops, opcodes=opcodes, inputs=[0], outputs=[3],
                expected_output=[float(v) for v in (feed + real).ravel()])


def sparse_spec(rng):
    values = rng.standard_normal(4).astype("<f4")
    t = [dict(name="input", shape=[1, 4], type=FLOAT32),
         dict(name="sparse/weights", shape=[4], type=FLOAT32, data=array(values, FLOAT32), sparse=True),
         dict(name="dense/weights", shape=[4], type=FLOAT32),
         dict(name="output", shape=[1, 4], type=FLOAT32)]
    ops = [dict(opcode=0, inputs=[1], outputs=[2]),
           dict(opcode=1, inputs=[0, 2], outputs=[3], options=("AddOptions", [(0, "Int8", 0)]))]
    opcodes = [dict(deprecated=OP["DENSIFY"], builtin=OP["DENSIFY"]), dict(deprecated=OP["ADD"], builtin=OP["ADD"])]
    return dict(tensors=t, operators=ops, opcodes=opcodes, inputs=[0], outputs=[3])


def model_metadata(labels_file):
    """A ModelMetadata flatbuffer (metadata_schema.fbs, identifier M001)."""
    fb = FlatBuilder()
    files = fb.offsets([fb.table([(0, "UOffsetTRelative", fb.string(labels_file)),
                                  (1, "UOffsetTRelative", fb.string("Labels for the classes")),
                                  (2, "Int8", 2)])])  # TENSOR_AXIS_LABELS
    output_meta = fb.offsets([fb.table([(0, "UOffsetTRelative", fb.string("probability")), (6, "UOffsetTRelative", files)])])
    subgraph = fb.offsets([fb.table([(3, "UOffsetTRelative", output_meta)])])
    root = fb.table([(0, "UOffsetTRelative", fb.string("Tiny classifier")),
                     (1, "UOffsetTRelative", fb.string("Three classes from four features")),
                     (2, "UOffsetTRelative", fb.string("v1")),
                     (3, "UOffsetTRelative", subgraph),
                     (4, "UOffsetTRelative", fb.string("ConvScope")),
                     (5, "UOffsetTRelative", fb.string("Apache-2.0")),
                     (7, "UOffsetTRelative", fb.string("1.0.0"))])
    fb.b.Finish(root, file_identifier=b"M001")
    return bytes(fb.b.Output())


def labels_spec(rng):
    fc_w = rng.standard_normal((3, 4)).astype("<f4")
    fc_b = rng.standard_normal(3).astype("<f4")
    t = [dict(name="input", shape=[1, 4], type=FLOAT32),
         dict(name="dense/kernel", shape=[3, 4], type=FLOAT32, data=array(fc_w, FLOAT32)),
         dict(name="dense/bias", shape=[3], type=FLOAT32, data=array(fc_b, FLOAT32)),
         dict(name="dense/BiasAdd", shape=[1, 3], type=FLOAT32),
         dict(name="probability", shape=[1, 3], type=FLOAT32)]
    ops = [dict(opcode=0, inputs=[0, 1, 2], outputs=[3], options=("FullyConnectedOptions", [(0, "Int8", 0)])),
           dict(opcode=1, inputs=[3], outputs=[4], options=("SoftmaxOptions", [(0, "Float32", 1.0)]))]
    opcodes = [dict(deprecated=OP["FULLY_CONNECTED"], builtin=OP["FULLY_CONNECTED"]),
               dict(deprecated=OP["SOFTMAX"], builtin=OP["SOFTMAX"])]
    return dict(tensors=t, operators=ops, opcodes=opcodes, inputs=[0], outputs=[4],
                metadata=[("min_runtime_version", runtime_version("1.5.0")),
                          ("TFLITE_METADATA", model_metadata("labels.txt"))])


def append_archive(model_bytes, members):
    """Appends a ZIP archive the way the metadata populator does (zipfile in
    append mode on the model file: offsets count from the file's start)."""
    stream = io.BytesIO(model_bytes)
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_STORED) as archive:
        for name, text in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            archive.writestr(info, text)
    return stream.getvalue()


# ---- expected facts ------------------------------------------------------------

def expected_facts(spec, model_bytes):
    tensors = spec["tensors"]
    # TFLite's own rule: the larger of the int8 and the int32 code fields.
    names = [OP_NAMES[max(code["deprecated"], code.get("builtin", 0))] for code in spec["opcodes"]]
    layers = []
    for op in spec["operators"]:
        code = spec["opcodes"][op["opcode"]]
        op_type = code.get("custom") or names[op["opcode"]]
        weights = []
        for index in op["inputs"]:
            if index >= 0 and tensors[index].get("data") is not None and not tensors[index].get("sparse"):
                tensor = tensors[index]
                # INT4 is unpacked to one int8 a value: the facts describe that form.
                stored = (array(tensor["int4_values"], INT8) if tensor["type"] == INT4 else tensor["data"])
                weights.append(dict(name=tensor["name"], shape=tensor["shape"], dtype=DTYPE_NAMES[tensor["type"]],
                                    crc32=zlib.crc32(stored), bytes=len(stored)))
        first_output = tensors[op["outputs"][0]]["name"].split(";")[0]
        layers.append(dict(name=first_output, type=op_type, custom="custom" in code, inputs=[tensors[i]["name"] if i >= 0 else "" for i in op["inputs"]],
                           outputs=[tensors[i]["name"] for i in op["outputs"]],
                           output_shape=tensors[op["outputs"][0]].get("shape_signature", tensors[op["outputs"][0]]["shape"]),
                           weights=weights))
    def value(i):
        tensor = tensors[i]
        return dict(name=tensor["name"], shape=tensor.get("shape_signature", tensor["shape"]),
                    dtype=DTYPE_NAMES[tensor["type"]])
    facts = dict(file_size=len(model_bytes), layers=layers, inputs=[value(i) for i in spec["inputs"]],
                 outputs=[value(i) for i in spec["outputs"]])
    if "signature" in spec:
        key, inputs, outputs = spec["signature"]
        facts["signature"] = dict(key=key, inputs=[n for n, _ in inputs], outputs=[n for n, _ in outputs])
    if "expected_output" in spec:
        facts["expected_output"] = spec["expected_output"]
    return facts


OP_NAMES = {value: name for name, value in OP.items()}


def write(name, model_bytes, facts):
    with open(os.path.join(OUT, name + ".tflite"), "wb") as f:
        f.write(model_bytes)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", name + ".tflite", len(model_bytes), "bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20241202)
    for name, make in (("float_cnn", float_cnn_spec), ("int8_conv", int8_conv_spec),
                       ("float16", float16_spec), ("custom_op", custom_op_spec), ("sparse", sparse_spec), ("int4", int4_spec)):
        spec = make(rng)
        model_bytes, _ = build_model(spec)
        write(name, model_bytes, expected_facts(spec, model_bytes))

    spec = labels_spec(rng)
    model_bytes, _ = build_model(spec)
    labels = "cat\ndog\nbird\n"
    model_bytes = append_archive(model_bytes, [("labels.txt", labels)])
    facts = expected_facts(spec, model_bytes)
    facts["labels"] = labels.strip().split("\n")
    write("labels", model_bytes, facts)

    # Schema 3c: constants after the flatbuffer. Two passes: the first
    # measures the flatbuffer (offset fields are written either way, so the
    # size does not change), the second fills in the real offsets.
    spec = float_cnn_spec(np.random.default_rng(7))
    probe, _ = build_model(spec, external_base=1 << 40)
    base = len(probe) + (-len(probe) % 16)
    flat, trailer = build_model(spec, external_base=base)
    assert len(flat) == len(probe)
    model_bytes = flat + b"\0" * (base - len(flat)) + trailer
    facts = expected_facts(spec, model_bytes)
    facts["external_data_offset"] = base
    write("external_buffers", model_bytes, facts)


if __name__ == "__main__":
    main()
