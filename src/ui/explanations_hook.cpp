#include "ui/explanations_hook.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/base/error.h"

namespace convscope::ui {

namespace {

// The hook lists full values only for maps up to this size.
constexpr size_t max_hook_values = 4096;

// A checksum of a map's exact bits, so a test can tell two maps apart.
uint32_t fnv1a(const std::vector<float>& values) {
    uint32_t hash = 2166136261u;
    const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
    for (size_t i = 0; i < values.size() * sizeof(float); ++i) {
        hash ^= bytes[i];
        hash *= 16777619u;
    }
    return hash;
}

}  // namespace

std::string apply_explain_command(Explanations& explanations, const std::string& text) {
    nlohmann::json command = nlohmann::json::parse(text, nullptr, false);
    if (command.is_discarded() || !command.is_object()) return "explain: expected a JSON object, got " + text.substr(0, 80);
    explanations.activate();
    try {
        ExplainSettings next = explanations.settings();
        if (command.contains("class")) next.class_index = command["class"].get<int64_t>();
        if (command.contains("gradcam_layer")) next.gradcam_layer = command["gradcam_layer"].get<std::string>();
        if (command.contains("window")) next.occlusion_window = std::clamp(command["window"].get<int>(), 1, 4096);
        if (command.contains("stride")) next.occlusion_stride = std::clamp(command["stride"].get<int>(), 1, 4096);
        if (command.contains("fill")) next.occlusion_fill = command["fill"].get<float>();
        if (command.contains("smoothgrad_samples")) next.smoothgrad_samples = std::clamp(command["smoothgrad_samples"].get<int>(), 1, 1024);
        if (command.contains("ig_steps")) next.ig_steps = std::clamp(command["ig_steps"].get<int>(), 1, 1024);
        explanations.set_settings(next);
        if (command.contains("filter")) {
            const nlohmann::json& filter = command["filter"];
            explanations.start_filter(filter.value("layer", std::string()), filter.value("channel", int64_t{0}), filter.value("steps", 256));
        }
        if (command.value("stop_filter", false)) explanations.stop_filter();
    } catch (const std::exception& failure) {
        return concat("explain: ", failure.what());
    }
    return {};
}

std::string explanations_to_json(const Explanations& explanations) {
    nlohmann::json out;
    out["active"] = explanations.active();
    out["class"] = explanations.explained_class();
    out["gradcam_layer"] = explanations.gradcam_layer();
    out["conv_layers"] = explanations.conv_layers();
    out["conv_channels"] = explanations.conv_channels();
    out["completed"] = explanations.completed();
    out["error"] = explanations.error().empty() ? nlohmann::json(nullptr) : nlohmann::json(explanations.error());
    out["gradient_build_ms"] = explanations.gradient_build_ms();
    const ExplainSettings& settings = explanations.settings();
    out["settings"] = {{"class", settings.class_index}, {"gradcam_layer", settings.gradcam_layer},
                       {"window", settings.occlusion_window}, {"stride", settings.occlusion_stride},
                       {"fill", settings.occlusion_fill}, {"smoothgrad_samples", settings.smoothgrad_samples},
                       {"ig_steps", settings.ig_steps}};
    nlohmann::json methods = nlohmann::json::object();
    for (int m = 0; m < explain_method_count; ++m) {
        const MethodResult& r = explanations.result(static_cast<ExplainMethod>(m));
        nlohmann::json entry = {{"done", r.done}, {"progress", r.progress}, {"ms", r.milliseconds}, {"frames", r.frames}};
        if (!r.error.empty()) entry["error"] = r.error;
        if (r.done && r.error.empty()) {
            double sum = 0.0, abs_sum = 0.0;
            for (float v : r.map.values) {
                sum += v;
                abs_sum += std::fabs(v);
            }
            entry["shape"] = {r.map.height, r.map.width};
            entry["raw_shape"] = r.raw_shape;
            entry["min"] = r.low;
            entry["max"] = r.high;
            entry["sum"] = sum;
            entry["abs_sum"] = abs_sum;
            entry["fnv1a"] = fnv1a(r.map.values);
            entry["score"] = r.score;
            if (r.map.values.size() <= max_hook_values) entry["values"] = r.map.values;
        }
        methods[method_id(static_cast<ExplainMethod>(m))] = entry;
    }
    out["methods"] = methods;
    const FilterRun& filter = explanations.filter();
    double picture_sum = 0.0;
    for (float v : filter.picture.values) picture_sum += v;
    out["filter"] = {{"running", filter.running}, {"layer", filter.layer}, {"channel", filter.channel},
                     {"step", filter.step}, {"max_steps", filter.max_steps},
                     {"initial_objective", filter.initial_objective}, {"objective", filter.objective},
                     {"ms", filter.milliseconds}, {"picture_shape", {filter.picture.height, filter.picture.width}},
                     {"picture_sum", picture_sum},
                     {"error", filter.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(filter.error)}};
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace convscope::ui
