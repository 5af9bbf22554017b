// Explanations: every attribution method for the current image and a chosen
// class side by side, as heatmaps over the image, and a filter visualisation
// that forms over frames. View state only; the computing and caching live in
// ui/explanations (owned by AppState).
#pragma once

#include <cstdint>

#include "ui/panels/panel.h"

namespace convscope::ui {

class ExplainPanel : public Panel {
public:
    const char* title() const override { return "Explanations"; }
    PanelSlot slot() const override { return PanelSlot::main; }
    void draw(AppState& app) override;

private:
    void draw_methods(AppState& app);
    void draw_class_choice(const Inspection& inspection, const InspectImage& image, const Prediction* prediction,
                           ExplainSettings& settings);
    void draw_method_settings(const Explanations& explanations, ExplainSettings& settings);
    void draw_method_grid(const Inspection& inspection, const Explanations& explanations);
    void draw_filter(AppState& app);

    float opacity_ = 0.6f;
    float zoom_ = 1.0f;
    int filter_layer_ = -1;     // index in Explanations::conv_layers(); -1: the last
    int filter_channel_ = 0;
    int filter_steps_ = 256;
};

}  // namespace convscope::ui
