// Convolution kernels sliced out of a layer's weight array in the
// framework's own layout, so the Weights panel, the Kernel-response view and
// the CLI all agree on what "kernel k, input channel c" means:
//   Keras Conv2D            kernel [kh, kw, cin/groups, cout]
//   Keras DepthwiseConv2D   depthwise_kernel [kh, kw, cin, multiplier];
//                           output channel o = c * multiplier + m reads input c
//   ONNX Conv               weight [cout, cin/groups, kh, kw] (inputs[1])
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/model/model.h"
#include "core/tensor/tensor.h"

namespace convscope {

enum class KernelLayout : uint8_t { keras_hwio, keras_depthwise, onnx_oihw };

struct ConvKernels {
    const Weight* weight = nullptr;  // the array the kernels come from (owned by the Model)
    const Weight* bias = nullptr;    // null when the layer has none
    KernelLayout layout = KernelLayout::keras_hwio;
    int64_t height = 0;
    int64_t width = 0;
    int64_t in_channels = 0;         // input channels the layer reads (all groups)
    int64_t out_channels = 0;        // number of kernels
    int64_t groups = 1;
    Tensor values;                   // float32 copy of `weight`, same layout

    int64_t in_channels_per_group() const { return groups > 0 ? in_channels / groups : 0; }
    // First input channel kernel `output_channel` reads (its group's start).
    int64_t first_input_channel(int64_t output_channel) const;
    // Whether kernel `output_channel` reads input channel `input_channel`.
    bool reads(int64_t output_channel, int64_t input_channel) const;

    // Kernel `output_channel`'s weight at tap (y, x) for the `local`-th input
    // channel of its group; indices unchecked.
    float at(int64_t output_channel, int64_t local, int64_t y, int64_t x) const;

    // Kernel `output_channel`'s weights for `input_channel` as a row-major
    // height x width map; zeros when the kernel does not read that channel.
    // Throws Error for out-of-range indices.
    std::vector<float> slice(int64_t output_channel, int64_t input_channel) const;
    // The kernel's weights for its (up to three) input channels interleaved
    // as height x width x 3 (missing channels 0): first-layer RGB kernels.
    std::vector<float> rgb_patch(int64_t output_channel) const;

    // The bias of kernel `output_channel`; 0 when the layer has none.
    double bias_value(int64_t output_channel) const;
};

// The weight an ONNX node reads as its input `input_index` (an initializer
// kept with the node); null when that input is absent or a runtime value.
const Weight* onnx_input_weight(const Layer& layer, size_t input_index);

// Whether the layer is a 2-D convolution ConvScope can slice (Conv2D,
// DepthwiseConv2D, ONNX Conv with a 4-D weight initializer).
bool is_conv2d_layer(const Model& model, const Layer& layer);

// The layer's kernels; nullopt for layers that are not 2-D convolutions or
// whose weight array is missing or not 4-D.
std::optional<ConvKernels> conv_kernels(const Model& model, const Layer& layer);

}  // namespace convscope
