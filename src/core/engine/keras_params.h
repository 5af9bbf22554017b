// The Keras compiler's parameter resolvers, with the weights each layer kind
// reads: the compiler builds its steps (and their LayerParams) from these,
// and readers that need a layer's weights as well as its geometry
// (gradients, kernel response) call the same functions, so every reader sees
// what the engine runs.
//
// Each resolver throws UnsupportedError with the reason when the layer is
// not of its kind or its config cannot be run (KerasConvParams records
// data_format and an unknown activation instead, see there).
#pragma once

#include <optional>
#include <string>

#include "core/engine/builders.h"
#include "core/model/model.h"
#include "core/ops/elementwise.h"

namespace convscope {

enum class KerasConvVariant { regular, depthwise, separable };

// Conv1D/2D, DepthwiseConv1D/2D, SeparableConv1D/2D (and Keras 1 names).
struct KerasConvParams {
    KerasConvVariant variant = KerasConvVariant::regular;
    bool one_dimensional = false;       // 1-D layers: height 1 in `geometry`
    Conv2DGeometry geometry;            // complete: channels and groups from the kernel
    PaddingRule padding;
    OutputActivation activation;        // applied after the last stage
    // Readers that need only the kernels and geometry (kernel response) take
    // layers the engine cannot run; these say why it cannot.
    bool channels_first = false;        // data_format="channels_first": not run
    std::string unsupported_activation; // non-empty: an activation name the engine lacks
    // The layer's weights as stored. kernel: [kh, kw, in/groups, out] (the
    // canonical layout of core/ops/conv.h), depthwise [kh, kw, in, multiplier]
    // (the same memory order for groups == in). 1-D kernels have no kh axis.
    const Tensor* kernel = nullptr;
    const Tensor* pointwise = nullptr;  // separable: [1, (1,) in * multiplier, out]
    Conv2DGeometry pointwise_geometry;  // separable only
    const Tensor* bias = nullptr;       // out channels of the last stage; null when use_bias is false
};

// MaxPooling/AveragePooling 1-D and 2-D.
struct KerasPoolParams {
    PoolKind kind = PoolKind::max;
    Pool2DGeometry geometry;  // pads come from `padding` per run
    PaddingRule padding;
    bool one_dimensional = false;
};

struct KerasDenseParams {
    const Tensor* kernel = nullptr;  // [in, out]
    const Tensor* bias = nullptr;    // null when use_bias is false
    OutputActivation activation;
};

// Add, Subtract, Multiply, Average, Maximum, Minimum: a left fold of `kind`.
struct KerasMergeParams {
    BinaryKind kind = BinaryKind::add;
    bool average = false;
};

// Keras activation names ("relu", "hard_swish"; "softmax" is not one of
// them: it is OutputActivation::softmax). False for unknown names. `keras3`
// picks Keras 3's hard_sigmoid (relu6(x + 3) / 6) over tf.keras's (0.2 x + 0.5).
bool keras_activation_from_name(const std::string& name, bool keras3, Activation& out);

bool is_keras_conv_class(const std::string& class_name);
KerasConvParams keras_conv_params(const Model& model, const Layer& layer);
KerasPoolParams keras_pool_params(const Layer& layer);
KerasDenseParams keras_dense_params(const Model& model, const Layer& layer);
KerasMergeParams keras_merge_params(const Layer& layer);

}  // namespace convscope
