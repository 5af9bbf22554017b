#include "ui/inspection_hook.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/base/error.h"

namespace convscope::ui {

namespace {

// The hook lists full values only for maps up to this size.
constexpr int64_t max_hook_values = 4096;

nlohmann::json shape_json(const Shape& shape) {
    nlohmann::json out = nlohmann::json::array();
    for (int64_t d : shape) out.push_back(d < 0 ? nlohmann::json(nullptr) : nlohmann::json(d));
    return out;
}

nlohmann::json text_or_null(const std::string& text) { return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text); }

nlohmann::json selected_layer_json(const Inspection& inspection) {
    const Model* model = inspection.model();
    if (!model || inspection.selected_layer() < 0) return nullptr;
    const Layer& selected = model->layers[static_cast<size_t>(inspection.selected_layer())];
    nlohmann::json weights = nlohmann::json::array();
    for (const Weight& weight : selected.weights) {
        weights.push_back({{"name", weight.name},
                           {"shape", shape_json(weight.tensor.shape())},
                           {"shape_text", shape_to_string_x(weight.tensor.shape())},
                           {"dtype", dtype_name(weight.tensor.dtype())}});
    }
    const std::optional<ConvKernels>& kernels = inspection.selected_kernels();
    return {{"index", inspection.selected_layer()}, {"name", selected.name}, {"type", selected.type}, {"weights", weights},
            {"kernels", kernels ? kernels->out_channels : 0}, {"in_channels", kernels ? kernels->in_channels : 0}};
}

// Responses computed for the selected layer, with their values when small.
nlohmann::json responses_json(const Inspection& inspection) {
    nlohmann::json responses = nlohmann::json::array();
    for (const auto& [key, map] : inspection.cached_responses()) {
        if (key.layer != inspection.selected_layer() || map.values.empty()) continue;
        const InspectImage* image = nullptr;
        for (const InspectImage& candidate : inspection.images()) if (candidate.id == key.image_id) image = &candidate;
        if (!image) continue;
        double sum = 0.0, low = INFINITY, high = -INFINITY;
        for (float v : map.values) {
            sum += v;
            low = std::min<double>(low, v);
            high = std::max<double>(high, v);
        }
        nlohmann::json entry = {{"image", image->name}, {"sample_index", image->sample_index}, {"kernel", key.kernel},
                                {"channel", key.channel}, {"layer_output", key.layer_output},
                                {"shape", {map.height, map.width}}, {"sum", sum}, {"min", low}, {"max", high}};
        if (map.height * map.width <= max_hook_values) entry["values"] = map.values;
        responses.push_back(entry);
    }
    return responses;
}

nlohmann::json prediction_json(const Inspection& inspection) {
    const int current = inspection.current_image();
    const Prediction* p = inspection.cached_prediction(current);
    if (!p) return nullptr;
    nlohmann::json top = nlohmann::json::array();
    for (size_t i = 0; i < p->order.size() && i < 5; ++i) {
        top.push_back({{"class", p->order[i]}, {"label", inspection.label_name(p->order[i])}, {"probability", p->probabilities[p->order[i]]}});
    }
    return {{"image", inspection.images()[static_cast<size_t>(current)].name}, {"top", top}};
}

}  // namespace

std::string apply_inspect_command(Inspection& inspection, const std::string& text) {
    nlohmann::json command = nlohmann::json::parse(text, nullptr, false);
    if (command.is_discarded() || !command.is_object()) return "inspect: expected a JSON object, got " + text.substr(0, 80);
    try {
        const Model* model = inspection.model();
        if (command.contains("layer") && model) {
            const nlohmann::json& layer = command["layer"];
            int index = layer.is_number_integer() ? layer.get<int>() : layer.is_string() ? model->layer_index(layer.get<std::string>()) : -1;
            if (index < 0 || index >= static_cast<int>(model->layers.size())) return "inspect: no layer " + layer.dump();
            inspection.select_layer(index);
        }
        if (command.contains("kernel")) inspection.select_kernel(command["kernel"].get<int64_t>());
        if (command.contains("channel")) inspection.select_input_channel(command["channel"].get<int64_t>());
        if (command.contains("samples")) {
            for (const nlohmann::json& index : command["samples"]) inspection.add_sample(index.get<int64_t>());
        }
        if (command.contains("sample")) inspection.select_image(inspection.add_sample(command["sample"].get<int64_t>()));
        if (command.contains("image")) inspection.select_image(command["image"].get<int>());
        if (command.contains("compare")) inspection.compare_mode = command["compare"].get<bool>();
        if (command.contains("compare_images")) inspection.compare_images = command["compare_images"].get<std::vector<int>>();
        if (command.contains("compare_kernels")) inspection.compare_kernels = command["compare_kernels"].get<std::vector<int64_t>>();
        if (command.contains("layer_output")) inspection.show_layer_output = command["layer_output"].get<bool>();
        const std::optional<Preprocessing>& preprocessing = inspection.preprocessing();
        if (preprocessing && (command.contains("invert") || command.contains("scale") || command.contains("mean") || command.contains("std"))) {
            Preprocessing settings = *preprocessing;
            if (command.contains("invert")) settings.invert = command["invert"].get<bool>();
            if (command.contains("scale")) settings.scale = command["scale"].get<double>();
            if (command.contains("mean")) settings.mean = command["mean"].get<std::vector<double>>();
            if (command.contains("std")) settings.std = command["std"].get<std::vector<double>>();
            inspection.set_preprocessing(settings);
        }
    } catch (const std::exception& failure) {
        return std::string("inspect: ") + failure.what();
    }
    return {};
}

std::string inspection_to_json(const Inspection& inspection) {
    nlohmann::json out;
    out["engine_error"] = text_or_null(inspection.engine_error());
    out["compute_error"] = text_or_null(inspection.compute_error());
    out["busy"] = inspection.busy();
    out["kernel"] = inspection.kernel();
    out["input_channel"] = inspection.input_channel();
    out["show_layer_output"] = inspection.show_layer_output;
    out["compare_mode"] = inspection.compare_mode;
    out["compare_images"] = inspection.compare_images;
    out["compare_kernels"] = inspection.compare_kernels;
    out["labels_source"] = inspection.labels_source();
    const SampleSet* samples = inspection.samples();
    out["samples"] = samples ? nlohmann::json{{"count", samples->count}, {"classes", samples->class_names}} : nlohmann::json(nullptr);
    out["layer"] = selected_layer_json(inspection);
    nlohmann::json images = nlohmann::json::array();
    for (const InspectImage& image : inspection.images()) {
        images.push_back({{"name", image.name}, {"sample_index", image.sample_index}, {"label", image.label},
                          {"shape", shape_json(image.pixels.shape())}});
    }
    out["images"] = images;
    out["current_image"] = inspection.current_image();
    if (const std::optional<Preprocessing>& p = inspection.preprocessing()) {
        out["preprocessing"] = {{"height", p->height}, {"width", p->width}, {"channels", p->channels}, {"invert", p->invert},
                                {"scale", p->scale}, {"mean", p->mean}, {"std", p->std}, {"text", describe_preprocessing(*p)}};
    } else {
        out["preprocessing"] = nullptr;
    }
    out["responses"] = responses_json(inspection);
    out["prediction"] = prediction_json(inspection);
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace convscope::ui
