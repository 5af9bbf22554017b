#include "core/explain/top_activating.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/inspect/feature_maps.h"

namespace convscope {

std::vector<ActivatingImage> top_activating(const Engine& engine, const std::vector<Tensor>& inputs, const std::string& layer,
                                            int64_t channel, size_t count, ActivationStatistic statistic) {
    std::vector<ActivatingImage> ranked;
    ranked.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        // Only the activation is kept per picture: the ranking holds one
        // small map each, never every picture's whole set of activations.
        Tensor activation = engine.run_until(inputs[i], layer);
        FeatureMaps maps = feature_maps(activation, engine.layout());
        if (channel < 0 || channel >= maps.channels) {
            throw Error(concat("top activating: layer '", layer, "' has ", maps.channels, " channels; asked for channel ", channel));
        }
        ActivatingImage entry;
        entry.index = i;
        entry.value = static_cast<float>(statistic == ActivationStatistic::mean ? maps.mean(channel) : maps.max(channel));
        // NaN would break the ordering; it ranks last instead.
        if (std::isnan(entry.value)) entry.value = -INFINITY;
        entry.map = Tensor::from_floats({maps.height, maps.width}, maps.channel_copy(channel));
        ranked.push_back(std::move(entry));
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const ActivatingImage& a, const ActivatingImage& b) { return a.value > b.value; });
    if (ranked.size() > count) ranked.resize(count);
    return ranked;
}

}  // namespace convscope
