#include "core/inspect/feature_maps.h"

#include <algorithm>
#include <numeric>

#include "core/base/error.h"

namespace convscope {

std::vector<float> FeatureMaps::channel_copy(int64_t index) const {
    const float* start = channel(index);
    return std::vector<float>(start, start + height * width);
}

double FeatureMaps::mean(int64_t index) const {
    const int64_t n = height * width;
    if (n == 0) return 0.0;
    const float* start = channel(index);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += start[i];
    return sum / static_cast<double>(n);
}

double FeatureMaps::max(int64_t index) const {
    const int64_t n = height * width;
    if (n == 0) return 0.0;
    const float* start = channel(index);
    return *std::max_element(start, start + n);
}

FeatureMaps feature_maps(const Tensor& activation_any, DataLayout layout) {
    Tensor activation = activation_any.to_float32();
    Shape shape = activation.shape();
    // Drop a leading batch of one.
    if (shape.size() >= 2 && shape[0] == 1) shape.erase(shape.begin());
    const bool last = layout == DataLayout::channels_last;
    FeatureMaps maps;
    int64_t spatial_h = 1, spatial_w = 1, channels = 1;
    if (shape.size() == 1) {
        channels = shape[0];
    } else if (shape.size() == 2) {
        channels = last ? shape[1] : shape[0];
        spatial_w = last ? shape[0] : shape[1];
    } else if (shape.size() == 3) {
        channels = last ? shape[2] : shape[0];
        spatial_h = last ? shape[0] : shape[1];
        spatial_w = last ? shape[1] : shape[2];
    } else {
        throw Error(concat("feature maps: expected one image's activations, got ", shape_to_string(activation.shape())));
    }
    maps.channels = channels;
    maps.height = spatial_h;
    maps.width = spatial_w;
    maps.values.resize(static_cast<size_t>(channels * spatial_h * spatial_w));
    const float* src = activation.f32();
    const int64_t plane = spatial_h * spatial_w;
    for (int64_t c = 0; c < channels; ++c) {
        for (int64_t i = 0; i < plane; ++i) {
            maps.values[static_cast<size_t>(c * plane + i)] = last ? src[i * channels + c] : src[c * plane + i];
        }
    }
    return maps;
}

std::vector<int64_t> channels_by_strength(const FeatureMaps& maps) {
    std::vector<int64_t> order(static_cast<size_t>(maps.channels));
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> strength(order.size());
    for (int64_t c = 0; c < maps.channels; ++c) strength[static_cast<size_t>(c)] = maps.mean(c);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return strength[static_cast<size_t>(a)] > strength[static_cast<size_t>(b)];
    });
    return order;
}

}  // namespace convscope
