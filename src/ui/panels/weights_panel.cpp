#include "ui/panels/weights_panel.h"

#include <algorithm>
#include <cmath>

#include <imgui.h>

#include "core/inspect/weight_stats.h"
#include "ui/panels/inspector_widgets.h"

namespace convscope::ui {

namespace {

// Colour patch of an RGB kernel: each channel mapped from [-m, m] to 0..255.
void draw_rgb_patch(const std::vector<float>& patch, int64_t width, int64_t height, float cell, float extent) {
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImDrawList* draw_list = ImGui::GetWindowDrawList();
    for (int64_t y = 0; y < height; ++y) {
        for (int64_t x = 0; x < width; ++x) {
            const float* rgb = &patch[static_cast<size_t>((y * width + x) * 3)];
            auto byte = [&](float v) { return static_cast<int>(std::clamp(127.5f + 127.5f * v / extent, 0.0f, 255.0f)); };
            const ImVec2 a(origin.x + cell * static_cast<float>(x), origin.y + cell * static_cast<float>(y));
            draw_list->AddRectFilled(a, ImVec2(a.x + cell, a.y + cell), IM_COL32(byte(rgb[0]), byte(rgb[1]), byte(rgb[2]), 255));
        }
    }
    ImGui::Dummy(ImVec2(cell * static_cast<float>(width), cell * static_cast<float>(height)));
}

}  // namespace

void WeightsPanel::draw(AppState& app) {
    Inspection& inspection = app.inspection();
    const Model* model = inspection.model();
    if (!model || inspection.selected_layer() < 0) {
        ImGui::TextDisabled("Select a layer (Layers tab, or Up/Down) to see its weights.");
        return;
    }
    if (model_generation_seen_ != inspection.model_generation()) {
        // A new model (maybe at the old one's address): cached pointers
        // into the old one mean nothing now.
        model_generation_seen_ = inspection.model_generation();
        layer_seen_ = nullptr;
        stats_for_ = nullptr;
        kernel_range_for_ = nullptr;
    }
    const Layer& layer = model->layers[static_cast<size_t>(inspection.selected_layer())];
    if (layer_seen_ != &layer) {
        layer_seen_ = &layer;
        selected_array_ = 0;
        grid_channel_ = 0;
    }
    ImGui::Text("%s", layer.name.c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("(%s)  Up/Down: layer, Left/Right: kernel", layer.type.c_str());
    if (layer.weights.empty()) {
        ImGui::TextDisabled("This layer has no weights.");
        return;
    }

    draw_arrays(app, layer);
    selected_array_ = std::clamp(selected_array_, 0, static_cast<int>(layer.weights.size()) - 1);
    draw_statistics(layer.weights[static_cast<size_t>(selected_array_)]);
    const std::optional<ConvKernels>& kernels = inspection.selected_kernels();
    if (kernels) draw_kernels(app, layer, *kernels);
    draw_bias(kernels ? kernels->bias : layer.weight("bias"));
}

// The layer's arrays as get_weights() lists them; a click selects one.
void WeightsPanel::draw_arrays(AppState& app, const Layer& layer) {
    // ---- the arrays ----
    const ImGuiTableFlags table_flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
    if (ImGui::BeginTable("arrays", 4, table_flags)) {
        ImGui::TableSetupColumn("Array");
        ImGui::TableSetupColumn("Shape");
        ImGui::TableSetupColumn("dtype");
        ImGui::TableSetupColumn("Export");
        ImGui::TableHeadersRow();
        for (size_t i = 0; i < layer.weights.size(); ++i) {
            const Weight& weight = layer.weights[i];
            ImGui::PushID(static_cast<int>(i));
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            if (ImGui::Selectable(weight.name.c_str(), selected_array_ == static_cast<int>(i), ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap)) {
                selected_array_ = static_cast<int>(i);
            }
            ImGui::TableSetColumnIndex(1);
            ImGui::TextUnformatted(shape_to_string_x(weight.tensor.shape()).c_str());
            ImGui::TableSetColumnIndex(2);
            ImGui::TextUnformatted(dtype_name(weight.tensor.dtype()));
            ImGui::TableSetColumnIndex(3);
            save_npy_button(app, "Save .npy", file_safe(weight.name) + ".npy", weight.tensor);
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
}

// Statistics and histogram of the selected array (computed when it changes).
void WeightsPanel::draw_statistics(const Weight& array) {
    if (stats_for_ != &array) {
        stats_for_ = &array;
        stats_ = weight_statistics(array.tensor);
        histogram_ = histogram(array.tensor, 40);
    }
    const WeightStatistics& stats = stats_;
    const Histogram& hist = histogram_;
    ImGui::Text("%s: min %.4g  max %.4g  mean %.4g  std %.4g  zeros %.1f%%", array.name.c_str(), stats.min, stats.max,
                stats.mean, stats.std, stats.sparsity * 100.0);
    if (stats.non_finite) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1, 0.6f, 0.3f, 1), "%llu non-finite", static_cast<unsigned long long>(stats.non_finite));
    }
    std::vector<float> counts(hist.counts.begin(), hist.counts.end());
    ImGui::PlotHistogram("##histogram", counts.data(), static_cast<int>(counts.size()), 0, nullptr, 0.0f, FLT_MAX,
                         ImVec2(std::min(ImGui::GetContentRegionAvail().x, ImGui::GetFontSize() * 30), ImGui::GetFontSize() * 4));
    tooltip("Histogram of the values (40 equal-width bins from min to max)");
    ImGui::SameLine();
    ImGui::TextDisabled("%.3g .. %.3g", hist.low, hist.high);

}

// The kernels as a grid of heatmaps (one input channel, or colour patches
// for RGB first layers) in one symmetric range, then the selected one.
void WeightsPanel::draw_kernels(AppState& app, const Layer& layer, const ConvKernels& kernels) {
    ImGui::Separator();
    // One symmetric range for every kernel of the layer, so their
    // strengths compare; computed once per layer.
    if (kernel_range_for_ != kernels.weight) {
        kernel_range_for_ = kernels.weight;
        const WeightStatistics all = weight_statistics(kernels.values);
        kernel_extent_ = std::max({std::fabs(static_cast<float>(all.min)), std::fabs(static_cast<float>(all.max)), 1e-12f});
    }
    const float shared = kernel_extent_;
    ImGui::Text("%lld kernels of %lldx%lld reading %lld channel(s)", static_cast<long long>(kernels.out_channels),
                static_cast<long long>(kernels.height), static_cast<long long>(kernels.width),
                static_cast<long long>(kernels.in_channels));
    const bool rgb = kernels.in_channels_per_group() == 3;
    if (rgb) {
        ImGui::SameLine();
        ImGui::Checkbox("colour patches", &rgb_patches_);
        tooltip("Show each kernel's three input channels as one colour patch (grey = 0)");
    }
    if (!(rgb && rgb_patches_) && kernels.in_channels > 1) {
        ImGui::SameLine();
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
        ImGui::SliderInt("input channel", &grid_channel_, 0, static_cast<int>(kernels.in_channels - 1));
        tooltip("Which input channel's slice of every kernel the grid shows");
    }
    grid_channel_ = std::clamp(grid_channel_, 0, static_cast<int>(kernels.in_channels - 1));
    // About three lines of text per kernel, at least 2 pixels per weight.
    const float cell = std::max(2.0f, ImGui::GetFontSize() * 3.0f / static_cast<float>(std::max(kernels.width, kernels.height)));
    const float tile = cell * static_cast<float>(std::max(kernels.width, kernels.height)) + ImGui::GetStyle().ItemSpacing.x;
    const int per_row = std::max(1, static_cast<int>(ImGui::GetContentRegionAvail().x / tile));
    HeatmapStyle style;
    style.color_map = ColorMap::diverging;
    style.low = -shared;
    style.high = shared;
    draw_kernel_grid(app.inspection(), layer, kernels, style, cell, per_row, shared);
    draw_selected_kernel(app, layer, kernels, style);
}

void WeightsPanel::draw_kernel_grid(Inspection& inspection, const Layer& layer, const ConvKernels& kernels, const HeatmapStyle& style,
                                    float cell, int per_row, float shared) {
    const bool rgb = kernels.in_channels_per_group() == 3;
    const int64_t shown = std::min<int64_t>(kernels.out_channels, 1024);
    for (int64_t k = 0; k < shown; ++k) {
        if (k % per_row != 0) ImGui::SameLine();
        ImGui::PushID(static_cast<int>(k));
        const bool selected = k == inspection.kernel();
        ImGui::BeginGroup();
        if (rgb && rgb_patches_) {
            draw_rgb_patch(kernels.rgb_patch(k), kernels.width, kernels.height, cell, shared);
            if (ImGui::IsItemClicked()) inspection.select_kernel(k);
        } else {
            std::vector<float> slice = kernels.slice(k, grid_channel_);
            const std::string key = "kernel:" + layer.name + ":" + std::to_string(k) + ":" + std::to_string(grid_channel_);
            if (draw_map(key, inspection.model_generation(), slice.data(), kernels.width, kernels.height, cell, style, nullptr)) {
                inspection.select_kernel(k);
            }
            if (ImGui::IsItemHovered()) {
                // The hovered kernel, enlarged with its numbers (replaces draw_map's value tooltip).
                ImGui::BeginTooltip();
                ImGui::Text("kernel %lld, input channel %d (click to select)", static_cast<long long>(k), grid_channel_);
                draw_map(key + ":tip", inspection.model_generation(), slice.data(), kernels.width, kernels.height, ImGui::GetFontSize() * 1.5f, style, nullptr);
                ImGui::SameLine();
                draw_numbers(slice.data(), kernels.width, kernels.height);
                ImGui::EndTooltip();
            }
        }
        ImGui::EndGroup();
        if (selected) {
            ImGui::GetWindowDrawList()->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), IM_COL32(255, 210, 0, 255), 0, 0, 2.0f);
        }
        ImGui::PopID();
    }
    if (shown < kernels.out_channels) ImGui::TextDisabled("(first %lld kernels shown)", static_cast<long long>(shown));
}

// The selected kernel, enlarged with its numbers and exports.
void WeightsPanel::draw_selected_kernel(AppState& app, const Layer& layer, const ConvKernels& kernels, const HeatmapStyle& style) {
    Inspection& inspection = app.inspection();
    const int64_t k = inspection.kernel();
    ImGui::Separator();
    ImGui::Text("Kernel %lld, input channel %d  (bias %.5g)", static_cast<long long>(k), grid_channel_, kernels.bias_value(k));
    std::vector<float> slice = kernels.slice(k, grid_channel_);
    const float big = ImGui::GetFontSize() * 2.0f;
    draw_map("kernel-large:" + layer.name + ":" + std::to_string(k) + ":" + std::to_string(grid_channel_), inspection.model_generation(), slice.data(),
             kernels.width, kernels.height, big, style, "weight");
    ImGui::SameLine();
    ImGui::BeginGroup();
    draw_numbers(slice.data(), kernels.width, kernels.height);
    const std::string base = file_safe(layer.name) + "_kernel" + std::to_string(k) + "_in" + std::to_string(grid_channel_);
    save_npy_button(app, "Save kernel .npy", base + ".npy", Tensor::from_floats({kernels.height, kernels.width}, slice));
    ImGui::SameLine();
    save_png_button(app, "Save kernel .png", base + ".png", slice.data(), kernels.width, kernels.height, ColorMap::diverging);
    ImGui::EndGroup();
    heatmap_renderer().draw_color_bar(style, ImVec2(ImGui::GetFontSize() * 12, ImGui::GetFontSize() * 0.8f));
}

void WeightsPanel::draw_bias(const Weight* bias) {
    if (bias && bias->tensor.element_count() > 0) {
        ImGui::Separator();
        std::vector<float> values = bias->tensor.to_float_vector();
        ImGui::Text("Bias (%zu values)", values.size());
        ImGui::PlotHistogram("##bias", values.data(), static_cast<int>(values.size()), 0, nullptr, FLT_MAX, FLT_MAX,
                             ImVec2(std::min(ImGui::GetContentRegionAvail().x, ImGui::GetFontSize() * 30), ImGui::GetFontSize() * 3));
        tooltip("One bar per output channel");
        if (values.size() <= 64) {
            std::string text;
            for (size_t i = 0; i < values.size(); ++i) {
                char number[32];
                std::snprintf(number, sizeof number, "%s%.4g", i ? ", " : "", values[i]);
                text += number;
            }
            ImGui::TextWrapped("%s", text.c_str());
        }
    }
}

}  // namespace convscope::ui
