#include "core/explain/explanation.h"

#include <cmath>

#include "core/base/error.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

SpatialSize spatial_size(const Tensor& input, DataLayout layout) {
    const Shape& s = input.shape();
    if (s.size() != 3 && s.size() != 4) throw Error(concat("expected an image tensor of rank 3 or 4, got ", shape_to_string(s)));
    size_t o = s.size() == 4 ? 1 : 0;
    if (o == 1 && s[0] != 1) throw Error(concat("expected a batch of one image, got ", shape_to_string(s)));
    SpatialSize size;
    if (layout == DataLayout::channels_first) {
        size.channels = s[o]; size.height = s[o + 1]; size.width = s[o + 2];
    } else {
        size.height = s[o]; size.width = s[o + 1]; size.channels = s[o + 2];
    }
    return size;
}

Tensor fold_channels(const Tensor& tensor, DataLayout layout, ChannelFold fold) {
    SpatialSize size = spatial_size(tensor, layout);
    Tensor t = tensor.to_float32();
    Tensor map = Tensor::zeros(DType::f32, {size.height, size.width});
    float* m = map.mutable_f32();
    const float* v = t.f32();
    const int64_t pixels = size.height * size.width;
    for (int64_t p = 0; p < pixels; ++p) {
        float acc = 0.0f;
        for (int64_t c = 0; c < size.channels; ++c) {
            float x = layout == DataLayout::channels_first ? v[c * pixels + p] : v[p * size.channels + c];
            if (fold == ChannelFold::max_abs) acc = std::max(acc, std::fabs(x));
            else acc += fold == ChannelFold::sum_abs ? std::fabs(x) : x;
        }
        m[p] = acc;
    }
    return map;
}

Tensor upsample_map(const Tensor& map, int64_t height, int64_t width) {
    if (map.rank() != 2) throw Error(concat("expected a 2-D map, got ", shape_to_string(map.shape())));
    ResizeOptions options;
    options.mode = ResizeMode::bilinear;
    options.coordinates = CoordinateMode::half_pixel;
    Tensor image = map.to_float32().reshaped({1, map.shape()[0], map.shape()[1], 1});
    return resize2d(image, true, height, width, options).reshaped({height, width});
}

}  // namespace convscope
