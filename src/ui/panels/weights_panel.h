// Weights: the selected layer's arrays as get_weights() lists them (name,
// shape, dtype), statistics and a histogram of one array, the kernels as a
// grid of heatmaps (one input channel, or colour patches for RGB first
// layers), one kernel enlarged with its numbers, the bias values, and
// export of any array (.npy) or picture (.png).
#pragma once

#include "core/inspect/kernels.h"
#include "core/inspect/weight_stats.h"
#include "ui/heatmap.h"
#include "ui/panels/panel.h"

namespace convscope::ui {

class WeightsPanel : public Panel {
public:
    const char* title() const override { return "Weights"; }
    PanelSlot slot() const override { return PanelSlot::main; }
    void draw(AppState& app) override;

private:
    void draw_arrays(AppState& app, const Layer& layer);
    void draw_statistics(const Weight& array);
    void draw_kernels(AppState& app, const Layer& layer, const ConvKernels& kernels);
    void draw_kernel_grid(Inspection& inspection, const Layer& layer, const ConvKernels& kernels, const HeatmapStyle& style,
                          float cell, int per_row, float shared);
    void draw_selected_kernel(AppState& app, const Layer& layer, const ConvKernels& kernels, const HeatmapStyle& style);
    void draw_bias(const Weight* bias);

    int selected_array_ = 0;       // index into the layer's weights
    int grid_channel_ = 0;         // input channel the kernel grid shows
    bool rgb_patches_ = true;      // colour patches for 3-channel kernels
    uint64_t model_generation_seen_ = 0;  // Inspection::model_generation(): pointers may be reused
    const void* layer_seen_ = nullptr;
    // Statistics of the selected array and the kernels' shared colour range,
    // recomputed only when the array changes (big layers have millions of values).
    const Weight* stats_for_ = nullptr;
    WeightStatistics stats_;
    Histogram histogram_;
    const Weight* kernel_range_for_ = nullptr;
    float kernel_extent_ = 1.0f;
};

}  // namespace convscope::ui
