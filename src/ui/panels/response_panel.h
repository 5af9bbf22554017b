// Kernel response, the heart of the inspector: the current image, one
// kernel and the image convolved with that kernel alone (no bias, no
// activation, the layer's padding), or the layer's real output channel.
// Compare mode draws several images x several kernels in one grid. Deeper
// layers apply the kernel to the previous layer's activations, one input
// channel or summed over all.
#pragma once

#include <vector>

#include "core/inspect/kernels.h"
#include "ui/panels/panel.h"

namespace convscope::ui {

class ResponsePanel : public Panel {
public:
    const char* title() const override { return "Kernel response"; }
    PanelSlot slot() const override { return PanelSlot::main; }
    void draw(AppState& app) override;

private:
    void draw_controls(Inspection& inspection, const ConvKernels& kernels);
    void draw_single(AppState& app, const Layer& layer, const ConvKernels& kernels);
    void draw_compare(AppState& app, const Layer& layer, const ConvKernels& kernels);
    void draw_compare_grid(AppState& app, const Layer& layer, const ConvKernels& kernels, const std::vector<int>& rows);

    bool shared_scale_ = true;  // compare grid: one colour range for every cell
    char kernel_list_[128] = "0, 1";
    bool editing_kernel_list_ = false;
};

}  // namespace convscope::ui
