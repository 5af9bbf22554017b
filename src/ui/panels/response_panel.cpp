#include "ui/panels/response_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <imgui.h>

#include "core/base/error.h"
#include "ui/panels/inspector_widgets.h"

namespace convscope::ui {

namespace {

// Layer picker restricted to 2-D convolutions.
void conv_layer_combo(Inspection& inspection) {
    const Model& model = *inspection.model();
    const int selected = inspection.selected_layer();
    const char* preview = selected >= 0 ? model.layers[static_cast<size_t>(selected)].name.c_str() : "(none)";
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    if (ImGui::BeginCombo("layer", preview)) {
        for (size_t i = 0; i < model.layers.size(); ++i) {
            if (!is_conv2d_layer(model, model.layers[i])) continue;
            if (ImGui::Selectable(model.layers[i].name.c_str(), static_cast<int>(i) == selected)) inspection.select_layer(static_cast<int>(i));
        }
        ImGui::EndCombo();
    }
    tooltip("Convolution layer whose kernels are applied (Up/Down also moves between layers)");
}

std::vector<int64_t> parse_kernel_list(const char* text, int64_t count) {
    std::vector<int64_t> kernels;
    const char* p = text;
    // Bounded by the text buffer; at most 64 kernels in the grid.
    while (*p && kernels.size() < 64) {
        char* end = nullptr;
        long value = std::strtol(p, &end, 10);
        if (end == p) {
            ++p;
            continue;
        }
        if (value >= 0 && value < count) kernels.push_back(value);
        p = end;
    }
    return kernels;
}

void draw_response_cell(AppState& app, Inspection& inspection, int position, int64_t kernel, float cell,
                        const HeatmapStyle* shared_style, const std::string& layer_name) {
    const Map2D* map = inspection.request_response(position, inspection.selected_layer(), kernel, inspection.input_channel(),
                                                   inspection.show_layer_output);
    if (!map) {
        ImGui::Dummy(ImVec2(cell * 8, cell * 8));
        ImGui::TextDisabled("computing...");
        return;
    }
    if (map->values.empty()) {
        ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "failed");
        tooltip(inspection.compute_error().c_str());
        return;
    }
    const ColorMap color_map = inspection.show_layer_output ? ColorMap::viridis : ColorMap::diverging;
    HeatmapStyle style = shared_style ? *shared_style : style_for(color_map, map->values.data(), map->values.size());
    const std::string title = concat(inspection.show_layer_output ? "output channel " : "response of kernel ", kernel);
    draw_map(concat("response:", map->version), map->version, map->values.data(), map->width, map->height, cell, style,
             title.c_str());
    const std::string base = concat(file_safe(layer_name), "_k", kernel, "_", file_safe(inspection.images()[static_cast<size_t>(position)].name));
    ImGui::PushID(static_cast<int>(map->version));
    save_npy_button(app, ".npy", base + ".npy", Tensor::from_floats({map->height, map->width}, map->values));
    ImGui::SameLine();
    save_png_button(app, ".png", base + ".png", map->values.data(), map->width, map->height, color_map);
    ImGui::PopID();
}

// The first channel of a preprocessed image, H x W, for display.
std::vector<float> first_channel(const Tensor& input, const Preprocessing& settings) {
    std::vector<float> plane(static_cast<size_t>(settings.height * settings.width));
    for (size_t i = 0; i < plane.size(); ++i) {
        plane[i] = settings.layout == DataLayout::channels_last ? input.f32()[i * static_cast<size_t>(settings.channels)] : input.f32()[i];
    }
    return plane;
}

}  // namespace

void ResponsePanel::draw(AppState& app) {
    Inspection& inspection = app.inspection();
    const Model* model = inspection.model();
    if (!model) {
        ImGui::TextDisabled("Open a model to see how its kernels respond to images.");
        return;
    }
    if (!inspection.engine()) {
        ImGui::TextWrapped("ConvScope cannot run this model, so responses are not available: %s", inspection.engine_error().c_str());
        return;
    }
    if (!inspection.preprocessing()) {
        ImGui::TextWrapped("This model's input is not an image.");
        return;
    }
    conv_layer_combo(inspection);
    const std::optional<ConvKernels>& kernels = inspection.selected_kernels();
    if (!kernels) {
        ImGui::TextDisabled("Pick a convolution layer (the selected layer has no 2-D kernels).");
        return;
    }
    const Layer& layer = model->layers[static_cast<size_t>(inspection.selected_layer())];
    draw_controls(inspection, *kernels);
    ImGui::Separator();
    if (inspection.images().empty() || inspection.current_image() < 0) {
        ImGui::TextDisabled("No image: pick one in the Images tab or drop a picture on the page.");
        return;
    }
    if (inspection.compare_mode) {
        draw_compare(app, layer, *kernels);
    } else {
        draw_single(app, layer, *kernels);
    }
}

// Kernel, input channel, layer output and compare switches.
void ResponsePanel::draw_controls(Inspection& inspection, const ConvKernels& kernels) {
    ImGui::SameLine();
    int kernel = static_cast<int>(inspection.kernel());
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
    if (ImGui::SliderInt("kernel", &kernel, 0, static_cast<int>(kernels.out_channels - 1))) inspection.select_kernel(kernel);
    tooltip("Kernel (output channel) to apply; Left/Right also step through them");
    ImGui::SameLine();
    const int64_t channel = inspection.input_channel();
    const std::string channel_text = channel < 0 ? std::string("all (sum)") : concat("channel ", channel);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::BeginCombo("input", channel_text.c_str())) {
        if (ImGui::Selectable("all (sum)", channel < 0)) inspection.select_input_channel(-1);
        for (int64_t c = 0; c < kernels.in_channels && c < 1024; ++c) {
            if (!kernels.reads(inspection.kernel(), c)) continue;
            if (ImGui::Selectable(concat("channel ", c).c_str(), c == channel)) inspection.select_input_channel(c);
        }
        ImGui::EndCombo();
    }
    tooltip("Apply only the kernel's slice for one input channel, or the whole kernel (sum over channels)");
    ImGui::Checkbox("layer output", &inspection.show_layer_output);
    tooltip("Show the layer's real output channel (bias and activation included) instead of the bare kernel's response");
    ImGui::SameLine();
    ImGui::Checkbox("compare", &inspection.compare_mode);
    tooltip("Several images x several kernels in one grid (tick images in the Images tab)");
    if (inspection.busy()) {
        ImGui::SameLine();
        ImGui::TextDisabled("computing (%zu queued)...", inspection.queued());
    }
}

// Image | kernel | response, side by side.
void ResponsePanel::draw_single(AppState& app, const Layer& layer, const ConvKernels& kernels) {
    Inspection& inspection = app.inspection();
    const float font = ImGui::GetFontSize();
    const int current = inspection.current_image();
    const int64_t channel = inspection.input_channel();
    const InspectImage& image = inspection.images()[static_cast<size_t>(current)];
    const Tensor* input = inspection.request_input(current);
    ImGui::BeginGroup();
    ImGui::Text("Image");
    if (input) {
        const Preprocessing& settings = *inspection.preprocessing();
        const std::vector<float> plane = first_channel(*input, settings);
        draw_map("response-input:" + std::to_string(image.id) + describe_preprocessing(settings), 1, plane.data(), settings.width,
                 settings.height, font * 8.0f / static_cast<float>(std::max<int64_t>(settings.width, 1)),
                 style_for(ColorMap::grayscale, plane.data(), plane.size()), image.name.c_str());
    }
    ImGui::TextDisabled("%s", image.name.c_str());
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    const int64_t shown_channel = channel >= 0 ? channel : kernels.first_input_channel(inspection.kernel());
    ImGui::Text("Kernel %lld", static_cast<long long>(inspection.kernel()));
    std::vector<float> slice = kernels.slice(inspection.kernel(), shown_channel);
    // Keyed by layer name: the model generation as the version tells a second model's same-named layer apart.
    draw_map(concat("response-kernel:", layer.name, ":", inspection.kernel(), ":", shown_channel), inspection.model_generation(), slice.data(), kernels.width,
             kernels.height, font * 8.0f / static_cast<float>(std::max<int64_t>(kernels.width, 3)),
             style_for(ColorMap::diverging, slice.data(), slice.size()), "weight");
    if (kernels.in_channels > 1) ImGui::TextDisabled(channel >= 0 ? "input channel %lld" : "channel %lld of %lld shown", static_cast<long long>(shown_channel), static_cast<long long>(kernels.in_channels));
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::Text(inspection.show_layer_output ? "Layer output channel" : "Response (no bias, no activation)");
    const Map2D* map = inspection.request_response(current, inspection.selected_layer(), inspection.kernel(), channel, inspection.show_layer_output);
    const float cell = map && map->width > 0 ? std::max(1.0f, font * 14.0f / static_cast<float>(std::max(map->width, map->height))) : font;
    draw_response_cell(app, inspection, current, inspection.kernel(), cell, nullptr, layer.name);
    if (map && !map->values.empty()) {
        HeatmapStyle style = style_for(inspection.show_layer_output ? ColorMap::viridis : ColorMap::diverging, map->values.data(), map->values.size());
        heatmap_renderer().draw_color_bar(style, ImVec2(font * 12, font * 0.8f));
    }
    ImGui::EndGroup();
}

// The compare grid's controls: rows are images, columns kernels.
void ResponsePanel::draw_compare(AppState& app, const Layer& layer, const ConvKernels& kernels) {
    Inspection& inspection = app.inspection();
    const float font = ImGui::GetFontSize();
    if (!editing_kernel_list_) {
        // Follow the selection made elsewhere (the hook, URL state).
        std::string text;
        for (int64_t k : inspection.compare_kernels) text += (text.empty() ? "" : ", ") + std::to_string(k);
        std::snprintf(kernel_list_, sizeof kernel_list_, "%s", text.c_str());
    }
    ImGui::SetNextItemWidth(font * 12);
    if (ImGui::InputText("kernels", kernel_list_, sizeof kernel_list_)) {
        inspection.compare_kernels = parse_kernel_list(kernel_list_, kernels.out_channels);
    }
    editing_kernel_list_ = ImGui::IsItemActive();
    tooltip("Kernels to compare, e.g. 0, 1, 4");
    ImGui::SameLine();
    ImGui::Checkbox("shared scale", &shared_scale_);
    tooltip("One colour range for the whole grid (strengths compare) or one per map");
    std::vector<int> rows;
    for (int position : inspection.compare_images) {
        if (position >= 0 && position < static_cast<int>(inspection.images().size())) rows.push_back(position);
    }
    if (rows.empty() || inspection.compare_kernels.empty()) {
        ImGui::TextDisabled("Tick images in the Images tab and list kernels above.");
        return;
    }
    draw_compare_grid(app, layer, kernels, rows);
}

void ResponsePanel::draw_compare_grid(AppState& app, const Layer& layer, const ConvKernels& kernels, const std::vector<int>& rows) {
    Inspection& inspection = app.inspection();
    const float font = ImGui::GetFontSize();
    const int64_t channel = inspection.input_channel();
    // The shared range covers every map already computed.
    HeatmapStyle shared;
    const ColorMap color_map = inspection.show_layer_output ? ColorMap::viridis : ColorMap::diverging;
    if (shared_scale_) {
        std::vector<float> all;
        for (int position : rows) {
            for (int64_t k : inspection.compare_kernels) {
                const Map2D* map = inspection.request_response(position, inspection.selected_layer(), k, channel, inspection.show_layer_output);
                if (map) all.insert(all.end(), map->values.begin(), map->values.end());
            }
        }
        shared = style_for(color_map, all.data(), all.size());
    }
    const float cell = std::max(1.0f, font * 7.0f / 26.0f);
    if (ImGui::BeginTable("compare", static_cast<int>(inspection.compare_kernels.size()) + 1, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_BordersInnerV)) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::TextDisabled("image \\ kernel");
        for (size_t c = 0; c < inspection.compare_kernels.size(); ++c) {
            ImGui::TableSetColumnIndex(static_cast<int>(c) + 1);
            const int64_t k = inspection.compare_kernels[c];
            std::vector<float> slice = kernels.slice(k, channel >= 0 ? channel : kernels.first_input_channel(k));
            draw_map(concat("compare-kernel:", layer.name, ":", k, ":", channel), inspection.model_generation(), slice.data(), kernels.width, kernels.height,
                     font * 1.2f, style_for(ColorMap::diverging, slice.data(), slice.size()), concat("kernel ", k).c_str());
            ImGui::SameLine();
            ImGui::Text("%lld", static_cast<long long>(k));
        }
        for (int position : rows) {
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            const InspectImage& image = inspection.images()[static_cast<size_t>(position)];
            const Tensor* input = inspection.request_input(position);
            if (input) {
                const Preprocessing& settings = *inspection.preprocessing();
                const std::vector<float> plane = first_channel(*input, settings);
                draw_map("compare-input:" + std::to_string(image.id) + describe_preprocessing(settings), 1, plane.data(), settings.width,
                         settings.height, cell, style_for(ColorMap::grayscale, plane.data(), plane.size()), image.name.c_str());
            }
            ImGui::TextDisabled("%s", image.name.c_str());
            for (size_t c = 0; c < inspection.compare_kernels.size(); ++c) {
                ImGui::TableSetColumnIndex(static_cast<int>(c) + 1);
                ImGui::PushID(static_cast<int>(c) * 100000 + position);
                draw_response_cell(app, inspection, position, inspection.compare_kernels[c], cell, shared_scale_ ? &shared : nullptr, layer.name);
                ImGui::PopID();
            }
        }
        ImGui::EndTable();
    }
    if (shared_scale_) heatmap_renderer().draw_color_bar(shared, ImVec2(font * 12, font * 0.8f));
}

}  // namespace convscope::ui
