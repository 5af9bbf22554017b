#include "ui/panels/prediction_panel.h"

#include <algorithm>
#include <cstdio>

#include <imgui.h>

#include "ui/panels/inspector_widgets.h"

namespace convscope::ui {

void PredictionPanel::draw(AppState& app) {
    Inspection& inspection = app.inspection();
    if (!inspection.model()) {
        ImGui::TextDisabled("Open a model and pick an image to see its prediction.");
        return;
    }
    if (!inspection.engine()) {
        ImGui::TextWrapped("ConvScope cannot run this model: %s", inspection.engine_error().c_str());
        return;
    }
    const int current = inspection.current_image();
    if (current < 0) {
        ImGui::TextDisabled("Pick an image in the Images tab.");
        return;
    }
    const InspectImage& image = inspection.images()[static_cast<size_t>(current)];
    ImGui::Text("%s", image.name.c_str());
    const Prediction* prediction = inspection.request_prediction(current);
    if (!prediction) {
        if (!inspection.compute_error().empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "%s", inspection.compute_error().c_str());
        else ImGui::TextDisabled("running the model...");
        return;
    }
    const float width = std::min(ImGui::GetContentRegionAvail().x * 0.5f, ImGui::GetFontSize() * 12);
    for (size_t i = 0; i < prediction->order.size() && i < 10; ++i) {
        const size_t cls = prediction->order[i];
        const float p = prediction->probabilities[cls];
        const bool truth = image.label >= 0 && static_cast<size_t>(image.label) == cls;
        char overlay[32];
        std::snprintf(overlay, sizeof overlay, "%.2f%%", p * 100.0f);
        ImGui::ProgressBar(p, ImVec2(width, 0), overlay);
        ImGui::SameLine();
        if (truth) ImGui::TextColored(ImVec4(0.5f, 0.9f, 0.5f, 1), "%zu %s (true label)", cls, inspection.label_name(cls).c_str());
        else ImGui::Text("%zu %s", cls, inspection.label_name(cls).c_str());
    }
    ImGui::Spacing();
    if (!inspection.labels_source().empty()) {
        ImGui::TextDisabled("Labels from %s", inspection.labels_source().c_str());
    } else {
        ImGui::TextDisabled("Drop a labels .txt (one class name per line) to name the classes.");
    }
}

}  // namespace convscope::ui
