// Depthwise 2-D convolution on NCHW planes (ONNX Conv with group ==
// in_channels): output channel c convolves input channel c / multiplier with
// its own kh x kw filter, where multiplier = out_channels / in_channels.
//
// Paths (all per channel plane, vectorised along output x):
//   [X] 3x3, stride 1, dilation 1: nine splatted weights, three input rows in
//       registers, interior without bounds checks, borders scalar
//   [X] 3x3, stride 2, dilation 1: the same, even/odd input columns split by
//       shuffles
//   [X] any kernel, stride, dilation, multiplier: per-tap row accumulation
//       over the valid output range (SIMD when stride_w == 1)
#pragma once

#include <cstdint>

#include "core/ops/conv.h"

namespace convscope {

// `geometry` carries the pads of this run. weights [out_channels][kh][kw],
// bias out_channels values (never null). Writes every output element of
// [batch][out_channels][oh][ow].
void depthwise_conv2d_nchw(const Conv2DGeometry& geometry, const float* input, int64_t batch, int64_t input_h,
                           int64_t input_w, const float* weights, const float* bias, float* output);

// The plain loop the fast paths are tested against.
void depthwise_conv2d_nchw_reference(const Conv2DGeometry& geometry, const float* input, int64_t batch,
                                     int64_t input_h, int64_t input_w, const float* weights, const float* bias,
                                     float* output);

}  // namespace convscope
