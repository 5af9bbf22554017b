// [SECTION] index
//   schema fields     field ids of the tables read (schema.fbs)
//   tensor types      TensorType -> DType and names
//   decoded model     plain structs the decoders fill
//   dequantization    dequantize_weight (public)
//   buffers, tensors  Buffer data ranges, Tensor tables, constant data
//   operators         OperatorCode, Operator, builtin options -> attributes
//   metadata          min_runtime_version, TFLITE_METADATA, labels archive
//   mapping           decoded model -> convscope::Model
//   entry points      looks_like_tflite, open_tflite
#include "core/formats/tflite.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/flatbuffers.h"
#include "core/formats/tflite_internal.h"
#include "core/formats/zip.h"

namespace convscope {

// [SECTION] dequantization (public)

Tensor dequantize_weight(const Tensor& stored, const WeightQuantization& q) {
    if (q.scale.empty() || q.zero_point.size() != q.scale.size()) {
        throw Error(concat("dequantize_weight: ", q.scale.size(), " scales and ", q.zero_point.size(), " zero points"));
    }
    uint64_t inner = 1, channels = 1;
    if (q.axis >= 0) {
        if (q.axis >= stored.rank() || stored.shape()[q.axis] != static_cast<int64_t>(q.scale.size())) {
            throw Error(concat("dequantize_weight: ", q.scale.size(), " scales along axis ", q.axis, " of shape ",
                               shape_to_string_x(stored.shape())));
        }
        channels = static_cast<uint64_t>(stored.shape()[q.axis]);
        for (size_t d = static_cast<size_t>(q.axis) + 1; d < stored.shape().size(); ++d) inner *= stored.shape()[d];
    }
    Tensor out = Tensor::zeros(DType::f32, stored.shape());
    float* values = out.mutable_f32();
    for (uint64_t e = 0; e < stored.element_count(); ++e) {
        size_t channel = q.axis >= 0 ? static_cast<size_t>((e / inner) % channels) : 0;
        values[e] = static_cast<float>(q.scale[channel] * (stored.value_at(e) - static_cast<double>(q.zero_point[channel])));
    }
    return out;
}

namespace {

using flatbuffers::Field;
using flatbuffers::Table;
using flatbuffers::Vector;

// [SECTION] schema fields

namespace model_field {
constexpr Field version{0, "version"}, operator_codes{1, "operator_codes"}, subgraphs{2, "subgraphs"},
    description{3, "description"}, buffers{4, "buffers"}, metadata{6, "metadata"},
    signature_defs{7, "signature_defs"};
}
namespace opcode_field {
constexpr Field deprecated_builtin_code{0, "deprecated_builtin_code"}, custom_code{1, "custom_code"},
    version{2, "version"}, builtin_code{3, "builtin_code"};
}
namespace subgraph_field {
constexpr Field tensors{0, "tensors"}, inputs{1, "inputs"}, outputs{2, "outputs"}, operators{3, "operators"},
    name{4, "name"};
}
namespace tensor_field {
constexpr Field shape{0, "shape"}, type{1, "type"}, buffer{2, "buffer"}, name{3, "name"},
    quantization{4, "quantization"}, is_variable{5, "is_variable"}, sparsity{6, "sparsity"},
    shape_signature{7, "shape_signature"};
}
namespace quantization_field {
constexpr Field scale{2, "scale"}, zero_point{3, "zero_point"}, details_type{4, "details_type"},
    details{5, "details"}, quantized_dimension{6, "quantized_dimension"};
}
namespace operator_field {
constexpr Field opcode_index{0, "opcode_index"}, inputs{1, "inputs"}, outputs{2, "outputs"},
    builtin_options_type{3, "builtin_options_type"}, builtin_options{4, "builtin_options"},
    custom_options{5, "custom_options"}, builtin_options_2_type{11, "builtin_options_2_type"},
    builtin_options_2{12, "builtin_options_2"};
}
namespace buffer_field {
constexpr Field data{0, "data"}, offset{1, "offset"}, size{2, "size"};
}
namespace metadata_field {
constexpr Field name{0, "name"}, buffer{1, "buffer"};
}
namespace signature_field {
constexpr Field inputs{0, "inputs"}, outputs{1, "outputs"}, signature_key{2, "signature_key"},
    subgraph_index{4, "subgraph_index"};
constexpr Field map_name{0, "name"}, map_tensor_index{1, "tensor_index"};
}

constexpr int32_t builtin_custom = 32;
constexpr int32_t builtin_dequantize = 6;

// [SECTION] tensor types

const char* tensor_type_name(int type) {
    static const char* const names[] = {"FLOAT32", "FLOAT16", "INT32",  "UINT8",   "INT64",    "STRING",
                                        "BOOL",    "INT16",   "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128",
                                        "UINT64",  "RESOURCE", "VARIANT", "UINT32", "UINT16",   "INT4"};
    return type >= 0 && type < 18 ? names[type] : "unknown";
}

constexpr int tensor_type_int4 = 17;

// The DType a tensor of this type is held in (INT4 is unpacked to int8).
std::optional<DType> dtype_for(int type) {
    switch (type) {
        case 0: return DType::f32;
        case 1: return DType::f16;
        case 2: return DType::i32;
        case 3: return DType::u8;
        case 4: return DType::i64;
        case 6: return DType::boolean;
        case 7: return DType::i16;
        case 9: return DType::i8;
        case 10: return DType::f64;
        case 12: return DType::u64;
        case 15: return DType::u32;
        case 16: return DType::u16;
        case tensor_type_int4: return DType::i8;
        default: return std::nullopt;
    }
}

// [SECTION] decoded model

struct DataRange {
    uint64_t offset = 0;  // absolute in the file
    uint64_t size = 0;
};

struct TfliteTensor {
    std::string name;
    int type = 0;
    Shape shape;
    Shape shape_signature;  // empty when absent
    uint32_t buffer = 0;
    bool is_variable = false;
    bool sparse = false;
    std::optional<WeightQuantization> quantization;
    bool custom_quantization = false;
    std::optional<Tensor> data;  // constant tensors
    std::string data_problem;    // why a constant has no data (e.g. unsupported type)
};

struct TfliteOperator {
    int32_t builtin_code = 0;
    std::string custom_code;
    int32_t op_version = 1;
    std::vector<int32_t> inputs;
    std::vector<int32_t> outputs;
    std::map<std::string, AttributeValue> attributes;
    std::string unsupported_reason;
};

struct TfliteSubgraph {
    std::string name;
    std::vector<TfliteTensor> tensors;
    std::vector<int32_t> inputs;
    std::vector<int32_t> outputs;
    std::vector<TfliteOperator> operators;
};

struct Context {
    FileBytes bytes;
    std::string file_name;
    flatbuffers::Buffer buffer;
    std::vector<DataRange> buffers;
    std::vector<std::string> warnings;
};

// [SECTION] buffers, tensors

std::vector<DataRange> decode_buffers(const Table& model, const ByteSpan& file) {
    std::vector<DataRange> ranges;
    std::optional<Vector> buffers = model.vector(model_field::buffers, 4);
    if (!buffers) return ranges;
    ranges.reserve(buffers->size());
    for (uint32_t index = 0; index < buffers->size(); ++index) {
        Table buffer = buffers->table(index);
        DataRange range;
        if (std::optional<Vector> data = buffer.vector(buffer_field::data, 1)) {
            range = {data->data_position(), data->size()};
        } else {
            uint64_t offset = buffer.u64(buffer_field::offset), size = buffer.u64(buffer_field::size);
            if (offset > 1) {
                if (offset > file.size || size > file.size - offset) {
                    buffer.fail(buffer_field::offset, "data of ", size, " bytes at file offset ", offset,
                                " lies past the end of the ", file.size, "-byte file");
                }
                range = {offset, size};
            }
        }
        ranges.push_back(range);
    }
    return ranges;
}

Shape read_shape(const Table& table, Field field) {
    std::optional<Vector> dims = table.vector(field, 4);
    if (!dims) return {};
    if (dims->size() > static_cast<uint32_t>(limits::max_rank)) {
        table.fail(field, "rank ", dims->size(), " exceeds the limit of ", limits::max_rank);
    }
    std::vector<int32_t> values = dims->i32s();
    return Shape(values.begin(), values.end());
}

std::optional<WeightQuantization> decode_quantization(const Table& tensor, bool& custom) {
    std::optional<Table> table = tensor.table(tensor_field::quantization);
    if (!table) return std::nullopt;
    custom = table->union_member(quantization_field::details_type, quantization_field::details).first != 0;
    WeightQuantization quantization;
    if (std::optional<Vector> scale = table->vector(quantization_field::scale, 4)) quantization.scale = scale->f32s();
    if (std::optional<Vector> zero = table->vector(quantization_field::zero_point, 8)) {
        quantization.zero_point = zero->i64s();
    }
    if (quantization.scale.empty()) return std::nullopt;  // min/max only: nothing to dequantize with
    if (!quantization.zero_point.empty() && quantization.zero_point.size() != quantization.scale.size()) {
        table->fail(quantization_field::zero_point, quantization.zero_point.size(), " zero points for ",
                    quantization.scale.size(), " scales");
    }
    if (quantization.zero_point.empty()) quantization.zero_point.assign(quantization.scale.size(), 0);
    // One scale is per-tensor whatever the dimension says; several are per
    // channel along quantized_dimension (checked against the shape by the caller).
    int32_t axis = table->i32(quantization_field::quantized_dimension);
    if (quantization.scale.size() > 1 && axis < 0) {
        table->fail(quantization_field::quantized_dimension, "negative dimension ", axis, " for ",
                    quantization.scale.size(), " per-channel scales");
    }
    quantization.axis = quantization.scale.size() > 1 ? axis : -1;
    return quantization;
}

// The constant data of a tensor whose buffer holds bytes, checked against
// its shape and type.
void attach_data(TfliteTensor& tensor, const Context& context, const Table& table) {
    const DataRange& range = context.buffers[tensor.buffer];
    if (range.size == 0 || tensor.is_variable) return;
    std::optional<DType> dtype = dtype_for(tensor.type);
    if (tensor.sparse) {
        tensor.data_problem = "it is sparse; sparse tensors are not supported";
        return;
    }
    if (!dtype) {
        tensor.data_problem = concat("its type ", tensor_type_name(tensor.type), " has no array form here");
        return;
    }
    for (int64_t dim : tensor.shape) {
        if (dim < 0) table.fail(tensor_field::shape, "constant tensor '", tensor.name, "' has dimension ", dim);
    }
    uint64_t elements = shape_element_count(tensor.shape);
    const uint8_t* data = context.bytes->data() + range.offset;
    if (tensor.type == tensor_type_int4) {
        uint64_t expected = (elements + 1) / 2;
        if (range.size != expected) {
            table.fail(tensor_field::buffer, "tensor '", tensor.name, "' of shape ", shape_to_string_x(tensor.shape),
                       " INT4 needs ", expected, " bytes; buffer ", tensor.buffer, " holds ", range.size);
        }
        Tensor unpacked = Tensor::zeros(DType::i8, tensor.shape);
        int8_t* out = reinterpret_cast<int8_t*>(unpacked.mutable_raw());
        for (uint64_t i = 0; i < elements; ++i) {
            uint8_t nibble = (data[i / 2] >> ((i % 2) * 4)) & 0x0f;  // low nibble first
            out[i] = static_cast<int8_t>(nibble >= 8 ? nibble - 16 : nibble);
        }
        tensor.data = std::move(unpacked);
        return;
    }
    uint64_t expected = elements * dtype_size(*dtype);
    if (range.size != expected) {
        table.fail(tensor_field::buffer, "tensor '", tensor.name, "' of shape ", shape_to_string_x(tensor.shape), " ",
                   tensor_type_name(tensor.type), " needs ", expected, " bytes; buffer ", tensor.buffer, " at offset ",
                   format_offset(range.offset), " holds ", range.size);
    }
    tensor.data = Tensor::view(*dtype, tensor.shape, data, context.bytes);
}

// What decoding and mapping one tensor or operator costs in memory, roughly,
// charged to the read budget (see flatbuffers.h).
constexpr uint64_t tensor_cost = 128;
constexpr uint64_t operator_cost = 256;

TfliteTensor decode_tensor(const Table& table, const Context& context) {
    TfliteTensor tensor;
    tensor.name = table.string_or(tensor_field::name, "");
    tensor.type = table.i8(tensor_field::type);
    tensor.shape = read_shape(table, tensor_field::shape);
    tensor.shape_signature = read_shape(table, tensor_field::shape_signature);
    tensor.buffer = table.u32(tensor_field::buffer);
    tensor.is_variable = table.boolean(tensor_field::is_variable);
    tensor.sparse = table.has(tensor_field::sparsity);
    tensor.quantization = decode_quantization(table, tensor.custom_quantization);
    if (tensor.buffer >= context.buffers.size() && tensor.buffer != 0) {
        table.fail(tensor_field::buffer, "tensor '", tensor.name, "' refers to buffer ", tensor.buffer, " of ",
                   context.buffers.size());
    }
    if (tensor.quantization && tensor.quantization->axis >= 0) {
        const WeightQuantization& q = *tensor.quantization;
        bool fits = q.axis < static_cast<int>(tensor.shape.size()) &&
                    tensor.shape[q.axis] == static_cast<int64_t>(q.scale.size());
        if (!fits) {
            table.fail(tensor_field::quantization, "tensor '", tensor.name, "' has ", q.scale.size(),
                       " per-channel scales along dimension ", q.axis, " of shape ", shape_to_string_x(tensor.shape));
        }
    }
    if (tensor.buffer != 0) attach_data(tensor, context, table);
    return tensor;
}

std::vector<int32_t> read_tensor_indices(const Table& table, Field field, size_t tensor_count, bool allow_omitted) {
    std::optional<Vector> vector = table.vector(field, 4);
    if (!vector) return {};
    std::vector<int32_t> indices = vector->i32s();
    for (size_t i = 0; i < indices.size(); ++i) {
        int32_t index = indices[i];
        if ((index == -1 && allow_omitted) || (index >= 0 && static_cast<size_t>(index) < tensor_count)) continue;
        table.fail(field, "entry ", i, " is tensor ", index, "; the subgraph has ", tensor_count, " tensors");
    }
    return indices;
}

// [SECTION] operators

struct OperatorCode {
    int32_t builtin_code = 0;
    std::string custom_code;
    int32_t version = 1;
};

std::vector<OperatorCode> decode_operator_codes(const Table& model) {
    std::vector<OperatorCode> codes;
    std::optional<Vector> vector = model.vector(model_field::operator_codes, 4);
    if (!vector) return codes;
    for (uint32_t index = 0; index < vector->size(); ++index) {
        Table table = vector->table(index);
        OperatorCode code;
        // Old files set only the int8 field, new ones both (the int8 saturated
        // at PLACEHOLDER_FOR_GREATER_OP_CODES for codes past 127).
        int32_t deprecated = table.i8(opcode_field::deprecated_builtin_code);
        code.builtin_code = std::max(deprecated, table.i32(opcode_field::builtin_code));
        code.custom_code = table.string_or(opcode_field::custom_code, "");
        code.version = table.i32(opcode_field::version, 1);
        codes.push_back(std::move(code));
    }
    return codes;
}

std::string enum_name(const char* const* names, size_t count, int64_t value) {
    if (value >= 0 && static_cast<size_t>(value) < count) return names[value];
    return concat("unknown (", value, ")");
}

AttributeValue decode_option(const Table& options, Field field, const std::string& kind, double fallback) {
    static const char* const paddings[] = {"SAME", "VALID"};
    static const char* const activations[] = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"};
    static const char* const weights_formats[] = {"DEFAULT", "SHUFFLED4x16INT8"};
    static const char* const mirror_modes[] = {"REFLECT", "SYMMETRIC"};
    if (kind == "bool") return int64_t{options.boolean(field, fallback != 0)};
    if (kind == "i8") return int64_t{options.i8(field, static_cast<int8_t>(fallback))};
    if (kind == "i32") return int64_t{options.i32(field, static_cast<int32_t>(fallback))};
    if (kind == "u32") return int64_t{options.u32(field, static_cast<uint32_t>(fallback))};
    if (kind == "i64") return options.i64(field, static_cast<int64_t>(fallback));
    if (kind == "f32") return double{options.f32(field, static_cast<float>(fallback))};
    if (kind == "string") return options.string_or(field, "");
    if (kind == "i32s" || kind == "f32s") {
        std::optional<Vector> vector = options.vector(field, 4);
        if (kind == "f32s") {
            std::vector<float> values = vector ? vector->f32s() : std::vector<float>{};
            return std::vector<double>(values.begin(), values.end());
        }
        std::vector<int32_t> values = vector ? vector->i32s() : std::vector<int32_t>{};
        return std::vector<int64_t>(values.begin(), values.end());
    }
    int64_t value = options.i8(field, static_cast<int8_t>(fallback));
    if (kind == "padding") return enum_name(paddings, 2, value);
    if (kind == "activation") return enum_name(activations, 6, value);
    if (kind == "weights_format") return enum_name(weights_formats, 2, value);
    if (kind == "mirror_pad_mode") return enum_name(mirror_modes, 2, value);
    if (kind == "type") return std::string(tensor_type_name(static_cast<int>(value)));
    throw Error(concat("tflite options table: unknown field kind '", kind, "'"));
}

// Reads every field of a BuiltinOptions member into attributes named as in
// the schema; absent scalars get the schema default (what TFLite reads).
void decode_builtin_options(const Table& op, TfliteOperator& decoded) {
    auto [type, options] = op.union_member(operator_field::builtin_options_type, operator_field::builtin_options);
    if (type == 0) return;
    const tflite::OptionsTable* table = tflite::builtin_options_table(type);
    if (!table) {
        decoded.attributes["builtin_options"] = concat("unknown options type ", int(type));
        return;
    }
    decoded.attributes["builtin_options"] = std::string(table->name);
    if (!options) return;
    std::istringstream specs(table->fields);
    std::string spec;
    for (int id = 0; specs >> spec; ++id) {
        size_t colon = spec.find(':'), equals = spec.find('=');
        std::string name = spec.substr(0, colon);
        std::string kind = spec.substr(colon + 1, equals == std::string::npos ? std::string::npos : equals - colon - 1);
        double fallback = equals == std::string::npos ? 0.0 : std::stod(spec.substr(equals + 1));
        Field field{id, name.c_str()};
        if ((kind == "i32s" || kind == "f32s" || kind == "string") && !options->has(field)) continue;
        decoded.attributes[name] = decode_option(*options, field, kind, fallback);
    }
}

TfliteOperator decode_operator(const Table& table, const std::vector<OperatorCode>& codes, size_t tensor_count) {
    TfliteOperator op;
    uint32_t opcode_index = table.u32(operator_field::opcode_index);
    if (opcode_index >= codes.size()) {
        table.fail(operator_field::opcode_index, "operator code ", opcode_index, " of ", codes.size());
    }
    const OperatorCode& code = codes[opcode_index];
    op.builtin_code = code.builtin_code;
    op.custom_code = code.custom_code;
    op.op_version = code.version;
    op.inputs = read_tensor_indices(table, operator_field::inputs, tensor_count, true);
    op.outputs = read_tensor_indices(table, operator_field::outputs, tensor_count, false);
    decode_builtin_options(table, op);
    uint8_t options_2 =
        table.union_member(operator_field::builtin_options_2_type, operator_field::builtin_options_2).first;
    if (options_2 != 0) op.attributes["builtin_options_2"] = int64_t{options_2};
    if (std::optional<Vector> custom = table.vector(operator_field::custom_options, 1)) {
        op.attributes["custom_options_bytes"] = int64_t{custom->size()};
    }
    return op;
}

TfliteSubgraph decode_subgraph(const Table& table, const std::vector<OperatorCode>& codes, const Context& context) {
    TfliteSubgraph subgraph;
    subgraph.name = table.string_or(subgraph_field::name, "");
    if (std::optional<Vector> tensors = table.vector(subgraph_field::tensors, 4)) {
        context.buffer.charge(tensor_cost * tensors->size());  // before reserving memory for them
        subgraph.tensors.reserve(tensors->size());
        for (uint32_t i = 0; i < tensors->size(); ++i) {
            subgraph.tensors.push_back(decode_tensor(tensors->table(i), context));
        }
    }
    size_t count = subgraph.tensors.size();
    subgraph.inputs = read_tensor_indices(table, subgraph_field::inputs, count, false);
    subgraph.outputs = read_tensor_indices(table, subgraph_field::outputs, count, false);
    if (std::optional<Vector> operators = table.vector(subgraph_field::operators, 4)) {
        if (operators->size() > limits::max_layers) {
            throw_limit_error(table.path(), ": ", operators->size(), " operators; the limit is ", limits::max_layers);
        }
        context.buffer.charge(operator_cost * operators->size());
        subgraph.operators.reserve(operators->size());
        for (uint32_t i = 0; i < operators->size(); ++i) {
            subgraph.operators.push_back(decode_operator(operators->table(i), codes, count));
        }
    }
    return subgraph;
}

// [SECTION] metadata

std::string trim_nul(const std::string& text) { return text.substr(0, text.find('\0')); }

struct AssociatedFile {
    std::string name;
    int type = 0;
};

void collect_associated_files(const Table& table, Field field, std::vector<AssociatedFile>& out) {
    std::optional<Vector> files = table.vector(field, 4);
    if (!files) return;
    for (uint32_t i = 0; i < files->size(); ++i) {
        Table file = files->table(i);
        out.push_back({file.string_or({0, "name"}, ""), file.i8({2, "type"})});
    }
}

// The TFLite support library's ModelMetadata (metadata_schema.fbs).
void read_model_metadata(ByteSpan bytes, Model& model, std::vector<AssociatedFile>& files) {
    flatbuffers::Buffer buffer(bytes, "TFLITE_METADATA");
    Table root = buffer.root();
    const std::pair<Field, const char*> strings[] = {
        {{0, "name"}, "name"},     {{1, "description"}, "description"}, {{2, "version"}, "version"},
        {{4, "author"}, "author"}, {{5, "license"}, "license"},        {{7, "min_parser_version"}, "min_parser_version"}};
    for (const auto& [field, key] : strings) {
        if (std::optional<std::string> value = root.string(field)) model.metadata[concat("model_metadata.", key)] = *value;
    }
    collect_associated_files(root, {6, "associated_files"}, files);
    if (std::optional<Vector> subgraphs = root.vector({3, "subgraph_metadata"}, 4)) {
        for (uint32_t s = 0; s < subgraphs->size(); ++s) {
            Table subgraph = subgraphs->table(s);
            collect_associated_files(subgraph, {4, "associated_files"}, files);
            for (Field tensors_field : {Field{2, "input_tensor_metadata"}, Field{3, "output_tensor_metadata"}}) {
                std::optional<Vector> tensors = subgraph.vector(tensors_field, 4);
                for (uint32_t t = 0; tensors && t < tensors->size(); ++t) {
                    collect_associated_files(tensors->table(t), {6, "associated_files"}, files);
                }
            }
        }
    }
}

// The ZIP archive the metadata populator appends after the flatbuffer; the
// labels file is the first TENSOR_AXIS_LABELS file the metadata names, else
// a member whose name says "label".
void read_labels_archive(const Context& context, const std::vector<AssociatedFile>& files, Model& model) {
    const std::vector<uint8_t>& bytes = *context.bytes;
    const uint8_t end_signature[] = {'P', 'K', 5, 6};
    size_t search_from = bytes.size() > 65557 ? bytes.size() - 65557 : 0;
    auto found = std::search(bytes.begin() + static_cast<std::ptrdiff_t>(search_from), bytes.end(),
                             std::begin(end_signature), std::end(end_signature));
    if (found == bytes.end()) {
        if (!files.empty()) model.warnings.push_back("the metadata names associated files, but no archive of them is appended");
        return;
    }
    try {
        ZipArchive archive = ZipArchive::open(context.bytes, context.file_name + " (appended archive)");
        std::vector<std::string> names = archive.names();
        std::string joined;
        for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
        model.metadata["associated_files"] = joined;
        std::string labels_file;
        for (const AssociatedFile& file : files) {
            if ((file.type == 2 || file.type == 3) && archive.contains(file.name)) {
                labels_file = file.name;
                break;
            }
        }
        for (size_t i = 0; labels_file.empty() && i < names.size(); ++i) {
            std::string lower = names[i];
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (lower.find("label") != std::string::npos) labels_file = names[i];
        }
        if (labels_file.empty()) return;
        std::istringstream text(archive.read_text(labels_file));
        std::string line, labels;
        while (std::getline(text, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            labels += (labels.empty() ? "" : "\n") + line;
        }
        model.metadata["labels_file"] = labels_file;
        model.metadata["labels"] = labels;
    } catch (const Error& error) {
        // Weights may hold the end-record signature by chance: only a file
        // whose metadata promises associated files hears about it.
        if (!files.empty()) {
            model.warnings.push_back(concat("the archive appended after the model cannot be read: ", error.what()));
        }
    }
}

void read_metadata(const Table& root, Context& context, Model& model) {
    std::optional<Vector> entries = root.vector(model_field::metadata, 4);
    std::vector<AssociatedFile> files;
    for (uint32_t i = 0; entries && i < entries->size(); ++i) {
        Table entry = entries->table(i);
        std::string name = entry.string_or(metadata_field::name, "");
        uint32_t index = entry.u32(metadata_field::buffer);
        if (index >= context.buffers.size()) {
            entry.fail(metadata_field::buffer, "metadata '", name, "' refers to buffer ", index, " of ", context.buffers.size());
        }
        const DataRange& range = context.buffers[index];
        ByteSpan data(context.bytes->data() + range.offset, static_cast<size_t>(range.size), range.offset);
        if (name == "min_runtime_version") {
            model.metadata["min_runtime_version"] = trim_nul(std::string(reinterpret_cast<const char*>(data.data), data.size));
        } else if (name == "TFLITE_METADATA") {
            try {
                read_model_metadata(data, model, files);
            } catch (const Error& error) {
                model.warnings.push_back(concat("TFLITE_METADATA cannot be read: ", error.what()));
            }
        } else {
            model.metadata[concat("metadata.", name)] = concat(range.size, " bytes");
        }
    }
    read_labels_archive(context, files, model);
}

std::string describe_signatures(const Table& root) {
    std::optional<Vector> signatures = root.vector(model_field::signature_defs, 4);
    std::string out;
    for (uint32_t i = 0; signatures && i < signatures->size(); ++i) {
        Table signature = signatures->table(i);
        std::string text = signature.string_or(signature_field::signature_key, "?");
        text += concat(" (subgraph ", signature.u32(signature_field::subgraph_index));
        for (Field field : {signature_field::inputs, signature_field::outputs}) {
            std::optional<Vector> maps = signature.vector(field, 4);
            text += concat("; ", field.name, ":");
            for (uint32_t m = 0; maps && m < maps->size(); ++m) {
                Table map = maps->table(m);
                text += concat(" ", map.string_or(signature_field::map_name, "?"), "=tensor ",
                               map.u32(signature_field::map_tensor_index));
            }
        }
        out += (out.empty() ? "" : ", ") + text + ")";
    }
    return out;
}

// [SECTION] mapping

constexpr const char* not_executable = "TFLite execution is not implemented yet";

// shape_signature carries the dynamic dimensions (-1) that shape fills in with 1.
Shape declared_shape(const TfliteTensor& tensor) {
    return tensor.shape_signature.size() == tensor.shape.size() ? tensor.shape_signature : tensor.shape;
}

// One unique value name per tensor: its own name when it has a fresh one.
std::vector<std::string> unique_value_names(const TfliteSubgraph& subgraph) {
    std::vector<std::string> names;
    std::set<std::string> used;
    names.reserve(subgraph.tensors.size());
    for (size_t i = 0; i < subgraph.tensors.size(); ++i) {
        std::string name = subgraph.tensors[i].name;
        if (name.empty() || used.count(name)) name = concat("tensor_", i);
        while (used.count(name)) name += "_";
        used.insert(name);
        names.push_back(std::move(name));
    }
    return names;
}

bool is_integer(DType dtype) {
    return dtype != DType::f16 && dtype != DType::f32 && dtype != DType::f64 && dtype != DType::boolean;
}

Tensor dequantize(const Tensor& stored, const std::optional<WeightQuantization>& quantization) {
    if (!quantization || !is_integer(stored.dtype())) return stored.to_float32();
    return dequantize_weight(stored, *quantization);
}

const char* weights_layout(int32_t code) {
    switch (code) {
        case 3: return "OHWI (filter: output channels x height x width x input channels)";
        case 4: return "1HWC (filter: 1 x height x width x output channels)";
        case 67: return "OHWI (filter: output channels x height x width x input channels)";
        case 9: return "OI (weights: units x inputs)";
        default: return nullptr;
    }
}

std::string describe_quantization(const std::string& name, const Tensor& tensor, const WeightQuantization& q) {
    auto [low, high] = std::minmax_element(q.scale.begin(), q.scale.end());
    if (q.axis < 0) {
        return concat(name, ": ", dtype_name(tensor.dtype()), " scale ", *low, " zero_point ", q.zero_point[0]);
    }
    return concat(name, ": ", dtype_name(tensor.dtype()), " per-channel along axis ", q.axis, " (", q.scale.size(),
                  " scales ", *low, "..", *high, ")");
}

void set_output_quantization(const TfliteTensor& output, Layer& layer) {
    if (!output.quantization) return;
    const WeightQuantization& q = *output.quantization;
    if (q.scale.size() == 1) {
        layer.attributes["output_scale"] = double{q.scale[0]};
        layer.attributes["output_zero_point"] = q.zero_point[0];
    } else {
        layer.attributes["output_scale"] = std::vector<double>(q.scale.begin(), q.scale.end());
        layer.attributes["output_zero_point"] = q.zero_point;
    }
}

struct MappingState {
    const TfliteSubgraph& subgraph;
    const Context& context;
    std::vector<std::string> value_names;
    std::set<std::string> layer_names;
    std::unordered_map<int32_t, Tensor> dequantized;  // DEQUANTIZE outputs of constants
    // By source constant: a file whose many DEQUANTIZE ops read one large
    // constant gets one float copy, not one per op.
    std::unordered_map<int32_t, Tensor> dequantized_sources;
};

void add_weights(const TfliteOperator& op, MappingState& state, Layer& layer) {
    std::vector<std::string> quantization_notes;
    std::set<int32_t> seen;
    for (int32_t index : op.inputs) {
        if (index < 0 || !seen.insert(index).second) continue;
        const TfliteTensor& tensor = state.subgraph.tensors[static_cast<size_t>(index)];
        const std::string& name = state.value_names[static_cast<size_t>(index)];
        if (tensor.data) {
            layer.weights.push_back({name, *tensor.data});
            if (tensor.quantization && is_integer(tensor.data->dtype())) {
                layer.weight_quantization[name] = *tensor.quantization;
                quantization_notes.push_back(describe_quantization(name, *tensor.data, *tensor.quantization));
            }
        } else if (!tensor.data_problem.empty()) {
            std::string problem = concat("constant input '", name, "' cannot be read: ", tensor.data_problem);
            layer.unsupported_reason = problem + "; " + layer.unsupported_reason;
        } else if (auto found = state.dequantized.find(index); found != state.dequantized.end()) {
            layer.weights.push_back({name, found->second});
            quantization_notes.push_back(concat(name, ": float32, dequantized from the DEQUANTIZE layer's constant"));
        }
    }
    if (!quantization_notes.empty()) layer.attributes["weights_quantization"] = quantization_notes;
}

Layer build_layer(const TfliteOperator& op, size_t index, MappingState& state) {
    Layer layer;
    const char* builtin = tflite::builtin_operator_name(op.builtin_code);
    if (op.builtin_code == builtin_custom) {
        layer.type = op.custom_code.empty() ? "CUSTOM" : op.custom_code;
        layer.attributes["custom_code"] = op.custom_code;
        layer.unsupported_reason = concat("custom operator '", op.custom_code, "' is not a TFLite builtin; ", not_executable);
    } else if (!builtin) {
        layer.type = concat("BUILTIN_", op.builtin_code);
        layer.unsupported_reason = concat("builtin operator code ", op.builtin_code,
                                          " is not in the schema this version reads; ", not_executable);
    } else {
        layer.type = builtin;
        layer.unsupported_reason = not_executable;
    }
    layer.attributes.insert(op.attributes.begin(), op.attributes.end());
    layer.attributes["op_version"] = int64_t{op.op_version};
    if (const char* layout = weights_layout(op.builtin_code)) layer.attributes["weights_layout"] = std::string(layout);
    for (int32_t input : op.inputs) {
        layer.inputs.push_back(input < 0 ? std::string() : state.value_names[static_cast<size_t>(input)]);
        state.context.buffer.charge(layer.inputs.back().size() + 1);
    }
    for (int32_t output : op.outputs) {
        layer.outputs.push_back(state.value_names[static_cast<size_t>(output)]);
        state.context.buffer.charge(layer.outputs.back().size() + 1);
    }
    std::string base = op.outputs.empty() ? std::string() : state.subgraph.tensors[op.outputs[0]].name;
    base = base.substr(0, base.find(';'));
    layer.name = base.empty() ? concat(layer.type, "_", index) : base;
    if (state.layer_names.count(layer.name)) layer.name = concat(layer.name, "_", index);
    while (state.layer_names.count(layer.name)) layer.name += "_";
    state.layer_names.insert(layer.name);
    add_weights(op, state, layer);
    if (!op.outputs.empty()) {
        const TfliteTensor& output = state.subgraph.tensors[static_cast<size_t>(op.outputs[0])];
        layer.output_shape = declared_shape(output);
        set_output_quantization(output, layer);
    }
    // Float16 and hybrid models feed their consumers through DEQUANTIZE.
    if (op.builtin_code == builtin_dequantize && !op.inputs.empty() && op.inputs[0] >= 0 && !op.outputs.empty()) {
        const TfliteTensor& source = state.subgraph.tensors[static_cast<size_t>(op.inputs[0])];
        if (source.data) {
            auto cached = state.dequantized_sources.find(op.inputs[0]);
            if (cached == state.dequantized_sources.end()) {
                cached = state.dequantized_sources.emplace(op.inputs[0], dequantize(*source.data, source.quantization)).first;
            }
            state.dequantized[op.outputs[0]] = cached->second;
        }
    }
    return layer;
}

void describe_tensors(const TfliteSubgraph& subgraph, const std::vector<std::string>& names,
                      const std::vector<int32_t>& indices, std::vector<ValueInfo>& out) {
    for (int32_t index : indices) {
        const TfliteTensor& tensor = subgraph.tensors[static_cast<size_t>(index)];
        out.push_back({names[static_cast<size_t>(index)], declared_shape(tensor), dtype_for(tensor.type).value_or(DType::f32)});
    }
}

Model build_model(const TfliteSubgraph& subgraph, Context& context) {
    Model model;
    model.format = "tflite";
    model.producer = "tflite";
    model.layout = DataLayout::channels_last;
    model.name = subgraph.name;
    model.file_bytes = context.bytes;
    MappingState state{subgraph, context, unique_value_names(subgraph), {}, {}, {}};
    describe_tensors(subgraph, state.value_names, subgraph.inputs, model.inputs);
    describe_tensors(subgraph, state.value_names, subgraph.outputs, model.outputs);
    model.layers.reserve(subgraph.operators.size());
    for (size_t i = 0; i < subgraph.operators.size(); ++i) model.layers.push_back(build_layer(subgraph.operators[i], i, state));
    size_t sparse = 0, custom_quantized = 0;
    for (const TfliteTensor& tensor : subgraph.tensors) {
        sparse += tensor.sparse;
        custom_quantized += tensor.custom_quantization;
    }
    if (sparse) model.warnings.push_back(concat(sparse, " tensor(s) are sparse; sparse tensors are not supported"));
    if (custom_quantized) {
        model.warnings.push_back(concat(custom_quantized, " tensor(s) use custom quantization, which is not read"));
    }
    return model;
}

}  // namespace

// [SECTION] entry points

const char* tflite_builtin_operator_name(int32_t code) { return tflite::builtin_operator_name(code); }

bool looks_like_tflite(ByteSpan bytes) {
    if (bytes.size < 8 || std::memcmp(bytes.data + 4, "TFL3", 4) != 0) return false;
    uint32_t root;
    std::memcpy(&root, bytes.data, 4);
    return root >= 8 && root < bytes.size;
}

Model open_tflite(const FileBytes& bytes, const std::string& file_name) {
    if (!bytes) throw Error("open_tflite: no bytes");
    ByteSpan file(bytes->data(), bytes->size());
    Context context{bytes, file_name, flatbuffers::Buffer(file, file_name + ": Model", "TFL3"), {}, {}};
    Table root = context.buffer.root();
    uint32_t schema_version = root.u32(model_field::version);
    std::vector<OperatorCode> codes = decode_operator_codes(root);
    context.buffers = decode_buffers(root, file);
    if (context.buffers.empty()) context.buffers.push_back({});  // buffer 0 is the empty sentinel
    std::optional<Vector> subgraphs = root.vector(model_field::subgraphs, 4);
    if (!subgraphs || subgraphs->size() == 0) {
        throw_format_error(file_name, ": the model has no subgraphs (field 2 of the root table at offset ",
                           format_offset(root.position()), ")");
    }
    TfliteSubgraph main = decode_subgraph(subgraphs->table(0), codes, context);
    Model model = build_model(main, context);
    model.metadata["schema_version"] = std::to_string(schema_version);
    model.metadata["subgraphs"] = std::to_string(subgraphs->size());
    model.metadata["operator_codes"] = std::to_string(codes.size());
    if (std::optional<std::string> description = root.string(model_field::description)) {
        model.metadata["description"] = *description;
    }
    std::string signatures = describe_signatures(root);
    if (!signatures.empty()) model.metadata["signature_defs"] = signatures;
    read_metadata(root, context, model);
    if (model.name.empty() && model.metadata.count("model_metadata.name")) model.name = model.metadata["model_metadata.name"];
    if (subgraphs->size() > 1) {
        model.warnings.push_back(concat("the model has ", subgraphs->size(),
                                        " subgraphs; only the first (the main graph) is shown"));
    }
    if (schema_version != 3) model.warnings.push_back(concat("schema version ", schema_version, " (this reader knows 3)"));
    model.warnings.insert(model.warnings.end(), context.warnings.begin(), context.warnings.end());
    return model;
}

}  // namespace convscope
