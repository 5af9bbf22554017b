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
//   dense-gemm     groups == 1 (any kernel, stride, dilation, pads):
//                  out[Cout x P] = W[Cout x K] * X[K x P] with a 4-channel x
//                  8-pixel register tile (bias-initialised accumulators,
//                  weights packed at load as [K][4] panels). X is never
//                  built: a 1x1 stride-1 unpadded conv reads the input in
//                  place; anything else reads a zero-padded copy of the image
//                  whose columns are split into stride_w phases, so every
//                  tap's pixels are contiguous and a K-entry offset table
//                  finds them. K is summed in blocks of input channels
//                  sized so a block's source rows and weights stay in L1
//                  (later blocks continue from the output). Row tails of
//                  <= 4 pixels are tiled two rows at a time. Measured in V8 (interleaved A/B): 4x8 beat 5x8,
//                  6x8, 8x8 and 4x12; unrolling the K loop was slower.
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
    enum class Algorithm { depthwise, dense, nhwc_fallback };
    void pack_dense_weights(const float* weights);
    void run_dense(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h, int64_t input_w,
                   float* output) const;

    Conv2DGeometry geometry_;
    Algorithm algorithm_ = Algorithm::nhwc_fallback;
    std::vector<float> bias_;               // out_channels (dense: rounded up to a tile), zeros when absent
    std::vector<float> dense_weights_;      // dense: ceil(Cout / 4) panels of [K][4]
    int64_t dense_depth_ = 0;               // dense: K = in_channels * kh * kw
    std::vector<float> depthwise_weights_;  // [out_channels][kh][kw]
    std::unique_ptr<Conv2DKernel> nhwc_kernel_;
};

// The scalar reference for NCHW convolutions (ONNX-layout weights, as above),
// which the fast paths are tested against.
void conv2d_nchw_reference(const Conv2DGeometry& geometry, const float* input, int64_t batch, int64_t input_h,
                           int64_t input_w, const float* weights, const float* bias, float* output);

}  // namespace convscope
