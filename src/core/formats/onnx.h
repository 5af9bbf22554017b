// ONNX model reader: decodes the protobuf messages of an .onnx file straight
// from its bytes (no libprotobuf) into the format-neutral Model.
//
// On-disk layout read ("onnx.proto IR version 8", onnx 1.12/1.13; older IR
// versions are subsets; field numbers in brackets, encoding per protobuf.h):
//   1. ModelProto, the whole file: ir_version [1] int64, opset_import [8]
//      (OperatorSetIdProto: domain [1], version [2]), producer_name [2],
//      producer_version [3], domain [4], model_version [5] int64,
//      doc_string [6], graph [7], metadata_props [14] (StringStringEntryProto:
//      key [1], value [2]). training_info [20] and functions [25] are skipped.
//   2. GraphProto: node [1], name [2], initializer [5] TensorProto,
//      doc_string [10], input [11], output [12], value_info [13]
//      ValueInfoProto. sparse_initializer [15] is reported, not read.
//   3. NodeProto: input [1], output [2], name [3], op_type [4], domain [7],
//      attribute [5], doc_string [6]. An empty input name is an omitted
//      optional input.
//   4. AttributeProto: name [1], type [20] (FLOAT 1, INT 2, STRING 3,
//      TENSOR 4, GRAPH 5, FLOATS 6, INTS 7, STRINGS 8, TENSORS 9, GRAPHS 10,
//      SPARSE_TENSOR 11, SPARSE_TENSORS 12, TYPE_PROTO 13, TYPE_PROTOS 14),
//      f [2] float, i [3] int64, s [4] bytes, t [5] TensorProto, g [6]
//      GraphProto, floats [7], ints [8], strings [9], tensors [10],
//      graphs [11]. IR < 4 files may omit `type`; it is then inferred from
//      the field that is present.
//   5. TensorProto: dims [1] int64, data_type [2] (FLOAT 1, UINT8 2, INT8 3,
//      UINT16 4, INT16 5, INT32 6, INT64 7, STRING 8, BOOL 9, FLOAT16 10,
//      DOUBLE 11, UINT32 12, UINT64 13, BFLOAT16 16), name [8], raw_data [9]
//      (little-endian, row-major), or typed data: float_data [4],
//      int32_data [5] (also int8/16, uint8/16, bool, float16 bits),
//      int64_data [7], double_data [10], uint64_data [11] (also uint32);
//      packed or not. external_data [13] / data_location [14] = EXTERNAL are
//      refused with the tensor name and the `location` key.
//   6. ValueInfoProto: name [1], type [2] TypeProto: tensor_type [1]
//      (elem_type [1], shape [2] TensorShapeProto: dim [1] Dimension:
//      dim_value [1] int64 or dim_param [2] symbolic -> -1).
//
// Mapping into Model:
//   - format "onnx", producer = producer_name, layout channels_first,
//     name = graph name, metadata: "opset" ("ai.onnx 13", more domains comma
//     separated), "ir_version", "producer_version", "domain", "model_version",
//     "doc_string", "initializer_parameters" (each initializer counted once),
//     then metadata_props by their own keys (prefixed "metadata_props."
//     when a key collides with one of ours).
//   - One Layer per NodeProto in file order. name = node name, or
//     "<op_type>_<index>" when empty (a repeated name gets "_<index>" too).
//     Attributes keep their ONNX names; a Constant's tensor is attribute
//     "value". Weights are the node inputs that are initializers, named and
//     laid out as in the file (Conv W is Cout x Cin/group x kH x kW); raw
//     data is a zero-copy view when aligned, or when open_onnx_in_place
//     could align it by moving it inside its TensorProto; otherwise a copy.
//   - An initializer used by two nodes is a weight of both, so
//     Model::total_parameters() counts it twice; metadata
//     "initializer_parameters" counts every initializer once.
//   - Graph inputs that are initializers (IR < 4 lists them) are dropped
//     from Model::inputs. Symbolic or missing dims are -1.
//   - Nodes whose domain is not "" or "ai.onnx" get unsupported_reason
//     "custom operator domain X"; graph/tensor-list/sparse attributes give
//     an unsupported_reason naming the attribute.
//   - Layer::output_shape is inferred by a pass in file order for common CNN
//     operators (see infer_onnx_shapes in onnx.cpp); otherwise the shape the
//     file declares (value_info / graph output), otherwise empty.
//   - Undefined node inputs and an order that is not topological are
//     warnings; a cycle is a FormatError naming the nodes on it.
#pragma once

#include <string>

#include "core/formats/registry.h"

namespace convscope {

// Cheap and never throws: the bytes start with ModelProto field 1
// (ir_version, varint) and carry a graph field (7) among the first
// top-level fields. ONNX has no magic number.
bool looks_like_onnx(ByteSpan bytes);

// Throws FormatError naming the message path, the byte offset and, for
// tensors, the tensor name; LimitError past limits.h.
Model open_onnx(const FileBytes& bytes, const std::string& file_name);

// The same for bytes the reader may rewrite (registry's open_model_in_place):
// each misaligned raw_data is moved down by a few bytes inside its own
// TensorProto so that the tensor is a zero-copy view, and opening takes
// about the file's size in memory instead of twice it.
Model open_onnx_in_place(const WritableFileBytes& bytes, const std::string& file_name);

// One serialized TensorProto on its own (item 5 above), as the ONNX test
// suite stores inputs and expected outputs (test_data_set_*/input_0.pb),
// decoded exactly like an initializer. `name` is empty when the file has
// none. Throws FormatError like open_onnx (external data is refused).
struct OnnxTensor {
    std::string name;
    Tensor tensor;
};
OnnxTensor read_onnx_tensor(const FileBytes& bytes, const std::string& file_name);

}  // namespace convscope
