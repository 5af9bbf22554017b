// Which pictures of a set make one channel fire the most (the "dataset
// examples" view of feature visualisation): every picture runs through the
// engine up to the layer, and the channel's mean or maximum activation
// ranks them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/tensor/tensor.h"

namespace convscope {

enum class ActivationStatistic { mean, max };

struct ActivatingImage {
    size_t index = 0;     // position in the input list
    float value = 0.0f;   // the channel's mean or max activation for it
    Tensor map;           // [h, w] the channel's activation map
};

// Pictures in the model's input layout (batch 1 or no batch axis). Returns at
// most `count` entries, strongest first (ties by index). `layer` is a layer
// or value name; `channel` indexes the layout's channel axis. Throws Error
// for an unknown layer or a channel out of range.
std::vector<ActivatingImage> top_activating(const Engine& engine, const std::vector<Tensor>& inputs,
                                            const std::string& layer, int64_t channel, size_t count,
                                            ActivationStatistic statistic = ActivationStatistic::mean);

}  // namespace convscope
