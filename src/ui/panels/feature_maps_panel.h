// Feature maps: every channel of a layer's output for the current image, as
// a grid sorted by channel index or by strength (mean value), with the
// value under the mouse.
#pragma once

#include "ui/panels/panel.h"

namespace convscope::ui {

class FeatureMapsPanel : public Panel {
public:
    const char* title() const override { return "Feature maps"; }
    PanelSlot slot() const override { return PanelSlot::main; }
    void draw(AppState& app) override;

private:
    bool by_strength_ = false;
    bool shared_scale_ = false;
    float zoom_ = 1.0f;
};

}  // namespace convscope::ui
