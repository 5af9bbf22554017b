#include "ui/panels/images_panel.h"

#include <algorithm>
#include <cstdio>

#include <imgui.h>

#include "ui/panels/inspector_widgets.h"

namespace convscope::ui {

namespace {

// The picture as decoded: grey maps directly; colour pictures show their
// luminance here (the preprocessed input below shows what the model sees).
void draw_picture(const InspectImage& image, float cell) {
    const Tensor& pixels = image.pixels;
    const int64_t h = pixels.shape()[0], w = pixels.shape()[1], c = pixels.shape()[2];
    std::vector<float> grey(static_cast<size_t>(h * w));
    const float* src = pixels.f32();
    for (int64_t i = 0; i < h * w; ++i) {
        grey[static_cast<size_t>(i)] = c >= 3 ? 0.299f * src[i * c] + 0.587f * src[i * c + 1] + 0.114f * src[i * c + 2] : src[i * c];
    }
    HeatmapStyle style;
    style.color_map = ColorMap::grayscale;
    style.low = 0.0f;
    style.high = 255.0f;
    draw_map("picture:" + std::to_string(image.id), 1, grey.data(), w, h, cell, style, image.name.c_str());
}

bool edit_list(const char* label, std::vector<double>& values, int channels, double fallback) {
    float edited[3] = {static_cast<float>(fallback), static_cast<float>(fallback), static_cast<float>(fallback)};
    for (int i = 0; i < channels && i < 3; ++i) {
        if (!values.empty()) edited[i] = static_cast<float>(values.size() == 1 ? values[0] : values[static_cast<size_t>(i) % values.size()]);
    }
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * (channels == 3 ? 12.0f : 5.0f));
    bool changed = channels == 3 ? ImGui::InputFloat3(label, edited, "%.3f") : ImGui::InputFloat(label, edited, 0, 0, "%.3f");
    if (changed) {
        values.assign(edited, edited + (channels == 3 ? 3 : 1));
    }
    return changed;
}

// The current image as decoded and as the model sees it.
void draw_current_image(Inspection& inspection) {
    const float font = ImGui::GetFontSize();
    const int current = inspection.current_image();
    if (current >= 0) {
        const InspectImage& image = inspection.images()[static_cast<size_t>(current)];
        ImGui::Text("Current: %s", image.name.c_str());
        ImGui::TextDisabled("%s", shape_to_string_x(image.pixels.shape()).c_str());
        // Both pictures about eight lines of text tall, whatever their size.
        const float target = font * 8.0f;
        draw_picture(image, target / static_cast<float>(std::max<int64_t>(1, std::max(image.pixels.shape()[0], image.pixels.shape()[1]))));
        if (const Tensor* input = inspection.request_input(current)) {
            ImGui::SameLine();
            ImGui::BeginGroup();
            const Preprocessing& settings = *inspection.preprocessing();
            const int64_t h = settings.height, w = settings.width;
            // First channel of the model input, as the model sees it.
            std::vector<float> plane(static_cast<size_t>(h * w));
            for (int64_t i = 0; i < h * w; ++i) {
                plane[static_cast<size_t>(i)] = settings.layout == DataLayout::channels_last ? input->f32()[i * settings.channels] : input->f32()[i];
            }
            HeatmapStyle style = style_for(ColorMap::grayscale, plane.data(), plane.size());
            draw_map("input:" + std::to_string(image.id) + ":" + describe_preprocessing(settings), 1, plane.data(), w, h,
                     target / static_cast<float>(std::max<int64_t>(1, std::max(h, w))), style, "model input");
            ImGui::TextDisabled("model input, %.3g .. %.3g", style.low, style.high);
            ImGui::EndGroup();
        }
    } else {
        ImGui::TextDisabled("No image yet: pick a sample below or drop a PNG/JPEG/BMP/GIF on the page.");
    }
}

// The editable preprocessing (remembered per model by the inspector).
void draw_preprocessing(Inspection& inspection) {
    const float font = ImGui::GetFontSize();
    if (!inspection.model()) {
        ImGui::TextDisabled("Open a model to see its preprocessing.");
    } else if (!inspection.preprocessing()) {
        ImGui::TextWrapped("This model's input is not an image (%s).", inspection.model()->inputs.empty() ? "no inputs" : shape_to_string(inspection.model()->inputs[0].shape).c_str());
    } else if (ImGui::CollapsingHeader("Preprocessing", ImGuiTreeNodeFlags_DefaultOpen)) {
        Preprocessing settings = *inspection.preprocessing();
        bool changed = false;
        ImGui::TextDisabled("resize to %lldx%lld, %s, %s", static_cast<long long>(settings.height), static_cast<long long>(settings.width),
                            settings.channels == 1 ? "grey" : "RGB", settings.layout == DataLayout::channels_last ? "NHWC" : "NCHW");
        changed |= ImGui::Checkbox("invert", &settings.invert);
        tooltip("255 - value before scaling: for dark drawings on a light background (Fashion-MNIST is light on black)");
        ImGui::SameLine();
        double scale = settings.scale * 255.0;
        ImGui::SetNextItemWidth(font * 6);
        if (ImGui::InputDouble("scale (x 1/255)", &scale, 0, 0, "%.4g")) {
            settings.scale = scale / 255.0;
            changed = true;
        }
        tooltip("Pixel values 0..255 are multiplied by this / 255: 1 gives 0..1, 255 keeps 0..255");
        const int channels = static_cast<int>(settings.channels);
        changed |= edit_list("mean", settings.mean, channels, 0.0);
        tooltip("Subtracted after scaling, per channel (ImageNet: 0.485 0.456 0.406)");
        changed |= edit_list("std", settings.std, channels, 1.0);
        tooltip("Divided after subtracting the mean, per channel (ImageNet: 0.229 0.224 0.225)");
        bool valid = true;
        for (double s : settings.std) valid = valid && s != 0.0;
        if (changed && valid) inspection.set_preprocessing(settings);
        if (ImGui::SmallButton("Reset")) inspection.reset_preprocessing();
        tooltip("Back to the model's defaults (its input size, x/255, no mean/std)");
        ImGui::SameLine();
        ImGui::TextDisabled("remembered for this model");
        if (!inspection.compute_error().empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "%s", inspection.compute_error().c_str());
    }
}

// The image list: click to make current, tick to compare.
void draw_image_list(Inspection& inspection) {
    const int current = inspection.current_image();
    ImGui::Separator();
    const std::vector<InspectImage>& images = inspection.images();
    ImGui::Text("Images (%zu)", images.size());
    tooltip("Click to make an image current; tick to include it in the response view's compare grid");
    for (size_t i = 0; i < images.size(); ++i) {
        ImGui::PushID(static_cast<int>(i));
        bool compared = std::find(inspection.compare_images.begin(), inspection.compare_images.end(), static_cast<int>(i)) != inspection.compare_images.end();
        if (ImGui::Checkbox("##compare", &compared)) {
            auto& list = inspection.compare_images;
            if (compared) list.push_back(static_cast<int>(i));
            else list.erase(std::remove(list.begin(), list.end(), static_cast<int>(i)), list.end());
        }
        tooltip("Compare this image in the Kernel response view");
        ImGui::SameLine();
        if (ImGui::Selectable(images[i].name.c_str(), static_cast<int>(i) == current)) inspection.select_image(static_cast<int>(i));
        ImGui::PopID();
    }
}

}  // namespace

void ImagesPanel::draw(AppState& app) {
    Inspection& inspection = app.inspection();
    draw_current_image(inspection);
    draw_preprocessing(inspection);
    draw_image_list(inspection);
    draw_samples(inspection);
}

// The bundled samples of one class; a click adds one to the images.
void ImagesPanel::draw_samples(Inspection& inspection) {
    const float font = ImGui::GetFontSize();
    const SampleSet* samples = inspection.samples();
    ImGui::Separator();
    if (!samples) {
        ImGui::TextDisabled("Sample images are loading (or could not be loaded: see Messages).");
        return;
    }
    ImGui::Text("Fashion-MNIST samples");
    const int classes = static_cast<int>(samples->class_names.size());
    class_shown_ = std::clamp(class_shown_, 0, std::max(0, classes - 1));
    ImGui::SetNextItemWidth(font * 10);
    if (ImGui::BeginCombo("class", samples->class_name(class_shown_).c_str())) {
        for (int c = 0; c < classes; ++c) {
            if (ImGui::Selectable(samples->class_name(c).c_str(), c == class_shown_)) class_shown_ = c;
        }
        ImGui::EndCombo();
    }
    tooltip("Browse the 100 bundled test images of a class; click one to add it to the images");
    HeatmapStyle style;
    style.color_map = ColorMap::grayscale;
    style.low = 0.0f;
    style.high = 255.0f;
    const float cell = std::max(1.0f, font / 10.0f);
    const float tile = cell * static_cast<float>(samples->tile_width) + ImGui::GetStyle().ItemSpacing.x;
    const int per_row = std::max(1, static_cast<int>(ImGui::GetContentRegionAvail().x / tile));
    int shown = 0;
    for (int64_t index = 0; index < samples->count; ++index) {
        if (samples->labels[static_cast<size_t>(index)] != class_shown_) continue;
        if (shown % per_row != 0) ImGui::SameLine();
        ++shown;
        Tensor pixels = samples->tile(index);
        ImGui::PushID(static_cast<int>(index));
        if (draw_map("sample:" + std::to_string(index), 1, pixels.f32(), samples->tile_width, samples->tile_height, cell, style,
                     ("sample " + std::to_string(index) + " - click to use").c_str())) {
            inspection.select_image(inspection.add_sample(index));
        }
        ImGui::PopID();
    }
}

}  // namespace convscope::ui
