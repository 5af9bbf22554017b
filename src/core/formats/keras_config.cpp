// Keras model configs (JSON) -> layers, wiring and output shapes.
//
// [SECTION] JSON helpers
// [SECTION] attributes
// [SECTION] output shape inference
// [SECTION] layer vocabulary
// [SECTION] Sequential
// [SECTION] Functional
// [SECTION] entry points
#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <queue>
#include <set>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/keras.h"
#include "core/formats/keras_internal.h"

namespace convscope::keras {

namespace {

// -----------------------------------------------------------------------------
// [SECTION] JSON helpers
// -----------------------------------------------------------------------------

std::string json_kind(const Json& value) { return value.type_name(); }

const Json* member(const Json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string string_member(const Json& object, const char* key, const std::string& fallback = "") {
    const Json* value = member(object, key);
    return value && value->is_string() ? value->get<std::string>() : fallback;
}

// Shapes as Keras writes them: [null, 28, 28, 1] -> {-1, 28, 28, 1}.
std::optional<Shape> json_shape(const Json& value) {
    if (!value.is_array() || value.size() > static_cast<size_t>(limits::max_rank)) return std::nullopt;
    Shape shape;
    for (const Json& dim : value) {
        if (dim.is_null()) shape.push_back(-1);
        else if (dim.is_number_integer() && dim.get<int64_t>() >= 0) shape.push_back(dim.get<int64_t>());
        else return std::nullopt;
    }
    return shape;
}

// Keras 3 writes a dtype policy dict where Keras 2 writes "float32".
DType json_dtype(const Json& config) {
    std::string name;
    if (const Json* dtype = member(config, "dtype")) {
        if (dtype->is_string()) name = dtype->get<std::string>();
        else if (const Json* inner = member(*dtype, "config")) name = string_member(*inner, "name");
    }
    static const DType all[] = {DType::f16, DType::f32, DType::f64, DType::i8,  DType::u8,  DType::i16,
                                DType::u16, DType::i32, DType::u32, DType::i64, DType::u64, DType::boolean};
    for (DType dtype : all) {
        if (name == dtype_name(dtype)) return dtype;
    }
    return DType::f32;
}

// -----------------------------------------------------------------------------
// [SECTION] attributes
// -----------------------------------------------------------------------------

// Leaves of nested lists in row order; false when a leaf is a dict or the
// nesting exceeds the limit.
bool flatten_leaves(const Json& value, int depth, std::vector<const Json*>& leaves) {
    if (depth > limits::max_nesting_depth) return false;
    if (value.is_array()) {
        for (const Json& item : value) {
            if (!flatten_leaves(item, depth + 1, leaves)) return false;
        }
        return true;
    }
    if (value.is_object()) return false;
    leaves.push_back(&value);
    return true;
}

std::optional<AttributeValue> json_to_attribute(const Json& value) {
    if (value.is_boolean()) return AttributeValue(int64_t(value.get<bool>() ? 1 : 0));
    if (value.is_number_integer()) return AttributeValue(value.get<int64_t>());
    if (value.is_number_float()) return AttributeValue(value.get<double>());
    if (value.is_string()) return AttributeValue(value.get<std::string>());
    if (!value.is_array()) return std::nullopt;
    std::vector<const Json*> leaves;
    if (!flatten_leaves(value, 0, leaves)) return std::nullopt;
    bool all_integers = true, all_numbers = true, all_strings = true;
    for (const Json* leaf : leaves) {
        bool integer = leaf->is_number_integer() || leaf->is_boolean() || leaf->is_null();
        all_integers = all_integers && integer;
        all_numbers = all_numbers && (integer || leaf->is_number_float());
        all_strings = all_strings && leaf->is_string();
    }
    if (all_integers) {
        std::vector<int64_t> ints;
        for (const Json* leaf : leaves) {
            ints.push_back(leaf->is_null() ? -1 : leaf->is_boolean() ? int64_t(leaf->get<bool>()) : leaf->get<int64_t>());
        }
        return AttributeValue(std::move(ints));
    }
    if (all_numbers) {
        std::vector<double> doubles;
        for (const Json* leaf : leaves) doubles.push_back(leaf->is_null() ? 0.0 : leaf->get<double>());
        return AttributeValue(std::move(doubles));
    }
    if (all_strings) {
        std::vector<std::string> strings;
        for (const Json* leaf : leaves) strings.push_back(leaf->get<std::string>());
        return AttributeValue(std::move(strings));
    }
    return std::nullopt;
}

void fill_attributes(Layer& layer, const Json& config) {
    if (!config.is_object()) return;
    for (auto it = config.begin(); it != config.end(); ++it) {
        // A Lambda's serialized bytecode is never decoded; keep it out of
        // attributes so nothing downstream is tempted to.
        if (layer.type == "Lambda" && (it.key() == "function" || it.key() == "output_shape")) continue;
        if (auto attribute = json_to_attribute(it.value())) layer.attributes[it.key()] = *attribute;
    }
}

// -----------------------------------------------------------------------------
// [SECTION] output shape inference
// -----------------------------------------------------------------------------

// An int or a list of `rank` ints (Keras accepts both for kernel_size etc.).
std::vector<int64_t> tuple_of(const Json& config, const char* key, size_t rank, int64_t fallback) {
    std::vector<int64_t> values(rank, fallback);
    const Json* value = member(config, key);
    if (!value || value->is_null()) return values;
    if (value->is_number_integer()) return std::vector<int64_t>(rank, value->get<int64_t>());
    if (value->is_array() && value->size() == rank) {
        for (size_t i = 0; i < rank; ++i) {
            if (!(*value)[i].is_number_integer()) return std::vector<int64_t>(rank, fallback);
            values[i] = (*value)[i].get<int64_t>();
        }
    }
    return values;
}

int64_t int_member(const Json& config, const char* key, int64_t fallback) {
    const Json* value = member(config, key);
    return value && value->is_number_integer() ? value->get<int64_t>() : fallback;
}

// keras conv_utils.conv_output_length.
int64_t conv_output_length(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                           const std::string& padding) {
    if (input < 0 || stride <= 0 || kernel <= 0 || dilation <= 0) return -1;
    int64_t dilated = (kernel - 1) * dilation + 1;
    int64_t length = input;
    if (padding == "valid") length = input - dilated + 1;
    else if (padding == "full") length = input + dilated - 1;
    length = (length + stride - 1) / stride;
    return std::max<int64_t>(length, 0);
}

// keras conv_utils.deconv_output_length.
int64_t deconv_output_length(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                             const std::string& padding, std::optional<int64_t> output_padding) {
    if (input < 0 || stride <= 0 || kernel <= 0 || dilation <= 0) return -1;
    int64_t size = kernel + (kernel - 1) * (dilation - 1);
    if (!output_padding) {
        if (padding == "valid") return input * stride + std::max<int64_t>(size - stride, 0);
        if (padding == "full") return input * stride - (stride + size - 2);
        return input * stride;
    }
    int64_t pad = padding == "same" ? size / 2 : padding == "full" ? size - 1 : 0;
    return (input - 1) * stride + size - 2 * pad + *output_padding;
}

struct SpatialLayout {
    std::vector<size_t> spatial;  // positions of spatial dims in the shape
    size_t channel = 0;
};

std::optional<SpatialLayout> spatial_layout(const Shape& input, size_t rank, const Json& config) {
    if (input.size() != rank + 2) return std::nullopt;
    SpatialLayout layout;
    bool channels_first = string_member(config, "data_format") == "channels_first";
    for (size_t i = 0; i < rank; ++i) layout.spatial.push_back(channels_first ? i + 2 : i + 1);
    layout.channel = channels_first ? 1 : rank + 1;
    return layout;
}

// Trailing digit of "Conv2D", "MaxPooling1D": the number of spatial dims.
size_t spatial_rank_of(const std::string& type) {
    size_t d = type.rfind('D');
    if (d == std::string::npos || d == 0 || !std::isdigit(static_cast<unsigned char>(type[d - 1]))) return 0;
    return static_cast<size_t>(type[d - 1] - '0');
}

// (before, after) per spatial dim for ZeroPadding / Cropping configs.
std::optional<std::vector<std::pair<int64_t, int64_t>>> padding_pairs(const Json& value, size_t rank) {
    std::vector<std::pair<int64_t, int64_t>> pairs(rank);
    if (value.is_number_integer()) {
        int64_t p = value.get<int64_t>();
        for (auto& pair : pairs) pair = {p, p};
        return pairs;
    }
    if (!value.is_array()) return std::nullopt;
    if (rank == 1 && value.size() == 2 && value[0].is_number_integer() && value[1].is_number_integer()) {
        pairs[0] = {value[0].get<int64_t>(), value[1].get<int64_t>()};
        return pairs;
    }
    if (value.size() != rank) return std::nullopt;
    for (size_t i = 0; i < rank; ++i) {
        const Json& item = value[i];
        if (item.is_number_integer()) {
            pairs[i] = {item.get<int64_t>(), item.get<int64_t>()};
        } else if (item.is_array() && item.size() == 2 && item[0].is_number_integer() && item[1].is_number_integer()) {
            pairs[i] = {item[0].get<int64_t>(), item[1].get<int64_t>()};
        } else {
            return std::nullopt;
        }
    }
    return pairs;
}

int64_t add_known(int64_t a, int64_t b) { return a < 0 || b < 0 ? -1 : a + b; }
int64_t mul_known(int64_t a, int64_t b) { return a < 0 || b < 0 ? -1 : a * b; }

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

const std::set<std::string>& same_shape_types() {
    static const std::set<std::string> types = {
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
        "GaussianDropout", "AlphaDropout", "BatchNormalization", "LayerNormalization",
        "GroupNormalization", "UnitNormalization", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU",
        "Softmax", "ThresholdedReLU", "Rescaling", "Normalization", "Masking", "ActivityRegularization",
        "Identity"};
    return types;
}

const std::set<std::string>& merge_types() {
    static const std::set<std::string> types = {"Add", "Multiply", "Subtract", "Average", "Maximum", "Minimum"};
    return types;
}

std::optional<Shape> infer_output_shape(const std::string& type, const Json& config, const std::vector<Shape>& inputs) {
    if (inputs.empty()) return std::nullopt;
    const Shape& in = inputs[0];
    if (in.empty()) return std::nullopt;  // the producer's shape is unknown
    if (same_shape_types().count(type)) return in;

    if (merge_types().count(type)) {
        // Broadcasting as Keras's _Merge: align from the right, 1 yields.
        size_t rank = 0;
        for (const Shape& shape : inputs) {
            if (shape.empty()) return std::nullopt;
            rank = std::max(rank, shape.size());
        }
        Shape out(rank, 1);
        for (const Shape& shape : inputs) {
            for (size_t i = 0; i < shape.size(); ++i) {
                size_t at = rank - shape.size() + i;
                int64_t dim = shape[i];
                if (dim == 1) continue;
                if (out[at] == 1 || out[at] < 0) out[at] = dim < 0 && out[at] > 1 ? out[at] : dim;
            }
        }
        out[0] = in[0];
        return out;
    }
    if (type == "Concatenate") {
        int64_t axis = int_member(config, "axis", -1);
        if (axis < 0) axis += static_cast<int64_t>(in.size());
        if (axis < 0 || axis >= static_cast<int64_t>(in.size())) return std::nullopt;
        Shape out = in;
        for (size_t i = 1; i < inputs.size(); ++i) {
            if (inputs[i].size() != in.size()) return std::nullopt;
            out[axis] = add_known(out[axis], inputs[i][axis]);
        }
        return out;
    }
    if (type == "Dense") {
        Shape out = in;
        out.back() = int_member(config, "units", -1);
        return out;
    }
    if (type == "Flatten") {
        int64_t product = 1;
        for (size_t i = 1; i < in.size(); ++i) product = mul_known(product, in[i]);
        return Shape{in[0], product};
    }
    if (type == "Reshape") {
        // target_shape excludes the batch; one entry may be -1 (inferred).
        const Json* target = member(config, "target_shape");
        if (!target || !target->is_array() || target->size() + 1 > static_cast<size_t>(limits::max_rank)) {
            return std::nullopt;
        }
        Shape out = {in[0]};
        int64_t known = 1;
        std::optional<size_t> inferred_at;
        for (const Json& dim : *target) {
            if (!dim.is_number_integer()) return std::nullopt;
            int64_t value = dim.get<int64_t>();
            if (value == -1 && !inferred_at) inferred_at = out.size();
            else if (value < 0) return std::nullopt;
            else known = mul_known(known, value);
            out.push_back(value);
        }
        if (inferred_at) {
            int64_t total = 1;
            for (size_t i = 1; i < in.size(); ++i) total = mul_known(total, in[i]);
            out[*inferred_at] = total < 0 || known <= 0 ? -1 : total / known;
        }
        return out;
    }
    if (type == "Permute") {
        const Json* dims = member(config, "dims");
        if (!dims || !dims->is_array() || dims->size() + 1 != in.size()) return std::nullopt;
        Shape out = {in[0]};
        for (const Json& dim : *dims) {
            if (!dim.is_number_integer()) return std::nullopt;
            int64_t d = dim.get<int64_t>();
            if (d < 1 || d >= static_cast<int64_t>(in.size())) return std::nullopt;
            out.push_back(in[static_cast<size_t>(d)]);
        }
        return out;
    }
    if (type == "RepeatVector" && in.size() == 2) {
        return Shape{in[0], int_member(config, "n", -1), in[1]};
    }
    if (type == "Embedding") {
        Shape out = in;
        out.push_back(int_member(config, "output_dim", -1));
        return out;
    }
    if (type == "Resizing" || type == "CenterCrop") {
        auto layout = spatial_layout(in, 2, config);
        if (!layout) return std::nullopt;
        Shape out = in;
        out[layout->spatial[0]] = int_member(config, "height", -1);
        out[layout->spatial[1]] = int_member(config, "width", -1);
        return out;
    }

    size_t rank = spatial_rank_of(type);
    if (rank == 0 || rank > 3) return std::nullopt;
    auto layout = spatial_layout(in, rank, config);
    if (!layout) return std::nullopt;
    Shape out = in;
    std::string padding = string_member(config, "padding", "valid");

    bool is_transpose = type.find("Transpose") != std::string::npos;
    bool is_depthwise = starts_with(type, "DepthwiseConv");
    bool is_conv = starts_with(type, "Conv") || starts_with(type, "SeparableConv") || is_depthwise;
    if (is_conv) {
        auto kernel = tuple_of(config, "kernel_size", rank, -1);
        auto strides = tuple_of(config, "strides", rank, 1);
        auto dilation = tuple_of(config, "dilation_rate", rank, 1);
        std::vector<std::optional<int64_t>> output_padding(rank);
        if (const Json* op = member(config, "output_padding"); op && !op->is_null()) {
            auto values = tuple_of(config, "output_padding", rank, 0);
            for (size_t i = 0; i < rank; ++i) output_padding[i] = values[i];
        }
        for (size_t i = 0; i < rank; ++i) {
            size_t at = layout->spatial[i];
            out[at] = is_transpose
                ? deconv_output_length(in[at], kernel[i], strides[i], dilation[i], padding, output_padding[i])
                : conv_output_length(in[at], kernel[i], strides[i], dilation[i], padding);
        }
        out[layout->channel] = is_depthwise
            ? mul_known(in[layout->channel], int_member(config, "depth_multiplier", 1))
            : int_member(config, "filters", -1);
        return out;
    }
    if (starts_with(type, "MaxPool") || starts_with(type, "AveragePool") || starts_with(type, "AvgPool")) {
        auto pool = tuple_of(config, "pool_size", rank, 2);
        auto strides = tuple_of(config, "strides", rank, -1);
        for (size_t i = 0; i < rank; ++i) {
            size_t at = layout->spatial[i];
            int64_t stride = strides[i] < 0 ? pool[i] : strides[i];
            out[at] = conv_output_length(in[at], pool[i], stride, 1, padding);
        }
        return out;
    }
    if (starts_with(type, "GlobalMaxPool") || starts_with(type, "GlobalAveragePool") || starts_with(type, "GlobalAvgPool")) {
        const Json* keepdims = member(config, "keepdims");
        if (keepdims && keepdims->is_boolean() && keepdims->get<bool>()) {
            for (size_t at : layout->spatial) out[at] = 1;
            return out;
        }
        return Shape{in[0], in[layout->channel]};
    }
    if (starts_with(type, "ZeroPadding") || starts_with(type, "Cropping")) {
        const char* key = starts_with(type, "ZeroPadding") ? "padding" : "cropping";
        const Json* value = member(config, key);
        auto pairs = value ? padding_pairs(*value, rank) : std::nullopt;
        if (!pairs) return std::nullopt;
        int64_t sign = starts_with(type, "ZeroPadding") ? 1 : -1;
        for (size_t i = 0; i < rank; ++i) {
            size_t at = layout->spatial[i];
            if (in[at] >= 0) out[at] = in[at] + sign * ((*pairs)[i].first + (*pairs)[i].second);
        }
        return out;
    }
    if (starts_with(type, "UpSampling")) {
        auto size = tuple_of(config, "size", rank, 2);
        for (size_t i = 0; i < rank; ++i) {
            size_t at = layout->spatial[i];
            out[at] = mul_known(in[at], size[i]);
        }
        return out;
    }
    return std::nullopt;
}

// -----------------------------------------------------------------------------
// [SECTION] layer vocabulary
// -----------------------------------------------------------------------------

// Built-in Keras layers this version knows. Anything else (custom layers,
// QKeras, Keras 1 names) loads with its weights and an unsupported_reason.
bool is_known_layer_type(const std::string& type) {
    static const std::set<std::string> known = {
        "InputLayer", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
        "SeparableConv1D", "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
        "Dense", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
        "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
        "GlobalAvgPool1D", "GlobalAvgPool2D", "Flatten", "Reshape", "Permute", "Concatenate",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
        "UpSampling1D", "UpSampling2D", "UpSampling3D", "RepeatVector", "Embedding", "Resizing", "CenterCrop"};
    return known.count(type) || same_shape_types().count(type) || merge_types().count(type);
}

bool is_model_class(const std::string& class_name) {
    return class_name == "Sequential" || class_name == "Functional" || class_name == "Model";
}

std::string unsupported_reason_for(const std::string& type) {
    if (type == "Lambda") {
        return "Lambda layer: its Python code is not run (ConvScope never executes or decodes serialized code)";
    }
    if (is_model_class(type)) return "";
    if (!is_known_layer_type(type)) return "unsupported layer type " + type;
    return "";
}

Layer make_layer(const std::string& name, const std::string& class_name, const Json& config) {
    Layer layer;
    layer.name = name;
    layer.type = class_name;
    fill_attributes(layer, config);
    layer.config_json = config.dump();
    layer.unsupported_reason = unsupported_reason_for(class_name);
    return layer;
}

void check_depth(int depth, const std::string& where) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error(where, ": models nested deeper than ", limits::max_nesting_depth, " levels");
    }
}

void check_layer_count(size_t count, const std::string& where) {
    if (count > limits::max_layers) {
        throw_limit_error(where, ": ", count, " layers exceed the limit of ", limits::max_layers);
    }
}

std::optional<Shape> input_layer_shape(const Json& config) {
    for (const char* key : {"batch_shape", "batch_input_shape"}) {
        if (const Json* value = member(config, key)) {
            if (auto shape = json_shape(*value)) return shape;
        }
    }
    if (const Json* value = member(config, "input_shape")) {
        if (auto shape = json_shape(*value)) {
            shape->insert(shape->begin(), -1);
            return shape;
        }
    }
    if (const Json* value = member(config, "input_dim"); value && value->is_number_integer()) {
        return Shape{-1, value->get<int64_t>()};
    }
    return std::nullopt;
}

// -----------------------------------------------------------------------------
// [SECTION] Sequential
// -----------------------------------------------------------------------------

Architecture parse_sequential(const Json& root, const Json& layers_json, const std::string& path, int depth) {
    Architecture result;
    Model& model = result.model;
    check_layer_count(layers_json.size(), path);
    static const Json empty_object = Json::object();
    const Json& config = *member(root, "config");
    model.name = config.is_object() ? string_member(config, "name") : "";
    auto config_of = [](const Json& entry) -> const Json& {
        const Json* value = member(entry, "config");
        return value ? *value : empty_object;
    };

    Layer input;
    input.type = "InputLayer";
    input.attributes["implicit"] = int64_t(1);
    std::optional<Shape> input_shape;
    size_t first = 0;
    if (!layers_json.empty() && string_member(layers_json[0], "class_name") == "InputLayer") {
        const Json& input_config = config_of(layers_json[0]);
        input.name = string_member(input_config, "name", "input");
        fill_attributes(input, input_config);
        input.attributes["implicit"] = int64_t(1);
        input.config_json = input_config.dump();
        input_shape = input_layer_shape(input_config);
        first = 1;
    } else if (!layers_json.empty()) {
        const Json& first_config = config_of(layers_json[0]);
        // Keras names the input it creates for a Sequential "<first layer>_input".
        input.name = string_member(first_config, "name", "sequential") + "_input";
        input_shape = input_layer_shape(first_config);
    } else {
        input.name = "input";
    }
    if (!input_shape && config.is_object()) {
        if (const Json* built = member(config, "build_input_shape")) input_shape = json_shape(*built);
    }
    if (!input_shape) {
        if (const Json* build = member(root, "build_config")) {
            if (const Json* shape = member(*build, "input_shape")) input_shape = json_shape(*shape);
        }
    }
    if (!input_shape) model.warnings.push_back("the Sequential model states no input shape; output shapes are unknown");
    input.output_shape = input_shape.value_or(Shape{});
    input.outputs = {input.name};
    model.inputs.push_back({input.name, input.output_shape,
                            json_dtype(layers_json.empty() ? empty_object : config_of(layers_json[0]))});
    std::string previous = input.name;
    Shape previous_shape = input.output_shape;
    model.layers.push_back(std::move(input));

    std::set<std::string> seen;
    NestedCache nested_cache;
    uint64_t budget_used = 0;
    result.expanded_layers = 1;
    for (size_t i = first; i < layers_json.size(); ++i) {
        std::string entry_path = concat(path, "[", i, "]");
        const Json& entry = layers_json[i];
        if (!entry.is_object()) throw_format_error(entry_path, ": expected a layer object, found ", json_kind(entry));
        std::string class_name = string_member(entry, "class_name");
        const Json* config_json = member(entry, "config");
        if (class_name.empty() || !config_json) {
            throw_format_error(entry_path, ": expected 'class_name' and 'config'");
        }
        std::string name = string_member(*config_json, "name", string_member(entry, "name"));
        if (name.empty()) name = concat(snake_case(class_name), "_", i);
        if (!seen.insert(name).second) throw_format_error(entry_path, ": duplicate layer name '", name, "'");
        Layer layer = make_layer(name, class_name, *config_json);
        layer.inputs = {previous};
        layer.outputs = {name};
        std::vector<Shape> input_shapes = {previous_shape};
        result.container_layers.push_back({name, class_name, *config_json, is_model_class(class_name)});
        if (is_model_class(class_name)) {
            const NestedParse& nested = parse_nested(entry, entry_path, depth, nested_cache);
            result.expanded_layers = saturating_add(result.expanded_layers, nested.expanded_layers);
            if (can_flatten(nested, 1, 1, budget_used)) {
                SplicedModel spliced = splice_nested_model(model, nested.model, name, {previous}, "");
                previous = spliced.output_values[0];
                previous_shape = with_batch_of(spliced.output_shapes[0], previous_shape);
                continue;
            }
            describe_nested_model(layer, nested, input_shapes);
            model.warnings.push_back(layer.unsupported_reason);
        } else if (auto shape = infer_output_shape(class_name, *config_json, input_shapes)) {
            layer.output_shape = *shape;
        }
        result.expanded_layers = saturating_add(result.expanded_layers, 1);
        previous = name;
        previous_shape = layer.output_shape;
        model.layers.push_back(std::move(layer));
    }
    model.outputs.push_back({previous, previous_shape, DType::f32});
    return result;
}

// -----------------------------------------------------------------------------
// [SECTION] Functional
// -----------------------------------------------------------------------------

struct TensorRef {
    std::string layer;
    int64_t node = 0;
    int64_t tensor = 0;
};

// ["conv2d", 0, 0] or ["conv2d", 0, 0, {kwargs}] (Keras 1/2).
std::optional<TensorRef> list_ref(const Json& value) {
    if (!value.is_array() || value.size() < 3 || !value[0].is_string() || !value[1].is_number_integer() ||
        !value[2].is_number_integer()) {
        return std::nullopt;
    }
    return TensorRef{value[0].get<std::string>(), value[1].get<int64_t>(), value[2].get<int64_t>()};
}

// Keras 3 node arguments: tensors are {"class_name": "__keras_tensor__",
// "config": {"keras_history": [layer, node, tensor]}} anywhere in args.
void collect_keras_tensors(const Json& value, int depth, const std::string& path, std::vector<TensorRef>& refs) {
    if (depth > limits::max_nesting_depth) throw_limit_error(path, ": nesting deeper than ", limits::max_nesting_depth);
    if (value.is_object()) {
        if (string_member(value, "class_name") == "__keras_tensor__") {
            const Json* config = member(value, "config");
            const Json* history = config ? member(*config, "keras_history") : nullptr;
            auto ref = history ? list_ref(*history) : std::nullopt;
            if (!ref) throw_format_error(path, ": __keras_tensor__ without a [layer, node, tensor] keras_history");
            refs.push_back(*ref);
            return;
        }
        for (auto it = value.begin(); it != value.end(); ++it) {
            collect_keras_tensors(it.value(), depth + 1, path + "." + it.key(), refs);
        }
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) collect_keras_tensors(value[i], depth + 1, concat(path, "[", i, "]"), refs);
    }
}

std::vector<TensorRef> node_refs(const Json& node, const std::string& path) {
    std::vector<TensorRef> refs;
    if (node.is_object()) {  // Keras 3
        if (const Json* args = member(node, "args")) collect_keras_tensors(*args, 0, path + ".args", refs);
        if (const Json* kwargs = member(node, "kwargs")) collect_keras_tensors(*kwargs, 0, path + ".kwargs", refs);
        return refs;
    }
    if (!node.is_array()) throw_format_error(path, ": expected a node (list or object), found ", json_kind(node));
    for (size_t i = 0; i < node.size(); ++i) {
        auto ref = list_ref(node[i]);
        if (!ref) throw_format_error(path, "[", i, "]: expected [layer_name, node_index, tensor_index]");
        refs.push_back(*ref);
    }
    return refs;
}

// input_layers / output_layers: [[name, 0, 0], ...], or one [name, 0, 0]
// (Keras 3, single tensor), or a dict of those (Keras 3, named inputs).
void collect_endpoint_refs(const Json& value, int depth, const std::string& path, std::vector<TensorRef>& refs) {
    if (depth > limits::max_nesting_depth) throw_limit_error(path, ": nesting deeper than ", limits::max_nesting_depth);
    if (auto ref = list_ref(value)) {
        refs.push_back(*ref);
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) collect_endpoint_refs(value[i], depth + 1, concat(path, "[", i, "]"), refs);
    } else if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it) {
            collect_endpoint_refs(it.value(), depth + 1, path + "." + it.key(), refs);
        }
    } else {
        throw_format_error(path, ": expected [layer_name, node_index, tensor_index], found ", json_kind(value));
    }
}

struct CallNode {
    size_t entry = 0;
    size_t node_index = 0;
    std::vector<TensorRef> inputs;
    std::string path;
};

std::string call_name(const std::string& layer, size_t node_index) {
    return node_index == 0 ? layer : concat(layer, "#", node_index);
}

std::string value_name(const std::string& layer, int64_t node_index, int64_t tensor_index) {
    std::string call = call_name(layer, static_cast<size_t>(node_index));
    return tensor_index == 0 ? call : concat(call, ":", tensor_index);
}

Architecture parse_functional(const Json& root, const std::string& path, int depth) {
    Architecture result;
    Model& model = result.model;
    const Json& config = *member(root, "config");
    model.name = string_member(config, "name");
    const Json* layers_json = member(config, "layers");
    if (!layers_json || !layers_json->is_array()) throw_format_error(path, ".config.layers: expected a list");
    check_layer_count(layers_json->size(), path);

    struct Entry {
        std::string name, class_name;
        const Json* config;
        size_t node_count;
    };
    std::vector<Entry> entries;
    std::map<std::string, size_t> entry_by_name;
    std::vector<CallNode> calls;
    for (size_t i = 0; i < layers_json->size(); ++i) {
        std::string entry_path = concat(path, ".config.layers[", i, "]");
        const Json& entry = (*layers_json)[i];
        std::string class_name = string_member(entry, "class_name");
        const Json* layer_config = member(entry, "config");
        if (class_name.empty() || !layer_config) throw_format_error(entry_path, ": expected 'class_name' and 'config'");
        std::string name = string_member(entry, "name", string_member(*layer_config, "name"));
        if (name.empty()) throw_format_error(entry_path, ": layer without a name");
        if (!entry_by_name.emplace(name, i).second) throw_format_error(entry_path, ": duplicate layer name '", name, "'");
        const Json* inbound = member(entry, "inbound_nodes");
        size_t node_count = 0;
        if (inbound && inbound->is_array()) {
            for (size_t k = 0; k < inbound->size(); ++k) {
                std::string node_path = concat(entry_path, ".inbound_nodes[", k, "]");
                calls.push_back({i, k, node_refs((*inbound)[k], node_path), node_path});
                ++node_count;
                check_layer_count(calls.size(), path);
            }
        }
        if (node_count == 0) {
            // An InputLayer has no inbound node but one output node; any
            // other layer without calls still gets a row for its weights.
            calls.push_back({i, 0, {}, entry_path});
            node_count = 1;
            if (class_name != "InputLayer") {
                model.warnings.push_back(concat("layer '", name, "' is not called in the model graph"));
            }
        }
        entries.push_back({name, class_name, layer_config, node_count});
        result.container_layers.push_back({name, class_name, *layer_config, is_model_class(class_name)});
    }

    // Resolve references to call indices and sort calls so producers come
    // first; ties keep the config's order (Kahn's algorithm with a heap).
    std::map<std::pair<size_t, size_t>, size_t> call_index;
    for (size_t c = 0; c < calls.size(); ++c) call_index[{calls[c].entry, calls[c].node_index}] = c;
    auto resolve = [&](const TensorRef& ref, const std::string& where) -> size_t {
        auto entry = entry_by_name.find(ref.layer);
        if (entry == entry_by_name.end()) throw_format_error(where, ": refers to layer '", ref.layer, "', which the config does not have");
        if (ref.node < 0 || static_cast<size_t>(ref.node) >= entries[entry->second].node_count || ref.tensor < 0) {
            throw_format_error(where, ": refers to node ", ref.node, " tensor ", ref.tensor, " of layer '", ref.layer,
                               "', which has ", entries[entry->second].node_count, " node(s)");
        }
        return call_index.at({entry->second, static_cast<size_t>(ref.node)});
    };
    std::vector<std::vector<size_t>> consumers(calls.size());
    std::vector<size_t> pending(calls.size(), 0);
    for (size_t c = 0; c < calls.size(); ++c) {
        for (const TensorRef& ref : calls[c].inputs) {
            consumers[resolve(ref, calls[c].path)].push_back(c);
            ++pending[c];
        }
    }
    std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
    for (size_t c = 0; c < calls.size(); ++c) if (pending[c] == 0) ready.push(c);
    std::vector<size_t> order;
    while (!ready.empty()) {
        size_t c = ready.top();
        ready.pop();
        order.push_back(c);
        for (size_t consumer : consumers[c]) {
            if (--pending[consumer] == 0) ready.push(consumer);
        }
    }
    if (order.size() != calls.size()) {
        for (size_t c = 0; c < calls.size(); ++c) {
            if (pending[c] != 0) throw_format_error(calls[c].path, ": the layer graph has a cycle through layer '", entries[calls[c].entry].name, "'");
        }
    }

    NestedCache nested_cache;
    uint64_t budget_used = 0;
    std::map<size_t, bool> flatten_entry;            // nested entries: flattened or opaque
    std::map<size_t, SplicedModel> flattened_calls;  // call -> the values its inner outputs became
    std::vector<Shape> call_shapes(calls.size());
    std::vector<size_t> layer_of_call(calls.size(), 0);
    // The outer value a reference reads and its shape; registers the value
    // as an output of the producing layer.
    auto connect = [&](const TensorRef& ref, const std::string& where) -> std::pair<std::string, Shape> {
        size_t producer = resolve(ref, where);
        auto spliced = flattened_calls.find(producer);
        if (spliced != flattened_calls.end()) {
            size_t tensor = static_cast<size_t>(ref.tensor);
            if (tensor >= spliced->second.output_values.size()) {
                throw_format_error(where, ": refers to output ", ref.tensor, " of nested model '", ref.layer, "', which has ",
                                   spliced->second.output_values.size());
            }
            return {spliced->second.output_values[tensor], spliced->second.output_shapes[tensor]};
        }
        std::string value = value_name(ref.layer, ref.node, ref.tensor);
        Layer& producer_layer = model.layers[layer_of_call[producer]];
        if (std::find(producer_layer.outputs.begin(), producer_layer.outputs.end(), value) == producer_layer.outputs.end()) {
            producer_layer.outputs.push_back(value);
        }
        return {value, ref.tensor == 0 ? call_shapes[producer] : Shape{}};
    };
    result.expanded_layers = 0;
    for (size_t c : order) {
        const CallNode& call = calls[c];
        const Entry& entry = entries[call.entry];
        Layer layer = make_layer(call_name(entry.name, call.node_index), entry.class_name, *entry.config);
        if (call.node_index > 0) layer.attributes["shares_weights_with"] = entry.name;
        layer.outputs = {layer.name};
        std::vector<Shape> input_shapes;
        for (const TensorRef& ref : call.inputs) {
            auto [value, shape] = connect(ref, call.path);
            layer.inputs.push_back(value);
            input_shapes.push_back(shape);
        }
        if (entry.class_name == "InputLayer") {
            layer.output_shape = input_layer_shape(*entry.config).value_or(Shape{});
        } else if (is_model_class(entry.class_name)) {
            const NestedParse& nested = parse_nested((*layers_json)[call.entry], call.path, depth, nested_cache);
            auto decided = flatten_entry.find(call.entry);
            if (decided == flatten_entry.end()) {
                result.expanded_layers = saturating_add(result.expanded_layers,
                                                        saturating_mul(nested.expanded_layers, entry.node_count));
                bool flatten = can_flatten(nested, entry.node_count, call.inputs.size(), budget_used);
                decided = flatten_entry.emplace(call.entry, flatten).first;
            }
            if (decided->second) {
                SplicedModel spliced = splice_nested_model(model, nested.model, layer.name, layer.inputs,
                                                           call.node_index > 0 ? entry.name : "");
                for (Shape& shape : spliced.output_shapes) {
                    shape = with_batch_of(shape, input_shapes.empty() ? Shape{} : input_shapes[0]);
                }
                call_shapes[c] = spliced.output_shapes[0];
                flattened_calls.emplace(c, std::move(spliced));
                continue;
            }
            describe_nested_model(layer, nested, input_shapes);
            if (call.node_index == 0) model.warnings.push_back(layer.unsupported_reason);
        } else if (auto shape = infer_output_shape(entry.class_name, *entry.config, input_shapes)) {
            layer.output_shape = *shape;
        }
        if (!is_model_class(entry.class_name)) result.expanded_layers = saturating_add(result.expanded_layers, 1);
        call_shapes[c] = layer.output_shape;
        layer_of_call[c] = model.layers.size();
        model.layers.push_back(std::move(layer));
    }

    auto endpoints = [&](const char* key, std::vector<ValueInfo>& out) {
        const Json* value = member(config, key);
        if (!value) throw_format_error(path, ".config.", key, ": missing");
        std::vector<TensorRef> refs;
        collect_endpoint_refs(*value, 0, concat(path, ".config.", key), refs);
        for (const TensorRef& ref : refs) {
            std::string where = concat(path, ".config.", key);
            size_t c = resolve(ref, where);
            auto [name, shape] = connect(ref, where);
            out.push_back({name, shape, json_dtype(*entries[calls[c].entry].config)});
        }
    };
    endpoints("input_layers", model.inputs);
    endpoints("output_layers", model.outputs);
    return result;
}

}  // namespace

// -----------------------------------------------------------------------------
// [SECTION] entry points
// -----------------------------------------------------------------------------

Architecture parse_architecture(const Json& root, const std::string& where, int depth) {
    check_depth(depth, where);
    if (!root.is_object()) throw_format_error(where, ": expected a model object, found ", json_kind(root));
    std::string class_name = string_member(root, "class_name");
    const Json* config = member(root, "config");
    if (!config) throw_format_error(where, ": expected 'config' in the model (class_name '", class_name, "')");
    // Keras 1 and early Keras 2 write a Sequential's config as the layer list.
    if (class_name == "Sequential" && config->is_array()) {
        return parse_sequential(root, *config, where + ".config", depth);
    }
    const Json* layers = member(*config, "layers");
    if (class_name == "Sequential") {
        if (!layers || !layers->is_array()) throw_format_error(where, ".config.layers: expected a list");
        return parse_sequential(root, *layers, where + ".config.layers", depth);
    }
    if (layers && layers->is_array() && member(*config, "input_layers") && member(*config, "output_layers")) {
        return parse_functional(root, where, depth);
    }
    throw UnsupportedError(concat(where, ": model class '", class_name,
                                  "' has no layer graph in its config (a subclassed model's architecture is Python code)"));
}

std::vector<std::string> variable_names(const std::string& class_name, const Json& config) {
    auto flag = [&config](const char* key) {
        const Json* value = member(config, key);
        return !value || !value->is_boolean() || value->get<bool>();
    };
    std::vector<std::string> names;
    if (starts_with(class_name, "DepthwiseConv")) {
        names = {"depthwise_kernel"};
        if (flag("use_bias")) names.push_back("bias");
    } else if (starts_with(class_name, "SeparableConv")) {
        names = {"depthwise_kernel", "pointwise_kernel"};
        if (flag("use_bias")) names.push_back("bias");
    } else if (starts_with(class_name, "Conv") || class_name == "Dense") {
        names = {"kernel"};
        if (flag("use_bias")) names.push_back("bias");
    } else if (class_name == "BatchNormalization") {
        if (flag("scale")) names.push_back("gamma");
        if (flag("center")) names.push_back("beta");
        names.push_back("moving_mean");
        names.push_back("moving_variance");
    } else if (class_name == "LayerNormalization" || class_name == "GroupNormalization") {
        if (flag("scale")) names.push_back("gamma");
        if (flag("center")) names.push_back("beta");
    } else if (class_name == "PReLU") {
        names = {"alpha"};
    } else if (class_name == "Embedding") {
        names = {"embeddings"};
    } else if (class_name == "Normalization") {
        names = {"mean", "variance", "count"};
    }
    return names;
}

std::unordered_map<std::string, size_t> layer_indices(const Model& model) {
    std::unordered_map<std::string, size_t> indices;
    for (size_t i = 0; i < model.layers.size(); ++i) indices.emplace(model.layers[i].name, i);
    return indices;
}

void set_producer(Model& model, const std::string& keras_version) {
    const std::string tf_suffix = "-tf";
    if (keras_version.size() > tf_suffix.size() &&
        keras_version.compare(keras_version.size() - tf_suffix.size(), tf_suffix.size(), tf_suffix) == 0) {
        model.producer = "tf.keras";
        model.producer_version = keras_version.substr(0, keras_version.size() - tf_suffix.size());
    } else {
        model.producer = "keras";
        model.producer_version = keras_version;
    }
    model.framework_version = FrameworkVersion::parse(model.producer_version);
}

std::string snake_case(const std::string& class_name) {
    // Mirrors the three regular expressions of keras naming.to_snake_case:
    // drop non-word characters; "_" before an upper case letter that starts
    // a lower case run (not at the start); "_" between a lower case letter
    // and an upper case one.
    std::string word;
    for (char c : class_name) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') word += c;
    }
    auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
    std::string step;
    for (size_t i = 0; i < word.size(); ++i) {
        if (i > 0 && upper(word[i]) && i + 1 < word.size() && lower(word[i + 1])) step += '_';
        step += word[i];
    }
    std::string out;
    for (size_t i = 0; i < step.size(); ++i) {
        if (i > 0 && lower(step[i - 1]) && upper(step[i])) out += '_';
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(step[i])));
    }
    return out;
}

Model model_from_config(const std::string& json_text, const std::string& where) {
    Json root = parse_json_text(json_text, where);
    return parse_architecture(root, where).model;
}

}  // namespace convscope::keras
