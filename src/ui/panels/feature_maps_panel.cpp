#include "ui/panels/feature_maps_panel.h"

#include <algorithm>

#include <imgui.h>

#include "core/inspect/feature_maps.h"
#include "core/base/error.h"
#include "ui/panels/inspector_widgets.h"

namespace convscope::ui {

void FeatureMapsPanel::draw(AppState& app) {
    Inspection& inspection = app.inspection();
    const Model* model = inspection.model();
    if (!model) {
        ImGui::TextDisabled("Open a model to see its feature maps.");
        return;
    }
    if (!inspection.engine()) {
        ImGui::TextWrapped("ConvScope cannot run this model: %s", inspection.engine_error().c_str());
        return;
    }
    const int current = inspection.current_image();
    const int layer_index = inspection.selected_layer();
    if (current < 0 || layer_index < 0) {
        ImGui::TextDisabled("Pick an image (Images tab) and a layer (Up/Down).");
        return;
    }
    const Layer& layer = model->layers[static_cast<size_t>(layer_index)];
    ImGui::Text("%s (%s) for %s", layer.name.c_str(), layer.type.c_str(), inspection.images()[static_cast<size_t>(current)].name.c_str());
    ImGui::Checkbox("sort by strength", &by_strength_);
    tooltip("Order channels by their mean value (strongest first) instead of by index");
    ImGui::SameLine();
    ImGui::Checkbox("shared scale", &shared_scale_);
    tooltip("One colour range for all channels, so weak channels look weak");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::SliderFloat("zoom", &zoom_, 0.5f, 4.0f, "%.1fx");
    const Tensor* output = inspection.request_layer_output(current, layer_index);
    if (!output) {
        if (!inspection.compute_error().empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "%s", inspection.compute_error().c_str());
        else ImGui::TextDisabled("computing...");
        return;
    }
    FeatureMaps maps;
    try {
        maps = feature_maps(*output, model->layout);
    } catch (const std::exception& failure) {
        ImGui::TextWrapped("%s", failure.what());
        return;
    }
    ImGui::TextDisabled("%lld channels of %lldx%lld", static_cast<long long>(maps.channels), static_cast<long long>(maps.height), static_cast<long long>(maps.width));
    std::vector<int64_t> order;
    if (by_strength_) {
        order = channels_by_strength(maps);
    } else {
        for (int64_t c = 0; c < maps.channels; ++c) order.push_back(c);
    }
    HeatmapStyle shared = style_for(ColorMap::viridis, maps.values.data(), maps.values.size());
    const float font = ImGui::GetFontSize();
    const float cell = std::max(1.0f, zoom_ * font * 4.0f / static_cast<float>(std::max<int64_t>(1, std::max(maps.width, maps.height))));
    const float tile = cell * static_cast<float>(maps.width) + ImGui::GetStyle().ItemSpacing.x;
    const int per_row = std::max(1, static_cast<int>(ImGui::GetContentRegionAvail().x / tile));
    const size_t shown = std::min<size_t>(order.size(), 2048);
    for (size_t i = 0; i < shown; ++i) {
        const int64_t c = order[i];
        if (i % static_cast<size_t>(per_row) != 0) ImGui::SameLine();
        ImGui::PushID(static_cast<int>(c));
        const float* values = maps.channel(c);
        const size_t count = static_cast<size_t>(maps.height * maps.width);
        HeatmapStyle style = shared_scale_ ? shared : style_for(ColorMap::viridis, values, count);
        const std::string key = concat("feature:", inspection.images()[static_cast<size_t>(current)].id, ":", layer_index, ":",
                                       inspection.results_generation(), ":", c);
        draw_map(key, 1, values, maps.width, maps.height, cell, style,
                 concat("channel ", c, "  mean ", maps.mean(c), "  max ", maps.max(c)).c_str());
        ImGui::PopID();
    }
    if (shown < order.size()) ImGui::TextDisabled("(first %zu channels shown)", shown);
}

}  // namespace convscope::ui
