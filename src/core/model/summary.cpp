#include "core/model/summary.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>


namespace convscope {

namespace {

bool is_keras_model(const Model& model) { return model.is_keras(); }

// Keras's rule: a layer with trainable = false trains nothing, and the
// moving statistics of BatchNormalization (running_* in Keras 1) and the
// adapted statistics of Normalization are never trained.
bool is_non_trainable_weight(const Layer& layer, const Weight& weight) {
    if (layer.attribute_int("trainable", 1) == 0) return true;
    if (layer.type == "Normalization") return true;
    for (const char* marker : {"moving_mean", "moving_variance", "running_mean", "running_std"}) {
        if (weight.name.find(marker) != std::string::npos) return true;
    }
    return false;
}

bool hidden_in_summary(const Layer& layer) {
    return layer.attribute_int("implicit", 0) != 0 || layer.attribute("shares_weights_with") != nullptr;
}

nlohmann::ordered_json shape_json(const Shape& shape) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (int64_t dim : shape) {
        if (dim < 0) out.push_back(nullptr);
        else out.push_back(dim);
    }
    return out;
}

nlohmann::ordered_json attribute_json(const AttributeValue& value) {
    if (auto v = std::get_if<int64_t>(&value)) return *v;
    if (auto v = std::get_if<double>(&value)) return *v;
    if (auto v = std::get_if<std::string>(&value)) return *v;
    if (auto v = std::get_if<std::vector<int64_t>>(&value)) return *v;
    if (auto v = std::get_if<std::vector<double>>(&value)) return *v;
    if (auto v = std::get_if<std::vector<std::string>>(&value)) return *v;
    return attribute_to_string(value);
}

// Keras truncates long names in its table too; the JSON keeps them whole.
std::string clipped(const std::string& text, size_t width) {
    return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

std::string pad(const std::string& text, size_t width) {
    return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

std::string with_commas(uint64_t value) {
    std::string digits = std::to_string(value);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

}  // namespace

ModelSummary summarize(const Model& model) {
    ModelSummary summary;
    uint64_t non_trainable = 0;
    for (const Layer& layer : model.layers) {
        uint64_t params = layer.parameter_count();
        summary.total_params += params;
        for (const Weight& weight : layer.weights) {
            if (is_non_trainable_weight(layer, weight)) non_trainable += weight.tensor.element_count();
        }
        if (hidden_in_summary(layer)) continue;
        SummaryRow row;
        row.name = layer.name;
        row.type = layer.type.empty() ? "?" : layer.type;
        row.output_shape = layer.output_shape.empty() ? "?" : shape_to_string(layer.output_shape);
        row.params = params;
        row.note = layer.unsupported_reason;
        summary.rows.push_back(std::move(row));
    }
    if (is_keras_model(model)) {
        summary.non_trainable_params = non_trainable;
        summary.trainable_params = summary.total_params - non_trainable;
    }
    return summary;
}

std::string summary_to_text(const Model& model) {
    ModelSummary summary = summarize(model);
    std::vector<std::string> first_column;
    size_t name_width = 28, shape_width = 25;
    for (const SummaryRow& row : summary.rows) {
        first_column.push_back(clipped(row.name, 48) + " (" + clipped(row.type, 32) + ")");
        name_width = std::max(name_width, first_column.back().size() + 2);
        shape_width = std::max(shape_width, row.output_shape.size() + 2);
    }
    size_t total_width = name_width + shape_width + 12;
    std::ostringstream out;
    out << "Model: \"" << model.name << "\"\n";
    out << std::string(total_width, '_') << "\n";
    out << pad("Layer (type)", name_width) << pad("Output Shape", shape_width) << "Param #\n";
    out << std::string(total_width, '=') << "\n";
    for (size_t i = 0; i < summary.rows.size(); ++i) {
        const SummaryRow& row = summary.rows[i];
        out << pad(first_column[i], name_width) << pad(row.output_shape, shape_width) << with_commas(row.params) << "\n";
        if (!row.note.empty()) out << "    note: " << row.note << "\n";
        out << std::string(total_width, i + 1 == summary.rows.size() ? '=' : '_') << "\n";
    }
    if (summary.rows.empty()) out << std::string(total_width, '=') << "\n";
    out << "Total params: " << with_commas(summary.total_params) << "\n";
    if (summary.trainable_params) {
        out << "Trainable params: " << with_commas(*summary.trainable_params) << "\n";
        out << "Non-trainable params: " << with_commas(*summary.non_trainable_params) << "\n";
    }
    out << std::string(total_width, '_') << "\n";
    out << "Format: " << model.format_name();
    if (!model.producer.empty()) out << ", produced by " << model.producer;
    if (!model.producer_version.empty()) out << " " << model.producer_version;
    out << "\n";
    for (const std::string& warning : model.warnings) out << "warning: " << warning << "\n";
    return out.str();
}

std::string model_to_json(const Model& model, int indent) {
    using Json = nlohmann::ordered_json;
    ModelSummary summary = summarize(model);
    Json root;
    root["format"] = model.format_name();
    root["producer"] = model.producer;
    root["producer_version"] = model.producer_version;
    root["name"] = model.name;
    root["has_architecture"] = model.has_architecture;
    auto values = [](const std::vector<ValueInfo>& infos) {
        Json list = Json::array();
        for (const ValueInfo& info : infos) {
            list.push_back({{"name", info.name}, {"shape", shape_json(info.shape)}, {"dtype", dtype_name(info.dtype)}});
        }
        return list;
    };
    root["inputs"] = values(model.inputs);
    root["outputs"] = values(model.outputs);
    Json layers = Json::array();
    for (const Layer& layer : model.layers) {
        Json entry;
        entry["name"] = layer.name;
        entry["type"] = layer.type;
        entry["inputs"] = layer.inputs;
        entry["outputs"] = layer.outputs;
        entry["output_shape"] = layer.output_shape.empty() ? Json(nullptr) : shape_json(layer.output_shape);
        entry["params"] = layer.parameter_count();
        Json weights = Json::array();
        for (const Weight& weight : layer.weights) {
            weights.push_back({{"name", weight.name}, {"shape", shape_json(weight.tensor.shape())},
                               {"dtype", dtype_name(weight.tensor.dtype())}});
        }
        entry["weights"] = weights;
        Json attributes = Json::object();
        for (const auto& [key, value] : layer.attributes) attributes[key] = attribute_json(value);
        entry["attributes"] = attributes;
        if (!layer.unsupported_reason.empty()) entry["unsupported_reason"] = layer.unsupported_reason;
        layers.push_back(entry);
    }
    root["layers"] = layers;
    root["total_params"] = summary.total_params;
    root["trainable_params"] = summary.trainable_params ? Json(*summary.trainable_params) : Json(nullptr);
    root["non_trainable_params"] = summary.non_trainable_params ? Json(*summary.non_trainable_params) : Json(nullptr);
    root["warnings"] = model.warnings;
    // Names come from files: replace invalid UTF-8 rather than fail.
    return root.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace convscope
