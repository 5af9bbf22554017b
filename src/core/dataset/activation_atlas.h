// What each channel of a layer does over a whole image set: how strongly
// and how often it fires, which images excite it most (with the map over
// each), where in the image it fires on average, and which channels never
// fire (dead) or always do (saturated).
//
// Definitions (the JSON and the tables use these names):
//   mean            mean of the channel's values over every position of every image
//   max             largest value seen
//   fraction_active share of (image, position) values above `active_threshold` (0)
//   p5/p50/p95      percentiles of the per-image mean over the images
//   top             images with the largest per-image max, strongest first
//   centroid        mean over images of the activation-weighted position of the
//                   positive values, as (x, y) in [0, 1] of the map's width/height
//   dead            never above the threshold on any image
//   saturated       above the threshold at >= 99 % of all positions and its
//                   per-image mean the same on every image (p95 - p5 within 1 %
//                   of p50): the channel acts as a constant
//
// Resumable like Evaluation: step(n) runs n more images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset/image_dataset.h"
#include "core/engine/engine.h"
#include "core/inspect/preprocess.h"

namespace convscope {

struct ChannelTopImage {
    size_t image = 0;
    float value = 0.0f;     // the image's max for this channel
    Tensor map;             // [height, width] activation map
};

struct ChannelStatistics {
    double mean = 0.0;
    double max = 0.0;
    double fraction_active = 0.0;
    double p5 = 0.0, p50 = 0.0, p95 = 0.0;
    double centroid_x = 0.5, centroid_y = 0.5;
    bool dead = false;
    bool saturated = false;
    std::vector<ChannelTopImage> top;
};

struct LayerActivationStatistics {
    std::string layer;
    int64_t channels = 0, height = 0, width = 0;
    int64_t images = 0;
    std::vector<ChannelStatistics> per_channel;
    int64_t dead_count() const;
    int64_t saturated_count() const;
};

struct AtlasOptions {
    Preprocessing preprocessing;
    size_t top_k = 5;
    bool keep_maps = true;          // store the top images' maps (the CLI's JSON does not need them)
    double active_threshold = 0.0;
    double saturated_fraction = 0.99;
};

class ActivationAtlas {
public:
    // `layers`: the layers to collect; empty means every layer whose output
    // is an image-like map or a vector (feature_maps() accepts it).
    ActivationAtlas(const Engine& engine, const Model& model, const ImageDataset& dataset,
                    std::vector<std::string> layers, AtlasOptions options);
    ~ActivationAtlas();
    ActivationAtlas(ActivationAtlas&&) noexcept;

    size_t step(size_t images);
    bool done() const { return next_ >= dataset_.size(); }
    double progress() const;
    std::vector<LayerActivationStatistics> result() const;
    // Layers left out of an all-layers atlas (output not a map or vector).
    const std::vector<std::string>& skipped_layers() const { return skipped_; }

private:
    struct Accumulator;
    const Engine& engine_;
    const ImageDataset& dataset_;
    AtlasOptions options_;
    std::vector<std::string> layers_;
    bool all_layers_ = false;
    size_t next_ = 0;
    std::vector<Accumulator> accumulators_;
    std::vector<std::string> skipped_;
    void add(size_t layer_slot, const Tensor& activation, size_t image);
};

std::vector<LayerActivationStatistics> activation_statistics(const Engine& engine, const Model& model, const ImageDataset& dataset,
                                                             const std::vector<std::string>& layers, const AtlasOptions& options);

}  // namespace convscope
