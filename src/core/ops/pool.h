// Max and average pooling on NHWC float tensors (SIMD over channels) and on
// NCHW planes (SIMD along output x), plus global pooling in both layouts. Padding never contributes to a max; for averages it counts
// only when count_include_pad is set (ONNX) - Keras "same" average pooling
// divides by the number of real pixels in the window.
#pragma once

#include <cstdint>
#include <string>

namespace convscope {

struct Pool2DGeometry {
    int64_t kernel_h = 1, kernel_w = 1;
    int64_t stride_h = 1, stride_w = 1;
    int64_t dilation_h = 1, dilation_w = 1;
    int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    bool ceil_mode = false;
    bool count_include_pad = false;

    int64_t output_h(int64_t input_h) const;
    int64_t output_w(int64_t input_w) const;
    // Throws UnsupportedError naming `context` unless kernel, strides and
    // dilations are positive and pads non-negative, all within
    // max_window_extent (a file may say anything; a zero stride divides by 0).
    void validate(const std::string& context) const;
};

// Largest kernel, stride, dilation or pad an operator accepts: far above any
// real network, small enough that (kernel - 1) * dilation cannot overflow.
constexpr int64_t max_window_extent = int64_t(1) << 24;

// Output length as ONNX/PyTorch define it: with ceil_mode the last window
// must still start inside the input or its leading padding.
int64_t pool_output_size(int64_t input_size, int64_t kernel, int64_t stride, int64_t dilation,
                         int64_t pad_begin, int64_t pad_end, bool ceil_mode);

enum class PoolKind { max, average };

void pool2d_reference(PoolKind kind, const Pool2DGeometry& geometry, const float* input, int64_t batch,
                      int64_t input_h, int64_t input_w, int64_t channels, float* output);
void pool2d(PoolKind kind, const Pool2DGeometry& geometry, const float* input, int64_t batch,
            int64_t input_h, int64_t input_w, int64_t channels, float* output);

// [batch, pixels, channels] -> [batch, channels].
void global_pool_reference(PoolKind kind, const float* input, int64_t batch, int64_t pixels,
                           int64_t channels, float* output);
void global_pool(PoolKind kind, const float* input, int64_t batch, int64_t pixels, int64_t channels,
                 float* output);

// NCHW: `planes` (batch * channels) independent [input_h][input_w] planes
// -> [planes][oh][ow]. Each output row is a vertical pass over the window's
// rows (contiguous SIMD) into a row padded with the identity, then a
// horizontal pass (SIMD for stride 1, and stride 2 with dilation 1).
void pool2d_nchw_reference(PoolKind kind, const Pool2DGeometry& geometry, const float* input, int64_t planes,
                           int64_t input_h, int64_t input_w, float* output);
void pool2d_nchw(PoolKind kind, const Pool2DGeometry& geometry, const float* input, int64_t planes,
                 int64_t input_h, int64_t input_w, float* output);

// [planes][pixels] -> [planes] (NCHW global pooling, planes = batch * channels).
void global_pool_nchw_reference(PoolKind kind, const float* input, int64_t planes, int64_t pixels, float* output);
void global_pool_nchw(PoolKind kind, const float* input, int64_t planes, int64_t pixels, float* output);

}  // namespace convscope
