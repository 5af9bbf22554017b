// Work per layer for the Model panel's summary table.
//
// Counted: multiply-accumulates of the layers that dominate a CNN's cost
// (Keras Conv1D/2D, DepthwiseConv2D, Conv*Transpose, Dense; ONNX Conv,
// ConvTranspose, Gemm, MatMul with a weight initializer). One MAC = 2 FLOPs
// (a multiply and an add); a bias adds 1 FLOP per output element. Every
// other layer counts 0: pooling, activations and normalisation cost a few
// operations per element, far below the layers above.
//
// For a weight W with out_channels kernels and an output of E elements per
// sample, MACs = E * (W's element count / out_channels): every output
// element is one dot product of one kernel's length (this covers groups,
// depthwise multipliers and Dense layers applied to sequences alike).
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/model.h"

namespace convscope {

struct LayerCost {
    uint64_t macs = 0;
    uint64_t flops = 0;
    // False when the layer is counted but its output shape is not fully
    // known (unknown dimensions besides the batch), so no number is given.
    bool known = true;
};

LayerCost layer_cost(const Model& model, const Layer& layer);

// One entry per model.layers entry, plus the total over known layers.
struct ModelCost {
    std::vector<LayerCost> layers;
    uint64_t total_macs = 0;
    uint64_t total_flops = 0;
    bool complete = true;  // every counted layer was known
};

ModelCost model_cost(const Model& model);

}  // namespace convscope
