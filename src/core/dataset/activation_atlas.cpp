#include "core/dataset/activation_atlas.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/base/error.h"
#include "core/inspect/feature_maps.h"

namespace convscope {

struct ActivationAtlas::Accumulator {
    std::string layer;
    bool started = false;
    int64_t channels = 0, height = 0, width = 0;
    int64_t images = 0;
    std::vector<double> sum, max, centroid_x, centroid_y;
    std::vector<int64_t> active, centroid_images;
    std::vector<std::vector<float>> image_means;  // [channel][image]
    std::vector<std::vector<ChannelTopImage>> top;  // strongest first
};

int64_t LayerActivationStatistics::dead_count() const {
    return std::count_if(per_channel.begin(), per_channel.end(), [](const ChannelStatistics& c) { return c.dead; });
}

int64_t LayerActivationStatistics::saturated_count() const {
    return std::count_if(per_channel.begin(), per_channel.end(), [](const ChannelStatistics& c) { return c.saturated; });
}

ActivationAtlas::ActivationAtlas(const Engine& engine, const Model& model, const ImageDataset& dataset,
                                 std::vector<std::string> layers, AtlasOptions options)
    : engine_(engine), dataset_(dataset), options_(std::move(options)), layers_(std::move(layers)) {
    all_layers_ = layers_.empty();
    if (all_layers_) {
        for (const Layer& layer : model.layers) {
            if (layer.type == "InputLayer") continue;
            layers_.push_back(layer.name);
        }
    } else {
        for (const std::string& name : layers_) {
            if (!model.find_layer(name)) throw Error(concat("activations: the model has no layer '", name, "'"));
        }
    }
    accumulators_.resize(layers_.size());
    for (size_t i = 0; i < layers_.size(); ++i) accumulators_[i].layer = layers_[i];
}

ActivationAtlas::~ActivationAtlas() = default;
ActivationAtlas::ActivationAtlas(ActivationAtlas&&) noexcept = default;

double ActivationAtlas::progress() const {
    return dataset_.size() ? static_cast<double>(next_) / static_cast<double>(dataset_.size()) : 1.0;
}

void ActivationAtlas::add(size_t slot, const Tensor& activation, size_t image) {
    Accumulator& a = accumulators_[slot];
    FeatureMaps maps = feature_maps(activation, engine_.layout());
    if (!a.started) {
        a.started = true;
        a.channels = maps.channels;
        a.height = maps.height;
        a.width = maps.width;
        size_t c = static_cast<size_t>(maps.channels);
        a.sum.assign(c, 0.0);
        a.max.assign(c, -std::numeric_limits<double>::infinity());
        a.centroid_x.assign(c, 0.0);
        a.centroid_y.assign(c, 0.0);
        a.active.assign(c, 0);
        a.centroid_images.assign(c, 0);
        a.image_means.assign(c, {});
        a.top.assign(c, {});
    } else if (maps.channels != a.channels || maps.height != a.height || maps.width != a.width) {
        throw Error(concat("activations: layer '", a.layer, "' gave ", maps.channels, "x", maps.height, "x", maps.width,
                           " maps for image ", image, ", earlier ", a.channels, "x", a.height, "x", a.width));
    }
    a.images += 1;
    int64_t plane = maps.height * maps.width;
    for (int64_t c = 0; c < maps.channels; ++c) {
        const float* v = maps.channel(c);
        double sum = 0.0, peak = -std::numeric_limits<double>::infinity(), weight = 0.0, wx = 0.0, wy = 0.0;
        int64_t active = 0;
        for (int64_t p = 0; p < plane; ++p) {
            double x = v[p];
            sum += x;
            peak = std::max(peak, x);
            if (x > options_.active_threshold) {
                ++active;
                weight += x;
                wx += x * (static_cast<double>(p % maps.width) + 0.5);
                wy += x * (static_cast<double>(p / maps.width) + 0.5);
            }
        }
        size_t k = static_cast<size_t>(c);
        a.sum[k] += sum;
        a.max[k] = std::max(a.max[k], peak);
        a.active[k] += active;
        a.image_means[k].push_back(static_cast<float>(plane ? sum / static_cast<double>(plane) : 0.0));
        if (weight > 0.0) {
            a.centroid_x[k] += wx / weight / static_cast<double>(maps.width);
            a.centroid_y[k] += wy / weight / static_cast<double>(maps.height);
            a.centroid_images[k] += 1;
        }
        auto& top = a.top[k];
        float value = std::isnan(peak) ? -INFINITY : static_cast<float>(peak);
        if (top.size() < options_.top_k || value > top.back().value) {
            ChannelTopImage entry;
            entry.image = image;
            entry.value = value;
            if (options_.keep_maps) entry.map = Tensor::from_floats({maps.height, maps.width}, maps.channel_copy(c));
            auto at = std::upper_bound(top.begin(), top.end(), entry,
                                       [](const ChannelTopImage& x, const ChannelTopImage& y) { return x.value > y.value; });
            top.insert(at, std::move(entry));
            if (top.size() > options_.top_k) top.pop_back();
        }
    }
}

size_t ActivationAtlas::step(size_t images) {
    size_t ran = 0;
    for (; ran < images && next_ < dataset_.size(); ++ran, ++next_) {
        Tensor input = preprocess_image(dataset_.image(next_), options_.preprocessing);
        RunOptions run_options;
        run_options.capture = layers_;
        RunResult run = engine_.run(input, run_options);
        for (size_t slot = 0; slot < layers_.size(); ++slot) {
            if (layers_[slot].empty()) continue;  // skipped in an all-layers atlas
            auto found = run.activations.find(layers_[slot]);
            if (found == run.activations.end()) {
                if (!all_layers_) throw Error(concat("activations: layer '", layers_[slot], "' produced no output"));
                skipped_.push_back(layers_[slot]);
                layers_[slot].clear();
                continue;
            }
            try {
                add(slot, found->second, next_);
            } catch (const Error&) {
                if (!all_layers_) throw;
                // A layer whose output is not a map or vector (a shape
                // tensor, a 5-D value) has no per-channel story.
                skipped_.push_back(layers_[slot]);
                layers_[slot].clear();
            }
        }
    }
    return ran;
}

namespace {

double percentile(std::vector<float> values, double q) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    double position = q * static_cast<double>(values.size() - 1);
    size_t low = static_cast<size_t>(std::floor(position));
    size_t high = std::min(values.size() - 1, low + 1);
    double t = position - static_cast<double>(low);
    return values[low] * (1.0 - t) + values[high] * t;
}

}  // namespace

std::vector<LayerActivationStatistics> ActivationAtlas::result() const {
    std::vector<LayerActivationStatistics> out;
    for (size_t slot = 0; slot < accumulators_.size(); ++slot) {
        const Accumulator& a = accumulators_[slot];
        if (layers_[slot].empty() || !a.started) continue;
        LayerActivationStatistics layer;
        layer.layer = a.layer;
        layer.channels = a.channels;
        layer.height = a.height;
        layer.width = a.width;
        layer.images = a.images;
        double positions = static_cast<double>(a.images * a.height * a.width);
        for (int64_t c = 0; c < a.channels; ++c) {
            size_t k = static_cast<size_t>(c);
            ChannelStatistics s;
            s.mean = positions > 0 ? a.sum[k] / positions : 0.0;
            s.max = a.max[k];
            s.fraction_active = positions > 0 ? static_cast<double>(a.active[k]) / positions : 0.0;
            s.p5 = percentile(a.image_means[k], 0.05);
            s.p50 = percentile(a.image_means[k], 0.50);
            s.p95 = percentile(a.image_means[k], 0.95);
            if (a.centroid_images[k]) {
                s.centroid_x = a.centroid_x[k] / static_cast<double>(a.centroid_images[k]);
                s.centroid_y = a.centroid_y[k] / static_cast<double>(a.centroid_images[k]);
            }
            s.dead = a.active[k] == 0;
            // Always on and the same on every image: a constant, whatever its level.
            s.saturated = !s.dead && s.fraction_active >= options_.saturated_fraction &&
                          s.p95 - s.p5 <= 0.01 * std::max(std::fabs(s.p50), 1e-12);
            s.top = a.top[k];
            layer.per_channel.push_back(std::move(s));
        }
        out.push_back(std::move(layer));
    }
    return out;
}

std::vector<LayerActivationStatistics> activation_statistics(const Engine& engine, const Model& model, const ImageDataset& dataset,
                                                             const std::vector<std::string>& layers, const AtlasOptions& options) {
    ActivationAtlas atlas(engine, model, dataset, layers, options);
    while (!atlas.done()) atlas.step(32);
    return atlas.result();
}

}  // namespace convscope
