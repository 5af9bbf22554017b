// Prediction: the model's top classes for the current image with their
// probabilities and label names (Fashion-MNIST for the demo models, or a
// labels .txt the user drops on the page).
#pragma once

#include "ui/panels/panel.h"

namespace convscope::ui {

class PredictionPanel : public Panel {
public:
    const char* title() const override { return "Prediction"; }
    PanelSlot slot() const override { return PanelSlot::side_bottom; }
    void draw(AppState& app) override;
};

}  // namespace convscope::ui
