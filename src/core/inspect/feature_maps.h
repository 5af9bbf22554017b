// A layer's output as one 2-D map per channel, whatever the layout, for the
// Feature-maps view and `convscope response --layer-output`.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/model.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct FeatureMaps {
    int64_t channels = 0;
    int64_t height = 0;
    int64_t width = 0;
    std::vector<float> values;  // channel-major: [channels][height][width]

    const float* channel(int64_t index) const { return values.data() + index * height * width; }
    std::vector<float> channel_copy(int64_t index) const;
    // Mean of the channel's values (after ReLU this is how much it fires).
    double mean(int64_t index) const;
    double max(int64_t index) const;
};

// activation: [1, H, W, C] / [H, W, C] (channels_last) or [1, C, H, W] /
// [C, H, W] (channels_first); [1, N] / [N] becomes N maps of 1x1 and
// [1, L, C] / [1, C, L] (1-D layers) C maps of 1xL. Throws Error for other
// ranks.
FeatureMaps feature_maps(const Tensor& activation, DataLayout layout);

// Channel indices sorted by mean value, strongest first (ties by index).
std::vector<int64_t> channels_by_strength(const FeatureMaps& maps);

}  // namespace convscope
