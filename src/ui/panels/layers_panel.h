// Layers: the model's layers in execution order with type, output shape and
// parameter count; a filter box narrows the list by name or type.
#pragma once

#include "ui/panels/panel.h"

namespace convscope::ui {

class LayersPanel : public Panel {
public:
    const char* title() const override { return "Layers"; }
    PanelSlot slot() const override { return PanelSlot::main; }
    void draw(AppState& app) override;

private:
    char filter_[128] = {};
    int selected_ = -1;
    const Model* selection_model_ = nullptr;  // selection_ belongs to this model
};

}  // namespace convscope::ui
