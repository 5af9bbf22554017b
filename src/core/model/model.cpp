#include "core/model/model.h"

#include <sstream>

namespace convscope {

namespace {
template <typename T>
void print_list(std::ostringstream& out, const std::vector<T>& values) {
    out << "[";
    for (size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
    out << "]";
}
}  // namespace

std::string attribute_to_string(const AttributeValue& value) {
    std::ostringstream out;
    if (auto v = std::get_if<int64_t>(&value)) out << *v;
    else if (auto d = std::get_if<double>(&value)) out << *d;
    else if (auto s = std::get_if<std::string>(&value)) out << *s;
    else if (auto li = std::get_if<std::vector<int64_t>>(&value)) print_list(out, *li);
    else if (auto ld = std::get_if<std::vector<double>>(&value)) print_list(out, *ld);
    else if (auto ls = std::get_if<std::vector<std::string>>(&value)) print_list(out, *ls);
    else if (auto t = std::get_if<Tensor>(&value)) out << "tensor " << dtype_name(t->dtype()) << shape_to_string(t->shape());
    return out.str();
}

uint64_t Layer::parameter_count() const {
    uint64_t total = 0;
    for (const Weight& w : weights) total += w.tensor.element_count();
    return total;
}

const AttributeValue* Layer::attribute(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? nullptr : &it->second;
}

int64_t Layer::attribute_int(const std::string& key, int64_t fallback) const {
    const AttributeValue* v = attribute(key);
    if (!v) return fallback;
    if (auto i = std::get_if<int64_t>(v)) return *i;
    if (auto d = std::get_if<double>(v)) return static_cast<int64_t>(*d);
    return fallback;
}

double Layer::attribute_float(const std::string& key, double fallback) const {
    const AttributeValue* v = attribute(key);
    if (!v) return fallback;
    if (auto d = std::get_if<double>(v)) return *d;
    if (auto i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
    return fallback;
}

std::string Layer::attribute_string(const std::string& key, const std::string& fallback) const {
    const AttributeValue* v = attribute(key);
    if (!v) return fallback;
    if (auto s = std::get_if<std::string>(v)) return *s;
    return fallback;
}

std::vector<int64_t> Layer::attribute_ints(const std::string& key, std::vector<int64_t> fallback) const {
    const AttributeValue* v = attribute(key);
    if (!v) return fallback;
    if (auto list = std::get_if<std::vector<int64_t>>(v)) return *list;
    if (auto i = std::get_if<int64_t>(v)) return {*i};
    return fallback;
}

const Weight* Layer::weight(const std::string& suffix) const {
    for (const Weight& w : weights) {
        const std::string& n = w.name;
        if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) return &w;
        // Keras names carry ":0"; match "kernel" against "conv2d/kernel:0".
        std::string with_suffix = suffix + ":0";
        if (n.size() >= with_suffix.size() &&
            n.compare(n.size() - with_suffix.size(), with_suffix.size(), with_suffix) == 0) return &w;
    }
    return nullptr;
}

uint64_t Model::total_parameters() const {
    uint64_t total = 0;
    for (const Layer& layer : layers) total += layer.parameter_count();
    return total;
}

const Layer* Model::find_layer(const std::string& layer_name) const {
    int index = layer_index(layer_name);
    return index < 0 ? nullptr : &layers[static_cast<size_t>(index)];
}

int Model::layer_index(const std::string& layer_name) const {
    for (size_t i = 0; i < layers.size(); ++i) {
        if (layers[i].name == layer_name) return static_cast<int>(i);
    }
    return -1;
}

const char* format_name(ModelFormat format) {
    switch (format) {
        case ModelFormat::unknown: return "unknown";
        case ModelFormat::keras_h5: return "keras-h5";
        case ModelFormat::keras_v3: return "keras-v3";
        case ModelFormat::keras_weights_h5: return "keras-weights-h5";
        case ModelFormat::keras_json: return "keras-json";
        case ModelFormat::tfjs_layers: return "tfjs-layers";
        case ModelFormat::onnx: return "onnx";
        case ModelFormat::tflite: return "tflite";
        case ModelFormat::pytorch: return "pytorch";
        case ModelFormat::torchscript: return "torchscript";
        case ModelFormat::safetensors: return "safetensors";
    }
    return "unknown";
}

bool is_keras_format(ModelFormat format) {
    return format == ModelFormat::keras_h5 || format == ModelFormat::keras_v3 || format == ModelFormat::keras_weights_h5 ||
           format == ModelFormat::keras_json || format == ModelFormat::tfjs_layers;
}

FrameworkVersion FrameworkVersion::parse(const std::string& text) {
    FrameworkVersion v;
    int* parts[3] = {&v.major, &v.minor, &v.patch};
    size_t i = 0;
    for (int k = 0; k < 3; ++k) {
        if (i >= text.size() || text[i] < '0' || text[i] > '9') break;
        int value = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && value < 100000) value = value * 10 + (text[i++] - '0');
        *parts[k] = value;
        if (k == 0) v.known = true;
        if (i >= text.size() || text[i] != '.') break;
        ++i;
    }
    return v;
}

bool Model::is_keras3() const {
    return format == ModelFormat::keras_v3 || (is_keras() && framework_version.known && framework_version.major == 3);
}

int64_t Model::onnx_opset(const std::string& domain) const {
    const std::string key = domain == "ai.onnx" ? "" : domain;
    auto found = opset_imports.find(key);
    return found == opset_imports.end() ? 0 : found->second;
}

}  // namespace convscope
