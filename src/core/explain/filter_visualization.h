// Filter visualisation by activation maximisation (Erhan et al. 2009;
// Olah et al., "Feature Visualization", 2017): start from a grey picture
// with a little noise and climb the gradient of a target - one channel's
// mean activation or a class score - with respect to the input.
//
// Two regularisers keep the picture from turning into high-frequency noise
// that excites the unit without showing anything: each step evaluates the
// gradient on a randomly shifted copy (jitter, shifted back afterwards), and
// every few steps the picture is blurred a little. The step is normalised by
// the gradient's root mean square, so `step_size` is in input units and does
// not depend on the target's scale. Values stay inside [value_low,
// value_high], the range the model's inputs come from (0..1 after x/255).
// A unit silent on the whole picture has a zero gradient; such a step kicks
// the picture with fresh noise instead.
//
// Resumable: FilterVisualizer does one ascent step per unit of work with one
// random stream over all steps, so the app can show the picture forming
// over frames; visualize_filter() runs it to completion, and any slicing of
// step(n) calls gives its result bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "core/explain/explanation.h"
#include "core/grad/gradient.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct FilterVisualizationOptions {
    int steps = 64;
    float step_size = 0.02f;   // per step, in input units (after RMS normalisation)
    int jitter = 1;            // largest random shift in pixels; 0 = none
    int blur_every = 4;        // blur after every N-th step; 0 = never
    float blur_sigma = 0.5f;   // of the separable Gaussian (radius 1)
    float value_low = 0.0f;
    float value_high = 1.0f;
    float start_noise = 0.05f;  // uniform +-noise around the middle of the range
    uint32_t seed = 1;
    // Called after every step with the step number (1-based), the target's
    // value at this step's (shifted) picture and the current picture in the
    // model's input layout. Returning false stops the ascent.
    std::function<bool(int step, float objective, const Tensor& image)> on_step;
};

struct FilterVisualization {
    Tensor image;                    // [1, H, W, C] or [1, C, H, W], the model's input layout
    float initial_objective = 0.0f;  // at the starting picture
    float final_objective = 0.0f;    // at the returned picture (no shift)
    std::vector<float> objective_per_step;
};

class FilterVisualizer {
public:
    // Validates the options and the target (as visualize_filter) and
    // evaluates the starting picture. `gradients` must outlive it.
    FilterVisualizer(const GradientEngine& gradients, const Target& target, const FilterVisualizationOptions& options = {});

    // Up to `units` more ascent steps; returns how many were done.
    // (options.on_step is not called here: visualize_filter calls it.)
    int step(int units);
    int units_done() const { return static_cast<int>(objective_per_step_.size()); }
    int total_units() const { return options_.steps; }
    float progress() const { return static_cast<float>(units_done()) / static_cast<float>(options_.steps); }
    bool done() const { return units_done() >= options_.steps; }
    float initial_objective() const { return initial_objective_; }
    // The target at the last step's (shifted) picture; the initial one before any step.
    float last_objective() const { return objective_per_step_.empty() ? initial_objective_ : objective_per_step_.back(); }
    // The current picture in the model's input layout.
    Tensor image() const { return Tensor::from_floats(shape_, image_); }
    const std::vector<float>& image_values() const { return image_; }
    const Shape& image_shape() const { return shape_; }
    // The picture so far, with its objective evaluated once more (no shift);
    // callable before done() (a stopped ascent keeps what it reached).
    FilterVisualization result() const;

private:
    const GradientEngine* gradients_;
    Target target_;
    FilterVisualizationOptions options_;
    Shape shape_;
    SpatialSize size_;
    bool channels_first_ = false;
    std::mt19937 random_;
    std::uniform_int_distribution<int> shift_;  // the jitter
    std::vector<float> image_;
    float initial_objective_ = 0.0f;
    std::vector<float> objective_per_step_;
};

// `target`: Target::channel_mean(layer, channel) or Target::class_score(c)
// with an explicit class (c >= 0). Throws Error for bad options or a model
// whose input is not an image.
FilterVisualization visualize_filter(const GradientEngine& gradients, const Target& target,
                                     const FilterVisualizationOptions& options = {});

}  // namespace convscope
