// The response of one convolution kernel to an image, for the
// Kernel-response view: the layer's geometry (stride, dilation, padding as
// the layer resolves it) but no bias and no activation, so the user sees
// what the kernel alone does.
#pragma once

#include <cstdint>

#include "core/model/model.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct KernelResponseRequest {
    int64_t output_channel = 0;
    // -1: the kernel's full response (sum over input channels); otherwise
    // only the slice of the kernel that reads this input channel.
    int64_t input_channel = -1;
};

// `input` is one image in the model's layout: [H, W, C] (Keras) or
// [C, H, W] (ONNX), optionally with a leading batch of 1. `layer` is a
// Keras Conv2D/DepthwiseConv2D or ONNX Conv. Returns [OH, OW].
Tensor convolve_single_kernel(const Model& model, const Layer& layer, const Tensor& input,
                              const KernelResponseRequest& request);

}  // namespace convscope
