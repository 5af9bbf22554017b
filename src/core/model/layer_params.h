// A layer's hyper-parameters resolved once, typed. The compilers (Keras
// and ONNX, src/core/engine/compile_*.cpp) read a layer's attributes and
// config strings, apply the framework's defaults and versioned semantics,
// and return one of these in the plan step; the engine, gradients, kernel
// response, FLOPs and shape inference read these, never the strings.
//
// Framework knowledge (Keras names, ONNX defaults per opset) lives in the
// compilers; these structs only say what the layer computes.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/ops/activation.h"
#include "core/ops/pool.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

// How a layer's padding is resolved once the input size is known.
struct PaddingRule {
    enum class Kind { explicit_pads, same_upper, same_lower, causal } kind = Kind::explicit_pads;
    int64_t top = 0, left = 0, bottom = 0, right = 0;
};

// Post-op applied to a layer's output (Keras `activation=`).
struct OutputActivation {
    bool softmax = false;  // over the last axis
    Activation activation;
};

// Conv1D/2D (spatial 1 or 2; 1-D is stored as height 1), depthwise,
// separable (the depthwise stage), grouped, and transposed convolutions.
struct ConvParams {
    int spatial = 2;
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t dilation_h = 1, dilation_w = 1;
    PaddingRule padding;
    int64_t groups = 1;
    int64_t in_channels = 0, out_channels = 0;
    int64_t depth_multiplier = 0;    // > 0: depthwise (Keras DepthwiseConv2D / SeparableConv2D)
    bool separable = false;          // a depthwise stage followed by a pointwise one
    bool transposed = false;
    bool has_bias = false;
    bool channels_first = false;     // the layer's data layout
    OutputActivation activation;     // fused (Keras); ONNX has none
};

struct PoolParams {
    PoolKind kind = PoolKind::max;
    int spatial = 2;
    bool global = false;
    Pool2DGeometry geometry;         // pads are overwritten per run for same padding
    PaddingRule padding;
    bool channels_first = false;
    bool keep_dims = false;          // global pooling keeps the spatial axes as 1
};

struct DenseParams {
    int64_t in_features = 0, out_features = 0;
    bool transposed_weights = false; // the matrix is (out, in), ONNX transB / PyTorch Linear
    float alpha = 1.0f, beta = 1.0f; // Gemm scales
    bool has_bias = false;
    OutputActivation activation;
};

struct NormParams {
    enum class Kind { batch, layer, instance, group } kind = Kind::batch;
    double epsilon = 1e-3;
    std::vector<int64_t> axes;       // normalised axes (batch norm: the channel axis)
    int64_t groups = 1;
    bool scale = true, center = true;
};

struct ActivationParams {
    Activation activation;
};

struct SoftmaxParams {
    int64_t axis = -1;
    // ONNX before opset 13: the input is flattened to 2-D at `axis` and the
    // softmax runs over all trailing values together.
    bool flatten_to_2d = false;
    bool log = false;
    bool hard = false;               // ONNX Hardmax: one-hot of the first maximum
};

struct ResizeParams {
    ResizeOptions options;
    double scale_h = 1.0, scale_w = 1.0;  // when sizes come from scales
    int64_t output_h = -1, output_w = -1; // fixed sizes, -1 when from scales or inputs
    bool channels_first = false;
};

struct PadParams {
    PadMode mode = PadMode::constant;
    std::vector<int64_t> pads;       // begin values for every axis, then end values (ONNX order)
    double value = 0.0;
};

struct AxisParams {
    std::vector<int64_t> axes;       // concat/split/squeeze/reduce axes as the compiler resolved them
    bool keep_dims = true;
};

using LayerParams = std::variant<std::monostate, ConvParams, PoolParams, DenseParams, NormParams, ActivationParams,
                                 SoftmaxParams, ResizeParams, PadParams, AxisParams>;

// "conv 3x3 stride 1 same", for describe() and the layers table.
std::string describe_params(const LayerParams& params);

}  // namespace convscope
