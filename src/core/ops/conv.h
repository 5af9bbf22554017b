// 2-D convolution and transposed convolution on NHWC float tensors.
//
// Both frameworks meet here: Keras tensors are NHWC already; the engine
// transposes ONNX NCHW activations around these kernels. Weights are held in
// one canonical layout per operator (see below) and packed once, when a plan
// is built. Conv1D is a 2-D convolution with height 1.
//
// Algorithms (picked per shape in Conv2DKernel):
//   depthwise  groups == in_channels: per-pixel SIMD over channels
//   pointwise  1x1, stride 1, no padding, one group: one GEMM on the input
//   im2col     everything else: chunks of output pixels unrolled into rows,
//              then the packed GEMM; chunking bounds the scratch memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/ops/gemm.h"

namespace convscope {

struct Conv2DGeometry {
    int64_t in_channels = 0;
    int64_t out_channels = 0;
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t dilation_h = 1, dilation_w = 1;
    int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    int64_t groups = 1;

    int64_t output_h(int64_t input_h) const;
    int64_t output_w(int64_t input_w) const;
    // Throws UnsupportedError naming `context` when channels/groups disagree.
    void validate(const std::string& context) const;
    // A validated copy with the pads of one run ("same" padding depends on
    // the input size, so kernels take their pads per run).
    Conv2DGeometry with_padding(int64_t top, int64_t left, int64_t bottom, int64_t right,
                                const std::string& context) const;
};

struct PadPair {
    int64_t begin = 0;
    int64_t end = 0;
};

// TensorFlow/Keras "same" and ONNX SAME_UPPER put the odd extra pad at the
// end (bottom/right); ONNX SAME_LOWER puts it at the beginning.
PadPair same_padding(int64_t input_size, int64_t kernel, int64_t stride, int64_t dilation,
                     bool extra_at_end = true);
int64_t conv_output_size(int64_t input_size, int64_t kernel, int64_t stride, int64_t dilation,
                         int64_t pad_begin, int64_t pad_end);

// Canonical convolution weights: [kh][kw][in_channels / groups][out_channels]
// (the Keras Conv2D layout; group g owns output columns g*Cout/groups...).
// Input NHWC [batch, h, w, in_channels], output NHWC [batch, oh, ow, out_channels].
void conv2d_reference(const Conv2DGeometry& geometry, const float* input, int64_t batch,
                      int64_t input_h, int64_t input_w, const float* weights, const float* bias,
                      float* output);

class Conv2DKernel {
public:
    Conv2DKernel(const Conv2DGeometry& geometry, const float* weights, const float* bias);
    void run(const float* input, int64_t batch, int64_t input_h, int64_t input_w, float* output) const;
    // The same weights with other padding: "same" padding depends on the
    // input size, which may only be known when the plan runs.
    void run_with_padding(const float* input, int64_t batch, int64_t input_h, int64_t input_w,
                          int64_t pad_top, int64_t pad_left, int64_t pad_bottom, int64_t pad_right,
                          float* output) const;
    const Conv2DGeometry& geometry() const { return geometry_; }
    const char* algorithm() const;

private:
    enum class Algorithm { depthwise, pointwise, im2col };
    void run_depthwise(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                       int64_t input_w, float* output) const;
    void run_im2col(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                    int64_t input_w, float* output) const;

    Conv2DGeometry geometry_;
    Algorithm algorithm_ = Algorithm::im2col;
    std::vector<PackedMatrix> packed_groups_;  // pointwise / im2col
    std::vector<float> depthwise_weights_;     // [kh][kw][out_channels]
    std::vector<float> bias_;                  // out_channels, zeros when absent
};

// Transposed convolution ("deconvolution"). Canonical weights:
// [in_channels][kh][kw][out_channels / groups]. The output size is given
// explicitly because Keras and ONNX derive it differently; output position
// o = i * stride + k * dilation - pad_begin.
struct ConvTranspose2DGeometry {
    Conv2DGeometry conv;  // in/out channels, kernel, stride, dilation, pad_top/left, groups
    int64_t output_h = 0, output_w = 0;
};

void conv_transpose2d_reference(const ConvTranspose2DGeometry& geometry, const float* input,
                                int64_t batch, int64_t input_h, int64_t input_w,
                                const float* weights, const float* bias, float* output);

class ConvTranspose2DKernel {
public:
    ConvTranspose2DKernel(const ConvTranspose2DGeometry& geometry, const float* weights, const float* bias);
    // output must hold batch x output_h x output_w x out_channels floats.
    void run(const float* input, int64_t batch, int64_t input_h, int64_t input_w, float* output) const;
    // Same weights, other padding/output size (only kernel, stride,
    // dilation, channels and groups must match the packed geometry).
    void run_sized(const ConvTranspose2DGeometry& geometry, const float* input, int64_t batch, int64_t input_h,
                   int64_t input_w, float* output) const;
    const ConvTranspose2DGeometry& geometry() const { return geometry_; }

private:
    ConvTranspose2DGeometry geometry_;
    std::vector<PackedMatrix> packed_groups_;  // per group: cin/g x (kh*kw*cout/g)
    std::vector<float> bias_;
};

}  // namespace convscope
