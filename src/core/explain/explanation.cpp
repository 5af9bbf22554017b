#include "core/explain/explanation.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/inspect/image_export.h"
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

std::vector<uint8_t> overlay_on_input(const Tensor& input, DataLayout layout, const Tensor& map, float opacity) {
    SpatialSize size = spatial_size(input, layout);
    if (map.rank() != 2 || map.shape()[0] != size.height || map.shape()[1] != size.width) {
        throw Error(concat("overlay: the map has shape ", shape_to_string(map.shape()), ", the input is ", size.height, "x",
                           size.width));
    }
    const Tensor x = input.to_float32();
    const float* v = x.f32();
    const int64_t pixels = size.height * size.width;
    float low = INFINITY, high = -INFINITY;
    for (uint64_t i = 0; i < x.element_count(); ++i) {
        if (std::isfinite(v[i])) { low = std::min(low, v[i]); high = std::max(high, v[i]); }
    }
    const float span = high > low ? high - low : 1.0f;
    const Tensor m = map.to_float32();
    bool signed_map = false;
    for (uint64_t i = 0; i < m.element_count(); ++i) signed_map = signed_map || m.f32()[i] < 0.0f;
    const ExportColorMap colours = signed_map ? ExportColorMap::diverging : ExportColorMap::viridis;
    float map_low = 0.0f, map_high = 1.0f;
    color_range(m.f32(), m.element_count(), colours, &map_low, &map_high);
    std::vector<uint8_t> heat = colorize(m.f32(), m.element_count(), colours, map_low, map_high);
    const float weight = std::min(std::max(opacity, 0.0f), 1.0f);
    std::vector<uint8_t> rgb(static_cast<size_t>(pixels) * 3);
    for (int64_t p = 0; p < pixels; ++p) {
        for (int64_t k = 0; k < 3; ++k) {
            const int64_t c = size.channels >= 3 ? k : 0;
            const float raw = layout == DataLayout::channels_first ? v[c * pixels + p] : v[p * size.channels + c];
            const float base = std::isfinite(raw) ? 255.0f * (raw - low) / span : 0.0f;
            const float blended = (1.0f - weight) * base + weight * heat[static_cast<size_t>(p * 3 + k)];
            rgb[static_cast<size_t>(p * 3 + k)] = static_cast<uint8_t>(std::lround(std::min(std::max(blended, 0.0f), 255.0f)));
        }
    }
    return rgb;
}

}  // namespace convscope
