// Model: what the open file is (format, producer, inputs, outputs, parameter
// count, warnings, metadata).
#pragma once

#include "ui/panels/panel.h"

namespace convscope::ui {

class ModelPanel : public Panel {
public:
    const char* title() const override { return "Model"; }
    PanelSlot slot() const override { return PanelSlot::side_top; }
    void draw(AppState& app) override;
};

}  // namespace convscope::ui
