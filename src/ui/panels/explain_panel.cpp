#include "ui/panels/explain_panel.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include <imgui.h>

#include "core/base/error.h"
#include "ui/panels/inspector_widgets.h"

namespace convscope::ui {

namespace {

// The image in grey with a method's map over it at `opacity`; the map's
// value under the mouse in the tooltip.
void draw_overlay(const std::string& key, const Map2D& picture, const Map2D& map, float cell, const HeatmapStyle& map_style,
                  float opacity, const char* title) {
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    if (!picture.values.empty() && picture.width == map.width && picture.height == map.height) {
        HeatmapStyle grey = style_for(ColorMap::grayscale, picture.values.data(), picture.values.size());
        draw_map(key + ":image", picture.version, picture.values.data(), picture.width, picture.height, cell, grey, nullptr);
        ImGui::SetCursorScreenPos(origin);
    }
    HeatmapStyle style = map_style;
    style.opacity = opacity;
    draw_map(key, map.version, map.values.data(), map.width, map.height, cell, style, title);
}

}  // namespace

void ExplainPanel::draw(AppState& app) {
    Inspection& inspection = app.inspection();
    Explanations& explanations = app.explanations();
    explanations.activate();
    if (!inspection.model()) {
        ImGui::TextDisabled("Open a model and pick an image to see what its prediction rests on.");
        return;
    }
    if (!inspection.engine()) {
        ImGui::TextWrapped("ConvScope cannot run this model: %s", inspection.engine_error().c_str());
        return;
    }
    if (!explanations.error().empty()) {
        ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "%s", explanations.error().c_str());
    }
    draw_methods(app);
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextUnformatted("Filter visualisation");
    draw_filter(app);
}

void ExplainPanel::draw_methods(AppState& app) {
    Inspection& inspection = app.inspection();
    Explanations& explanations = app.explanations();
    const int current = inspection.current_image();
    if (current < 0) {
        ImGui::TextDisabled("Pick an image in the Images tab.");
        return;
    }
    const InspectImage& image = inspection.images()[static_cast<size_t>(current)];
    const Prediction* prediction = inspection.request_prediction(current);
    ExplainSettings settings = explanations.settings();
    draw_class_choice(inspection, image, prediction, settings);
    draw_method_settings(explanations, settings);
    if (settings != explanations.settings()) explanations.set_settings(settings);

    if (!prediction) {
        ImGui::TextDisabled("running the model...");
        return;
    }
    draw_method_grid(inspection, explanations);
}

// Class: the predicted one unless the user picks another; opacity and zoom.
void ExplainPanel::draw_class_choice(const Inspection& inspection, const InspectImage& image, const Prediction* prediction,
                                     ExplainSettings& settings) {
    const float font = ImGui::GetFontSize();
    ImGui::Text("%s", image.name.c_str());
    ImGui::SameLine();
    std::string predicted = "predicted";
    if (prediction && !prediction->order.empty()) {
        const size_t top = prediction->order[0];
        predicted = concat("predicted: ", top, " ", inspection.label_name(top), " (", prediction->probabilities[top] * 100.0f, "%)");
    }
    const std::string shown = settings.class_index < 0 ? predicted
                                                       : concat(settings.class_index, " ", inspection.label_name(static_cast<size_t>(settings.class_index)));
    ImGui::SetNextItemWidth(font * 16);
    if (ImGui::BeginCombo("class", shown.c_str())) {
        if (ImGui::Selectable(predicted.c_str(), settings.class_index < 0)) settings.class_index = -1;
        const size_t classes = prediction ? prediction->probabilities.size() : 0;
        for (size_t c = 0; c < classes; ++c) {
            const std::string label = concat(c, " ", inspection.label_name(c), "  (", prediction->probabilities[c] * 100.0f, "%)");
            if (ImGui::Selectable(label.c_str(), settings.class_index == static_cast<int64_t>(c))) settings.class_index = static_cast<int64_t>(c);
        }
        ImGui::EndCombo();
    }
    tooltip("The class whose score the maps explain (default: the model's prediction)");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 7);
    ImGui::SliderFloat("opacity", &opacity_, 0.0f, 1.0f, "%.2f");
    tooltip("How strongly the heatmaps cover the image");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 6);
    ImGui::SliderFloat("zoom", &zoom_, 0.5f, 3.0f, "%.1fx");
}

// Grad-CAM layer and occlusion settings.
void ExplainPanel::draw_method_settings(const Explanations& explanations, ExplainSettings& settings) {
    const float font = ImGui::GetFontSize();
    const std::vector<std::string>& layers = explanations.conv_layers();
    const std::string layer_shown = settings.gradcam_layer.empty()
                                        ? concat("default (", explanations.gradcam_layer().empty() ? "last conv" : explanations.gradcam_layer(), ")")
                                        : settings.gradcam_layer;
    ImGui::SetNextItemWidth(font * 12);
    if (ImGui::BeginCombo("Grad-CAM layer", layer_shown.c_str())) {
        if (ImGui::Selectable("default (last conv feature map)", settings.gradcam_layer.empty())) settings.gradcam_layer.clear();
        for (const std::string& name : layers) {
            if (ImGui::Selectable(name.c_str(), settings.gradcam_layer == name)) settings.gradcam_layer = name;
        }
        ImGui::EndCombo();
    }
    tooltip("The convolution whose feature maps Grad-CAM and Grad-CAM++ weight");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 5);
    ImGui::InputInt("window", &settings.occlusion_window);
    tooltip("Occlusion window size in pixels");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 5);
    ImGui::InputInt("stride", &settings.occlusion_stride);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 4);
    ImGui::InputFloat("fill", &settings.occlusion_fill, 0.0f, 0.0f, "%.2f");
    tooltip("The value the occlusion window is filled with (model input units)");
    settings.occlusion_window = std::clamp(settings.occlusion_window, 1, 512);
    settings.occlusion_stride = std::clamp(settings.occlusion_stride, 1, 512);
}

// Progress, then the methods side by side, as many per row as fit.
void ExplainPanel::draw_method_grid(const Inspection& inspection, const Explanations& explanations) {
    const float font = ImGui::GetFontSize();
    const int done = explanations.completed();
    if (done < explain_method_count) {
        ImGui::ProgressBar(static_cast<float>(done) / explain_method_count, ImVec2(font * 12, 0),
                           concat(done, "/", explain_method_count, " methods").c_str());
    } else {
        ImGui::TextDisabled("class %lld %s: all %d methods computed", static_cast<long long>(explanations.explained_class()),
                            inspection.label_name(static_cast<size_t>(std::max<int64_t>(0, explanations.explained_class()))).c_str(),
                            explain_method_count);
    }

    const Map2D& picture = explanations.input_picture();
    const int64_t side = std::max<int64_t>(1, std::max(picture.width, picture.height));
    const float cell = std::max(1.0f, zoom_ * font * 9.0f / static_cast<float>(side));
    const float tile = std::max(cell * static_cast<float>(side), font * 9.0f) + ImGui::GetStyle().ItemSpacing.x;
    const int per_row = std::max(1, static_cast<int>(ImGui::GetContentRegionAvail().x / tile));
    for (int m = 0; m < explain_method_count; ++m) {
        const ExplainMethod method = static_cast<ExplainMethod>(m);
        const MethodResult& result = explanations.result(method);
        if (m % per_row != 0) ImGui::SameLine();
        ImGui::BeginGroup();
        ImGui::PushID(m);
        ImGui::TextUnformatted(method_title(method));
        tooltip(method_help(method));
        const ColorMap colors = method_is_signed(method) ? ColorMap::diverging : ColorMap::viridis;
        if (result.done && result.error.empty()) {
            HeatmapStyle style = style_for(colors, result.map.values.data(), result.map.values.size());
            draw_overlay(concat("explain:", m), picture, result.map, cell, style, opacity_, method_title(method));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s\n\nrange [%.4g, %.4g]", method_help(method), result.low, result.high);
            ImGui::TextDisabled("[%.3g, %.3g]", result.low, result.high);
            ImGui::TextDisabled("%.1f ms", result.milliseconds);
        } else if (!result.error.empty()) {
            ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + tile);
            ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "%s", result.error.c_str());
            ImGui::PopTextWrapPos();
        } else {
            const ImVec2 box(cell * static_cast<float>(side), cell * static_cast<float>(side));
            ImGui::ProgressBar(result.progress, ImVec2(box.x, 0), result.progress > 0 ? nullptr : "waiting");
            ImGui::Dummy(ImVec2(box.x, box.y - font));
        }
        ImGui::PopID();
        ImGui::EndGroup();
    }
}

void ExplainPanel::draw_filter(AppState& app) {
    Explanations& explanations = app.explanations();
    const std::vector<std::string>& layers = explanations.conv_layers();
    if (layers.empty()) {
        ImGui::TextDisabled("This model has no convolution layer to visualise.");
        return;
    }
    // A run started elsewhere (the test hook) shows its own layer and channel.
    if (explanations.filter().running) {
        auto found = std::find(layers.begin(), layers.end(), explanations.filter().layer);
        if (found != layers.end()) filter_layer_ = static_cast<int>(found - layers.begin());
        filter_channel_ = static_cast<int>(explanations.filter().channel);
    }
    if (filter_layer_ < 0 || filter_layer_ >= static_cast<int>(layers.size())) filter_layer_ = static_cast<int>(layers.size()) - 1;
    const float font = ImGui::GetFontSize();
    ImGui::SetNextItemWidth(font * 12);
    if (ImGui::BeginCombo("layer", layers[static_cast<size_t>(filter_layer_)].c_str())) {
        for (size_t i = 0; i < layers.size(); ++i) {
            if (ImGui::Selectable(layers[i].c_str(), static_cast<int>(i) == filter_layer_)) filter_layer_ = static_cast<int>(i);
        }
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    const int64_t channels = explanations.conv_channels().at(static_cast<size_t>(filter_layer_));
    const std::string channel_label = channels > 0 ? concat("channel (of ", channels, ")###channel") : std::string("channel###channel");
    ImGui::SetNextItemWidth(font * 6);
    ImGui::InputInt(channel_label.c_str(), &filter_channel_);
    filter_channel_ = static_cast<int>(std::clamp<int64_t>(filter_channel_, 0, std::max<int64_t>(0, channels - 1)));
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 6);
    ImGui::InputInt("steps", &filter_steps_, 16);
    filter_steps_ = std::clamp(filter_steps_, 1, 100000);
    ImGui::SameLine();
    const FilterRun& run = explanations.filter();
    if (run.running) {
        if (ImGui::Button("Stop")) explanations.stop_filter();
    } else if (ImGui::Button("Start")) {
        explanations.start_filter(layers[static_cast<size_t>(filter_layer_)], filter_channel_, filter_steps_);
    }
    tooltip("Gradient ascent from a grey picture towards the channel's largest mean activation,\n"
            "a few steps per frame: the picture shows what the filter responds to.");
    if (!run.error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "%s", run.error.c_str());
    if (run.layer.empty()) {
        ImGui::TextDisabled("Pick a layer and channel and press Start.");
        return;
    }
    ImGui::Text("%s channel %lld: step %d / %d   target %.4g (started at %.4g)   %.1f ms", run.layer.c_str(),
                static_cast<long long>(run.channel), run.step, run.max_steps, run.objective, run.initial_objective, run.milliseconds);
    if (run.picture.values.empty()) return;
    const float cell = std::max(1.0f, font * 16.0f / static_cast<float>(std::max<int64_t>(1, std::max(run.picture.width, run.picture.height))));
    HeatmapStyle style = style_for(ColorMap::grayscale, run.picture.values.data(), run.picture.values.size());
    draw_map("explain:filter", run.picture.version, run.picture.values.data(), run.picture.width, run.picture.height, cell, style,
             "picture (mean over channels)");
}

}  // namespace convscope::ui
