// Layers: the model's layers in execution order with type, output shape and
// parameter count and FLOPs (with totals); a filter box narrows the list by name or type. Clicking
// a row selects the layer in every inspector panel.
#pragma once

#include "core/inspect/flops.h"
#include "ui/panels/panel.h"

namespace convscope::ui {

class LayersPanel : public Panel {
public:
    const char* title() const override { return "Layers"; }
    PanelSlot slot() const override { return PanelSlot::main; }
    void draw(AppState& app) override;

private:
    char filter_[128] = {};
    int last_selected_ = -1;  // to scroll to a selection made elsewhere
    uint64_t cost_generation_ = 0;  // cost_ belongs to this Inspection::model_generation()
    ModelCost cost_;
};

}  // namespace convscope::ui
