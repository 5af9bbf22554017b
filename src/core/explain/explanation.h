// What every explanation method returns, and the small tensor helpers they
// share: reading the spatial size of an input in the framework's layout
// (NHWC Keras, NCHW ONNX) and folding a per-channel tensor into an H x W map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/grad/gradient.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct Explanation {
    Tensor map;              // [H, W] float32, the input's spatial size
    Tensor raw;              // the method's own tensor (gradient, attributions, low-resolution CAM, ...)
    int64_t class_index = -1;
    float score = 0.0f;      // the explained class score (logit unless the target asked for a probability)
};

struct SpatialSize {
    int64_t height = 0, width = 0, channels = 0;
};
// Of a rank-3 (no batch) or rank-4 (batch 1) image tensor in `layout`.
SpatialSize spatial_size(const Tensor& input, DataLayout layout);

enum class ChannelFold { max_abs, sum, sum_abs };
// [1,H,W,C] / [1,C,H,W] (or without batch) -> [H, W].
Tensor fold_channels(const Tensor& tensor, DataLayout layout, ChannelFold fold);

// [h, w] -> [height, width], half-pixel bilinear.
Tensor upsample_map(const Tensor& map, int64_t height, int64_t width);

// RGB bytes [H][W][3] of `map` (an explanation's [H, W] map) coloured and
// blended over the model input it explains (what the model saw, stretched
// to 0..255 over its own range, grey when it has one channel). Signed maps
// use the diverging colours, non-negative ones viridis; `opacity` is the
// heatmap's weight in 0..1. Used by `convscope explain --out x.png`.
std::vector<uint8_t> overlay_on_input(const Tensor& input, DataLayout layout, const Tensor& map, float opacity = 0.55f);

}  // namespace convscope
