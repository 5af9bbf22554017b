// 2-D convolution on NCHW float tensors: the ONNX layout, run without
// transposing activations to NHWC and back around every layer.
//
// Weights are given in the ONNX layout [out_channels][in_channels / groups]
// [kh][kw] and packed once, when the plan is built. Padding comes per run,
// because "same" padding depends on the input size.
//
// Algorithms (picked per shape in the constructor, named by algorithm()):
//   depthwise      groups == in_channels, one filter plane per output
//                  channel: depthwise_conv2d_nchw (depthwise.h)
//   nhwc-fallback  any other shape: the NHWC Conv2DKernel between two
//                  transposes (correct for every geometry, not fast)
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/ops/conv.h"

namespace convscope {

class Conv2DNchwKernel {
public:
    // `weights`: [out_channels][in_channels / groups][kernel_h][kernel_w];
    // `bias`: out_channels values or null.
    Conv2DNchwKernel(const Conv2DGeometry& geometry, const float* weights, const float* bias);

    // input [batch][in_channels][input_h][input_w] ->
    // output [batch][out_channels][oh][ow], every element written.
    void run_with_padding(const float* input, int64_t batch, int64_t input_h, int64_t input_w, int64_t pad_top,
                          int64_t pad_left, int64_t pad_bottom, int64_t pad_right, float* output) const;

    const Conv2DGeometry& geometry() const { return geometry_; }
    const char* algorithm() const;

private:
    enum class Algorithm { depthwise, nhwc_fallback };

    Conv2DGeometry geometry_;
    Algorithm algorithm_ = Algorithm::nhwc_fallback;
    std::vector<float> bias_;               // out_channels, zeros when absent
    std::vector<float> depthwise_weights_;  // [out_channels][kh][kw]
    std::unique_ptr<Conv2DKernel> nhwc_kernel_;
};

// The scalar reference for NCHW convolutions (ONNX-layout weights, as above),
// which the fast paths are tested against.
void conv2d_nchw_reference(const Conv2DGeometry& geometry, const float* input, int64_t batch, int64_t input_h,
                           int64_t input_w, const float* weights, const float* bias, float* output);

}  // namespace convscope
