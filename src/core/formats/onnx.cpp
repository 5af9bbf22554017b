// [SECTION] index
//   decoded messages   plain structs the protobuf decoders fill
//   tensors            TensorProto -> Tensor
//   attributes, nodes, value infos, graph, model
//   graph checks       undefined inputs, order, cycles
//   (shape inference: onnx_shapes.cpp)
//   mapping            decoded model -> convscope::Model
//   entry points       looks_like_onnx, open_onnx
#include "core/formats/onnx.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/onnx_shapes.h"
#include "core/formats/protobuf.h"

namespace convscope {

namespace {

using protobuf::MessageReader;

// [SECTION] decoded messages

struct OnnxValueInfo {
    std::string name;
    bool has_shape = false;   // false: rank unknown
    Shape shape;
    std::optional<DType> dtype;
};

struct OnnxNode {
    std::string name;
    std::string op_type;
    std::string domain;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::map<std::string, AttributeValue> attributes;
    std::string unsupported_reason;
    uint64_t offset = 0;
};

struct OnnxGraph {
    std::string name;
    std::vector<OnnxNode> nodes;
    std::vector<std::pair<std::string, Tensor>> initializers;
    std::vector<OnnxValueInfo> inputs;
    std::vector<OnnxValueInfo> outputs;
    std::vector<OnnxValueInfo> value_info;
    std::vector<std::string> warnings;
};

struct OnnxModel {
    int64_t ir_version = 0;
    bool has_ir_version = false;
    std::string producer_name;
    std::string producer_version;
    std::string domain;
    int64_t model_version = 0;
    std::string doc_string;
    std::vector<std::pair<std::string, int64_t>> opsets;
    std::vector<std::pair<std::string, std::string>> metadata_props;
    OnnxGraph graph;
    bool has_graph = false;
};

// Everything a decoder needs besides the message itself.
struct DecodeContext {
    std::shared_ptr<const void> owner;  // the file bytes, for zero-copy tensor views
    std::string file_name;
    // Set by open_onnx_in_place: the same bytes, which the reader may rewrite
    // to align raw_data (see align_raw_data_in_place). Null for open_onnx.
    uint8_t* writable_file = nullptr;
    size_t file_size = 0;
};

// [SECTION] tensors

enum OnnxDataType : int32_t {
    onnx_float = 1, onnx_uint8 = 2, onnx_int8 = 3, onnx_uint16 = 4, onnx_int16 = 5, onnx_int32 = 6,
    onnx_int64 = 7, onnx_string = 8, onnx_bool = 9, onnx_float16 = 10, onnx_double = 11,
    onnx_uint32 = 12, onnx_uint64 = 13, onnx_complex64 = 14, onnx_complex128 = 15, onnx_bfloat16 = 16,
};

const char* onnx_data_type_name(int32_t type) {
    switch (type) {
        case 0: return "UNDEFINED";
        case onnx_float: return "FLOAT";
        case onnx_uint8: return "UINT8";
        case onnx_int8: return "INT8";
        case onnx_uint16: return "UINT16";
        case onnx_int16: return "INT16";
        case onnx_int32: return "INT32";
        case onnx_int64: return "INT64";
        case onnx_string: return "STRING";
        case onnx_bool: return "BOOL";
        case onnx_float16: return "FLOAT16";
        case onnx_double: return "DOUBLE";
        case onnx_uint32: return "UINT32";
        case onnx_uint64: return "UINT64";
        case onnx_complex64: return "COMPLEX64";
        case onnx_complex128: return "COMPLEX128";
        case onnx_bfloat16: return "BFLOAT16";
        default: return "unknown";
    }
}

// The DType a tensor of this ONNX type is held in; bfloat16 is widened to
// float32 because Tensor has no bfloat16.
std::optional<DType> dtype_for(int32_t type) {
    switch (type) {
        case onnx_float: return DType::f32;
        case onnx_uint8: return DType::u8;
        case onnx_int8: return DType::i8;
        case onnx_uint16: return DType::u16;
        case onnx_int16: return DType::i16;
        case onnx_int32: return DType::i32;
        case onnx_int64: return DType::i64;
        case onnx_bool: return DType::boolean;
        case onnx_float16: return DType::f16;
        case onnx_double: return DType::f64;
        case onnx_uint32: return DType::u32;
        case onnx_uint64: return DType::u64;
        case onnx_bfloat16: return DType::f32;
        default: return std::nullopt;
    }
}

template <typename Target, typename Source>
void store_converted(Tensor& tensor, const std::vector<Source>& values) {
    Target* out = reinterpret_cast<Target*>(tensor.mutable_raw());
    for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<Target>(values[i]);
}

// A well-formed tensor of a type Tensor cannot hold (STRING, COMPLEX...).
// Fatal for an initializer; for an attribute it only makes the node unsupported.
class UnreadableTensorType : public FormatError {
public:
    using FormatError::FormatError;
};

struct DecodedTensor {
    std::string name;
    Tensor tensor;
};

// Protobuf puts raw_data wherever the preceding fields end, so most float
// tensors start at an address that is not a multiple of 4, and Tensor::view
// would copy them (doubling the memory of a large model). When the reader
// may rewrite the file bytes, it moves the payload down to the nearest
// aligned address instead, over bytes of the same TensorProto that precede
// the payload (at least the raw_data tag and length; usually also dims,
// data_type and name). This is safe because it runs after the whole
// TensorProto has been decoded: those bytes have been read and copied out
// and nothing reads them again (every message is decoded once, in one pass,
// and the enclosing readers are already past the TensorProto). Only bytes
// inside this TensorProto change. Returns where the payload now starts, or
// the original address when it is aligned, cannot move or may not be moved
// (Tensor::view then copies, as before).
const uint8_t* align_raw_data_in_place(ByteSpan raw, const uint8_t* tensor_message_start, size_t alignment,
                                       const DecodeContext& context) {
    const uint8_t* unchanged = raw.data;
    if (!context.writable_file || alignment <= 1 || raw.size == 0) return unchanged;
    uintptr_t payload = reinterpret_cast<uintptr_t>(raw.data);
    uintptr_t message = reinterpret_cast<uintptr_t>(tensor_message_start);
    uintptr_t file = reinterpret_cast<uintptr_t>(context.writable_file);
    size_t misalignment = payload % alignment;
    if (misalignment == 0) return unchanged;
    // The payload and the message start must both lie inside the writable file.
    bool inside = message >= file && payload >= message && payload - file <= context.file_size &&
                  raw.size <= context.file_size - (payload - file);
    if (!inside || payload - message < misalignment) return unchanged;
    uint8_t* target = context.writable_file + (payload - file - misalignment);
    std::memmove(target, context.writable_file + (payload - file), raw.size);
    return target;
}

DecodedTensor decode_tensor(MessageReader message, const DecodeContext& context) {
    uint64_t tensor_offset = message.span().base_offset;
    const uint8_t* tensor_message_start = message.span().data;
    DecodedTensor result;
    Shape dims;
    int32_t data_type = 0;
    bool has_raw = false;
    ByteSpan raw;
    std::vector<float> float_data;
    std::vector<int32_t> int32_data;
    std::vector<int64_t> int64_data;
    std::vector<double> double_data;
    std::vector<uint64_t> uint64_data;
    uint64_t string_count = 0;
    bool external = false;
    bool has_segment = false;
    std::string location;
    while (message.next()) {
        switch (message.field_number()) {
            case 1: message.append_int64s(dims); break;
            case 2: data_type = message.as_int32(); break;
            case 3: has_segment = true; break;
            case 4: message.append_floats(float_data); break;
            case 5: message.append_int32s(int32_data); break;
            case 6: ++string_count; break;
            case 7: message.append_int64s(int64_data); break;
            case 8: result.name = message.as_string(); break;
            case 9: raw = message.as_bytes(); has_raw = true; break;
            case 10: message.append_doubles(double_data); break;
            case 11: message.append_varints(uint64_data); break;
            case 13: {
                external = true;
                MessageReader entry = message.as_message("external_data");
                std::string key, value;
                while (entry.next()) {
                    if (entry.field_number() == 1) key = entry.as_string();
                    if (entry.field_number() == 2) value = entry.as_string();
                }
                if (key == "location") location = value;
                break;
            }
            case 14: external = external || message.as_int32() == 1; break;
            default: break;
        }
    }
    std::string where = concat(message.context(), " (tensor '", result.name, "' at offset ",
                               format_offset(tensor_offset), ")");
    if (external) {
        throw_format_error(where, ": the tensor's data is stored outside this file (external data, location '",
                           location, "'); ConvScope reads only self-contained .onnx files - re-save the model "
                           "with onnx.save(model, path, save_as_external_data=False)");
    }
    if (has_segment) throw_format_error(where, ": segmented tensors (TensorProto.segment) are not supported");
    std::optional<DType> dtype = dtype_for(data_type);
    if (!dtype) {
        throw UnreadableTensorType(concat(where, ": data_type ", data_type, " (", onnx_data_type_name(data_type),
                                          ") is not a numeric type ConvScope reads"));
    }
    for (int64_t dim : dims) {
        if (dim < 0) throw_format_error(where, ": dimension ", dim, " is negative in shape ", shape_to_string(dims));
    }
    if (dims.size() > static_cast<size_t>(limits::max_rank)) {
        throw_limit_error(where, ": rank ", dims.size(), " exceeds the limit of ", limits::max_rank);
    }
    uint64_t count = shape_element_count(dims);
    if (has_raw) {
        size_t stored_size = data_type == onnx_bfloat16 ? 2 : dtype_size(*dtype);
        if (raw.size != count * stored_size) {
            throw_format_error(where, ": raw_data at offset ", format_offset(raw.base_offset), " holds ", raw.size,
                               " bytes, expected ", count, " x ", stored_size, " = ", count * stored_size,
                               " for ", onnx_data_type_name(data_type), " shape ", shape_to_string(dims));
        }
        if (data_type == onnx_bfloat16) {
            result.tensor = Tensor::zeros(DType::f32, dims);
            float* out = result.tensor.mutable_f32();
            for (uint64_t i = 0; i < count; ++i) {
                out[i] = bfloat16_to_float(static_cast<uint16_t>(raw.data[2 * i] | raw.data[2 * i + 1] << 8));
            }
        } else {
            const uint8_t* payload =
                align_raw_data_in_place(raw, tensor_message_start, dtype_size(*dtype), context);
            result.tensor = Tensor::view(*dtype, dims, payload, context.owner);
        }
        return result;
    }
    // Typed data: the field each data type is stored in, per onnx.proto.
    uint64_t found = 0;
    const char* field = "";
    switch (data_type) {
        case onnx_float: found = float_data.size(); field = "float_data"; break;
        case onnx_double: found = double_data.size(); field = "double_data"; break;
        case onnx_int64: found = int64_data.size(); field = "int64_data"; break;
        case onnx_uint32: case onnx_uint64: found = uint64_data.size(); field = "uint64_data"; break;
        default: found = int32_data.size(); field = "int32_data"; break;
    }
    if (found != count) {
        if (found == 0 && string_count == 0) {
            throw_format_error(where, ": ", onnx_data_type_name(data_type), " tensor of shape ", shape_to_string(dims),
                               " has no raw_data and ", field, " is empty");
        }
        throw_format_error(where, ": ", field, " holds ", found, " values, expected ", count, " for shape ",
                           shape_to_string(dims));
    }
    result.tensor = Tensor::zeros(*dtype, dims);
    switch (data_type) {
        case onnx_float: store_converted<float>(result.tensor, float_data); break;
        case onnx_double: store_converted<double>(result.tensor, double_data); break;
        case onnx_int64: store_converted<int64_t>(result.tensor, int64_data); break;
        case onnx_uint32: store_converted<uint32_t>(result.tensor, uint64_data); break;
        case onnx_uint64: store_converted<uint64_t>(result.tensor, uint64_data); break;
        case onnx_int32: store_converted<int32_t>(result.tensor, int32_data); break;
        case onnx_int16: store_converted<int16_t>(result.tensor, int32_data); break;
        case onnx_int8: store_converted<int8_t>(result.tensor, int32_data); break;
        case onnx_uint16: store_converted<uint16_t>(result.tensor, int32_data); break;
        case onnx_uint8: store_converted<uint8_t>(result.tensor, int32_data); break;
        case onnx_float16: store_converted<uint16_t>(result.tensor, int32_data); break;  // the bits
        case onnx_bool: {
            uint8_t* out = result.tensor.mutable_raw();
            for (size_t i = 0; i < int32_data.size(); ++i) out[i] = int32_data[i] != 0;
            break;
        }
        case onnx_bfloat16: {
            float* out = result.tensor.mutable_f32();
            for (size_t i = 0; i < int32_data.size(); ++i) out[i] = bfloat16_to_float(static_cast<uint16_t>(int32_data[i]));
            break;
        }
        default: break;
    }
    return result;
}

// [SECTION] attributes, nodes, value infos, graph, model

enum AttributeType : int32_t {
    attr_undefined = 0, attr_float = 1, attr_int = 2, attr_string = 3, attr_tensor = 4, attr_graph = 5,
    attr_floats = 6, attr_ints = 7, attr_strings = 8, attr_tensors = 9, attr_graphs = 10,
    attr_sparse_tensor = 11, attr_sparse_tensors = 12, attr_type_proto = 13, attr_type_protos = 14,
};

const char* attribute_type_name(int32_t type) {
    static const char* names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
                                  "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
                                  "TYPE_PROTO", "TYPE_PROTOS"};
    return type >= 0 && type <= 14 ? names[type] : "unknown";
}

// Decodes one attribute into `node`: its value, or an unsupported_reason.
void decode_attribute(MessageReader message, const DecodeContext& context, OnnxNode& node) {
    uint64_t attribute_offset = message.span().base_offset;
    std::string name;
    int32_t type = attr_undefined;
    std::optional<double> f;
    std::optional<int64_t> i;
    std::optional<std::string> s;
    std::optional<Tensor> t;
    std::vector<double> floats;
    std::vector<int64_t> ints;
    std::vector<std::string> strings;
    int seen_other = attr_undefined;  // a present field we do not decode (graph, tensors, ...)
    while (message.next()) {
        switch (message.field_number()) {
            case 1: name = message.as_string(); break;
            case 2: f = message.as_float(); break;
            case 3: i = message.as_int64(); break;
            case 4: s = message.as_string(); break;
            case 5:
                try {
                    t = decode_tensor(message.as_message("t"), context).tensor;
                } catch (const UnreadableTensorType& error) {
                    seen_other = attr_tensor;
                    if (node.unsupported_reason.empty()) node.unsupported_reason = error.what();
                }
                break;
            case 6: seen_other = attr_graph; break;
            case 7: {
                std::vector<float> values;
                message.append_floats(values);
                floats.insert(floats.end(), values.begin(), values.end());
                break;
            }
            case 8: message.append_int64s(ints); break;
            case 9: strings.push_back(message.as_string()); break;
            case 10: seen_other = attr_tensors; break;
            case 11: seen_other = attr_graphs; break;
            case 14: seen_other = attr_type_proto; break;
            case 15: seen_other = attr_type_protos; break;
            case 20: type = message.as_int32(); break;
            case 22: seen_other = attr_sparse_tensor; break;
            case 23: seen_other = attr_sparse_tensors; break;
            default: break;
        }
    }
    if (name.empty()) {
        throw_format_error(message.context(), " at offset ", format_offset(attribute_offset),
                           ": attribute without a name");
    }
    if (type == attr_undefined) {
        // IR < 4 writers may leave `type` out; the value field tells.
        if (t) type = attr_tensor;
        else if (s) type = attr_string;
        else if (i) type = attr_int;
        else if (f) type = attr_float;
        else if (!floats.empty()) type = attr_floats;
        else if (!ints.empty()) type = attr_ints;
        else if (!strings.empty()) type = attr_strings;
        else type = seen_other;
    }
    auto mark_unsupported = [&](const std::string& reason) {
        if (node.unsupported_reason.empty()) node.unsupported_reason = reason;
    };
    switch (type) {
        case attr_float: node.attributes[name] = f.value_or(0.0); break;
        case attr_int: node.attributes[name] = i.value_or(0); break;
        case attr_string: node.attributes[name] = s.value_or(std::string()); break;
        case attr_tensor:
            if (!t && seen_other == attr_tensor) break;  // unreadable type, already noted
            if (!t) {
                throw_format_error(message.context(), " at offset ", format_offset(attribute_offset), ": attribute '",
                                   name, "' has type TENSOR but no tensor (field 5)");
            }
            node.attributes[name] = *t;
            break;
        case attr_floats: node.attributes[name] = floats; break;
        case attr_ints: node.attributes[name] = ints; break;
        case attr_strings: node.attributes[name] = strings; break;
        case attr_graph:
        case attr_graphs:
            mark_unsupported(concat("subgraph attributes are not supported (attribute '", name, "')"));
            break;
        case attr_undefined:
            throw_format_error(message.context(), " at offset ", format_offset(attribute_offset), ": attribute '",
                               name, "' has no type and no value");
        default:
            mark_unsupported(concat("attribute '", name, "' has type ", attribute_type_name(type),
                                    " (", type, "), which is not supported"));
            break;
    }
}

OnnxNode decode_node(MessageReader message, const DecodeContext& context) {
    OnnxNode node;
    node.offset = message.span().base_offset;
    int attribute_index = 0;
    while (message.next()) {
        switch (message.field_number()) {
            case 1: node.inputs.push_back(message.as_string()); break;
            case 2: node.outputs.push_back(message.as_string()); break;
            case 3: node.name = message.as_string(); break;
            case 4: node.op_type = message.as_string(); break;
            case 5: decode_attribute(message.as_message(concat("attribute[", attribute_index++, "]")), context, node); break;
            case 7: node.domain = message.as_string(); break;
            default: break;
        }
    }
    if (node.op_type.empty()) {
        throw_format_error(message.context(), " at offset ", format_offset(node.offset), ": node '", node.name,
                           "' has no op_type");
    }
    return node;
}

OnnxValueInfo decode_value_info(MessageReader message) {
    OnnxValueInfo info;
    while (message.next()) {
        if (message.field_number() == 1) {
            info.name = message.as_string();
        } else if (message.field_number() == 2) {
            MessageReader type = message.as_message("type");
            while (type.next()) {
                if (type.field_number() != 1) continue;  // sequence/map/optional types: unknown shape
                MessageReader tensor_type = type.as_message("tensor_type");
                while (tensor_type.next()) {
                    if (tensor_type.field_number() == 1) {
                        info.dtype = dtype_for(tensor_type.as_int32());
                    } else if (tensor_type.field_number() == 2) {
                        info.has_shape = true;
                        info.shape.clear();
                        MessageReader shape = tensor_type.as_message("shape");
                        while (shape.next()) {
                            if (shape.field_number() != 1) continue;
                            if (info.shape.size() >= static_cast<size_t>(limits::max_rank)) {
                                shape.fail("value '", info.name, "' has more than ", limits::max_rank, " dimensions");
                            }
                            MessageReader dim = shape.as_message("dim");
                            int64_t value = -1;
                            while (dim.next()) {
                                if (dim.field_number() == 1) value = dim.as_int64();
                            }
                            info.shape.push_back(value < 0 ? -1 : value);
                        }
                    }
                }
            }
        }
    }
    return info;
}

OnnxGraph decode_graph(MessageReader message, const DecodeContext& context) {
    OnnxGraph graph;
    size_t node_index = 0, initializer_index = 0, input_index = 0, output_index = 0, info_index = 0;
    while (message.next()) {
        switch (message.field_number()) {
            case 1:
                if (graph.nodes.size() >= limits::max_layers) {
                    message.fail("the graph has more than ", limits::max_layers, " nodes");
                }
                graph.nodes.push_back(decode_node(message.as_message(concat("node[", node_index++, "]")), context));
                break;
            case 2: graph.name = message.as_string(); break;
            case 5: {
                DecodedTensor tensor =
                    decode_tensor(message.as_message(concat("initializer[", initializer_index++, "]")), context);
                graph.initializers.emplace_back(std::move(tensor.name), std::move(tensor.tensor));
                break;
            }
            case 11: graph.inputs.push_back(decode_value_info(message.as_message(concat("input[", input_index++, "]")))); break;
            case 12: graph.outputs.push_back(decode_value_info(message.as_message(concat("output[", output_index++, "]")))); break;
            case 13: graph.value_info.push_back(decode_value_info(message.as_message(concat("value_info[", info_index++, "]")))); break;
            case 15:
                graph.warnings.push_back(concat("sparse initializer at offset ", format_offset(message.field_offset()),
                                                " is not read; nodes using it will show no weight"));
                break;
            default: break;
        }
    }
    return graph;
}

OnnxModel decode_model(ByteSpan file, const DecodeContext& context) {
    OnnxModel model;
    MessageReader message(file, context.file_name + ": ModelProto");
    while (message.next()) {
        switch (message.field_number()) {
            case 1: model.ir_version = message.as_int64(); model.has_ir_version = true; break;
            case 2: model.producer_name = message.as_string(); break;
            case 3: model.producer_version = message.as_string(); break;
            case 4: model.domain = message.as_string(); break;
            case 5: model.model_version = message.as_int64(); break;
            case 6: model.doc_string = message.as_string(); break;
            case 7:
                if (model.has_graph) message.fail("a second graph field; a model has exactly one graph");
                model.graph = decode_graph(message.as_message("graph"), context);
                model.has_graph = true;
                break;
            case 8: {
                MessageReader opset = message.as_message("opset_import");
                std::string domain;
                int64_t version = 0;
                while (opset.next()) {
                    if (opset.field_number() == 1) domain = opset.as_string();
                    if (opset.field_number() == 2) version = opset.as_int64();
                }
                model.opsets.emplace_back(domain, version);
                break;
            }
            case 14: {
                MessageReader entry = message.as_message("metadata_props");
                std::string key, value;
                while (entry.next()) {
                    if (entry.field_number() == 1) key = entry.as_string();
                    if (entry.field_number() == 2) value = entry.as_string();
                }
                model.metadata_props.emplace_back(key, value);
                break;
            }
            default: break;
        }
    }
    if (!model.has_ir_version) {
        throw_format_error(context.file_name, ": ModelProto has no ir_version (field 1); not an ONNX model");
    }
    if (!model.has_graph) {
        throw_format_error(context.file_name, ": ModelProto has no graph (field 7); nothing to show");
    }
    return model;
}

// [SECTION] graph checks

std::string node_label(const OnnxNode& node, size_t index) {
    return node.name.empty() ? concat(node.op_type, " node #", index) : concat("'", node.name, "' (", node.op_type, ")");
}

// Warns about undefined inputs and an order that is not topological; throws
// when the nodes form a cycle, since no execution order exists then.
void check_graph(const OnnxGraph& graph, const std::string& file_name, std::vector<std::string>& warnings) {
    std::unordered_map<std::string, size_t> producer;
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
        for (const std::string& output : graph.nodes[n].outputs) {
            if (output.empty()) continue;
            if (!producer.emplace(output, n).second) {
                warnings.push_back(concat("value '", output, "' is produced by both node ",
                                          node_label(graph.nodes[producer[output]], producer[output]), " and node ",
                                          node_label(graph.nodes[n], n), "; ONNX requires one producer"));
            }
        }
    }
    std::unordered_set<std::string> external;
    for (const auto& initializer : graph.initializers) external.insert(initializer.first);
    for (const OnnxValueInfo& input : graph.inputs) external.insert(input.name);

    bool out_of_order = false;
    size_t undefined_reported = 0;
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
        for (const std::string& input : graph.nodes[n].inputs) {
            if (input.empty() || external.count(input)) continue;
            auto found = producer.find(input);
            if (found == producer.end()) {
                if (undefined_reported++ < 20) {
                    warnings.push_back(concat("node ", node_label(graph.nodes[n], n), " reads '", input,
                                              "', which no node, graph input or initializer defines"));
                }
            } else if (found->second >= n && !out_of_order) {
                out_of_order = true;
                warnings.push_back(concat("node ", node_label(graph.nodes[n], n), " reads '", input,
                                          "' before node ", node_label(graph.nodes[found->second], found->second),
                                          " produces it; ONNX requires nodes in topological order"));
            }
        }
    }
    if (!out_of_order) return;
    // Kahn's algorithm over node -> node edges; nodes left over lie on a cycle.
    std::vector<size_t> pending(graph.nodes.size(), 0);
    std::vector<std::vector<size_t>> consumers(graph.nodes.size());
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
        for (const std::string& input : graph.nodes[n].inputs) {
            if (input.empty() || external.count(input)) continue;
            auto found = producer.find(input);
            if (found == producer.end()) continue;
            ++pending[n];
            consumers[found->second].push_back(n);
        }
    }
    std::vector<size_t> ready;
    for (size_t n = 0; n < graph.nodes.size(); ++n) if (pending[n] == 0) ready.push_back(n);
    size_t visited = 0;
    while (!ready.empty()) {
        size_t n = ready.back();
        ready.pop_back();
        ++visited;
        for (size_t consumer : consumers[n]) if (--pending[consumer] == 0) ready.push_back(consumer);
    }
    if (visited == graph.nodes.size()) return;
    std::string on_cycle;
    size_t listed = 0;
    for (size_t n = 0; n < graph.nodes.size() && listed < 8; ++n) {
        if (pending[n] == 0) continue;
        on_cycle += (listed++ ? ", " : "") + node_label(graph.nodes[n], n);
    }
    throw_format_error(file_name, ": the graph has a cycle; ", graph.nodes.size() - visited,
                       " nodes depend on each other, including ", on_cycle);
}

// [SECTION] mapping

Model build_model(OnnxModel decoded, const FileBytes& bytes) {
    Model model;
    model.format = ModelFormat::onnx;
    model.producer = decoded.producer_name;
    model.producer_version = decoded.producer_version;
    model.layout = DataLayout::channels_first;
    model.name = decoded.graph.name;
    model.file_bytes = bytes;
    model.warnings = decoded.graph.warnings;

    std::string opset;
    for (const auto& [domain, version] : decoded.opsets) {
        model.opset_imports[domain == "ai.onnx" ? "" : domain] = version;
        opset += concat(opset.empty() ? "" : ", ", domain.empty() ? "ai.onnx" : domain, " ", version);
    }
    model.metadata["opset"] = opset;
    model.metadata["ir_version"] = std::to_string(decoded.ir_version);
    if (!decoded.producer_version.empty()) model.metadata["producer_version"] = decoded.producer_version;
    if (!decoded.domain.empty()) model.metadata["domain"] = decoded.domain;
    if (decoded.model_version) model.metadata["model_version"] = std::to_string(decoded.model_version);
    if (!decoded.doc_string.empty()) model.metadata["doc_string"] = decoded.doc_string;
    uint64_t initializer_parameters = 0;
    for (const auto& initializer : decoded.graph.initializers) initializer_parameters += initializer.second.element_count();
    model.metadata["initializer_parameters"] = std::to_string(initializer_parameters);
    for (const auto& [key, value] : decoded.metadata_props) {
        std::string slot = model.metadata.count(key) ? "metadata_props." + key : key;
        model.metadata[slot] = value;
    }
    if (decoded.opsets.empty()) model.warnings.push_back("the model declares no opset_import");

    OnnxGraph& graph = decoded.graph;
    std::unordered_map<std::string, const Tensor*> initializers;
    for (const auto& [name, tensor] : graph.initializers) {
        if (!initializers.emplace(name, &tensor).second) {
            model.warnings.push_back(concat("initializer '", name, "' appears twice; the first is used"));
        }
    }
    for (const OnnxValueInfo& input : graph.inputs) {
        if (initializers.count(input.name)) continue;  // IR < 4 lists initializers as inputs
        model.inputs.push_back({input.name, input.shape, input.dtype.value_or(DType::f32)});
    }
    for (const OnnxValueInfo& output : graph.outputs) {
        model.outputs.push_back({output.name, output.shape, output.dtype.value_or(DType::f32)});
    }

    std::unordered_set<std::string> used_names;
    model.layers.reserve(graph.nodes.size());
    for (size_t index = 0; index < graph.nodes.size(); ++index) {
        OnnxNode& node = graph.nodes[index];
        Layer layer;
        layer.name = node.name.empty() ? concat(node.op_type, "_", index) : node.name;
        if (!used_names.insert(layer.name).second) {
            layer.name = concat(layer.name, "_", index);
            used_names.insert(layer.name);
        }
        layer.type = node.op_type;
        layer.inputs = std::move(node.inputs);
        layer.outputs = std::move(node.outputs);
        layer.attributes = std::move(node.attributes);
        layer.unsupported_reason = std::move(node.unsupported_reason);
        if (!node.domain.empty() && node.domain != "ai.onnx") {
            layer.unsupported_reason = "custom operator domain " + node.domain;
            layer.attributes.emplace("domain", node.domain);
        }
        std::unordered_set<std::string> weight_names;
        for (const std::string& input : layer.inputs) {
            auto found = initializers.find(input);
            if (found == initializers.end() || !weight_names.insert(input).second) continue;
            layer.weights.push_back({input, *found->second});
        }
        model.layers.push_back(std::move(layer));
    }
    OnnxShapeSeeds seeds{{}, {}, graph.initializers};
    for (const OnnxValueInfo& info : graph.value_info) if (info.has_shape) seeds.declared[info.name] = info.shape;
    for (const OnnxValueInfo& info : graph.outputs) if (info.has_shape) seeds.declared[info.name] = info.shape;
    for (const OnnxValueInfo& info : graph.inputs) if (info.has_shape) seeds.inputs.emplace_back(info.name, info.shape);
    infer_onnx_shapes(model, seeds);
    return model;
}

// A varint reader for looks_like_onnx that reports failure instead of throwing.
bool peek_varint(ByteSpan bytes, size_t& position, uint64_t& value) {
    value = 0;
    for (int index = 0; index < 10; ++index) {
        if (position >= bytes.size) return false;
        uint8_t byte = bytes.data[position++];
        value |= static_cast<uint64_t>(byte & 0x7f) << (7 * index);
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

}  // namespace

// [SECTION] entry points

bool looks_like_onnx(ByteSpan bytes) {
    // IR versions so far are 1..10; leave room for a few more.
    constexpr uint64_t max_plausible_ir_version = 32;
    if (bytes.size < 4 || bytes.data[0] != 0x08) return false;
    size_t position = 0;
    bool has_ir_version = false;
    for (int field = 0; field < 64 && position < bytes.size; ++field) {
        uint64_t tag = 0, value = 0;
        if (!peek_varint(bytes, position, tag)) return false;
        uint64_t number = tag >> 3;
        unsigned type = static_cast<unsigned>(tag & 7);
        if (number == 0) return false;
        switch (type) {
            case 0:
                if (!peek_varint(bytes, position, value)) return false;
                if (number == 1) {
                    if (value == 0 || value > max_plausible_ir_version) return false;
                    has_ir_version = true;
                }
                break;
            case 2:
                if (!peek_varint(bytes, position, value)) return false;
                // A graph whose length runs past the end is a truncated ONNX
                // file; let open_onnx say so rather than "unknown format".
                if (number == 7) return has_ir_version;
                if (value > bytes.size - position) return false;
                position += static_cast<size_t>(value);
                break;
            case 1:
                if (bytes.size - position < 8) return false;
                position += 8;
                break;
            case 5:
                if (bytes.size - position < 4) return false;
                position += 4;
                break;
            default: return false;
        }
        // Field 1 and 5 are varints, 2..4, 6..8 and 14 length-delimited.
        if ((number == 1 || number == 5) && type != 0) return false;
        if ((number == 2 || number == 3 || number == 4 || number == 6 || number == 8 || number == 14) && type != 2) {
            return false;
        }
    }
    return false;
}

namespace {
Model open_onnx_with(const FileBytes& bytes, const std::string& file_name, uint8_t* writable_file) {
    ByteSpan file(bytes->data(), bytes->size());
    DecodeContext context{bytes, file_name, writable_file, bytes->size()};
    OnnxModel decoded = decode_model(file, context);
    std::vector<std::string> graph_warnings;
    check_graph(decoded.graph, file_name, graph_warnings);
    Model model = build_model(std::move(decoded), bytes);
    model.warnings.insert(model.warnings.end(), graph_warnings.begin(), graph_warnings.end());
    return model;
}
}  // namespace

Model open_onnx(const FileBytes& bytes, const std::string& file_name) {
    if (!bytes) throw Error("open_onnx: no bytes");
    return open_onnx_with(bytes, file_name, nullptr);
}

Model open_onnx_in_place(const WritableFileBytes& bytes, const std::string& file_name) {
    if (!bytes) throw Error("open_onnx_in_place: no bytes");
    return open_onnx_with(bytes, file_name, bytes->data());
}

OnnxTensor read_onnx_tensor(const FileBytes& bytes, const std::string& file_name) {
    if (!bytes) throw Error("read_onnx_tensor: no bytes");
    DecodeContext context{bytes, file_name, nullptr, bytes->size()};
    DecodedTensor decoded = decode_tensor(MessageReader(ByteSpan(bytes->data(), bytes->size()), file_name + ": TensorProto"), context);
    return OnnxTensor{std::move(decoded.name), std::move(decoded.tensor)};
}

}  // namespace convscope
