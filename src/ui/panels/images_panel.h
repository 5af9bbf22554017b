// Images: the bundled Fashion-MNIST samples by class, the user's own
// pictures (dropped on the page), and the preprocessing that turns the
// current one into the model's input (editable, remembered per model).
#pragma once

#include "ui/panels/panel.h"

namespace convscope::ui {

class ImagesPanel : public Panel {
public:
    const char* title() const override { return "Images"; }
    PanelSlot slot() const override { return PanelSlot::side_top; }
    void draw(AppState& app) override;

private:
    void draw_samples(Inspection& inspection);

    int class_shown_ = 9;  // Ankle boot: shoes have clear edges
};

}  // namespace convscope::ui
