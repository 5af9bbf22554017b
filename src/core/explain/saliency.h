// Gradient saliency (Simonyan et al. 2014) and SmoothGrad (Smilkov et al.
// 2017): d score / d input folded to an H x W map by the maximum absolute
// value over channels. The score is the class logit (see gradient.h).
//
// SmoothGrad is resumable: SmoothGradRun draws and differentiates one noisy
// copy per unit of work, with one random stream over all units and the sum
// in double in sample order, so any slicing of step(n) calls gives the
// one-shot smoothgrad() result bit for bit.
#pragma once

#include <cstdint>
#include <random>

#include "core/explain/explanation.h"

namespace convscope {

// raw: d score / d input in the input's shape and layout.
Explanation saliency(const GradientEngine& gradients, const Tensor& input, const Target& target);

struct SmoothGradOptions {
    int samples = 16;
    float noise_fraction = 0.15f;  // noise sigma as a fraction of the input's (max - min)
    uint32_t seed = 1;
};
class SmoothGradRun {
public:
    // Validates the options; with class_score(-1) it fixes the class from
    // the clean input (one gradient here) so noise cannot switch it.
    // `gradients` must outlive the run.
    SmoothGradRun(const GradientEngine& gradients, const Tensor& input, const Target& target,
                  const SmoothGradOptions& options = {});

    // Up to `units` more noisy samples; returns how many were done.
    int step(int units);
    int units_done() const { return done_samples_; }
    int total_units() const { return samples_; }
    float progress() const { return static_cast<float>(done_samples_) / static_cast<float>(samples_); }
    bool done() const { return done_samples_ >= samples_; }
    // Throws Error before done(). raw: the mean gradient over the noisy copies.
    Explanation result() const;

private:
    const GradientEngine* gradients_;
    Shape shape_;
    std::vector<float> values_;
    Target target_;
    int samples_;
    int done_samples_ = 0;
    std::mt19937 random_;
    std::normal_distribution<float> noise_;
    std::vector<double> sum_;
    Explanation partial_;
};

// raw: the mean gradient over the noisy copies.
Explanation smoothgrad(const GradientEngine& gradients, const Tensor& input, const Target& target,
                       const SmoothGradOptions& options = {});

}  // namespace convscope
