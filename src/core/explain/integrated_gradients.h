// Integrated Gradients (Sundararajan et al. 2017) with the midpoint Riemann
// sum: attribution = (x - x') * mean_k grad(x' + (k + 1/2)/m (x - x')),
// k = 0..m-1. Completeness: the attributions sum to f(x) - f(x') up to the
// quadrature error. The map is the signed sum over channels.
//
// Resumable: IntegratedGradientsRun does the work one path point (one
// gradient) at a time, so the app can spread it over frames; the one-shot
// integrated_gradients() runs it to completion. The gradients are summed in
// double in path order whatever the slicing, so any sequence of step(n)
// calls gives the one-shot result bit for bit.
#pragma once

#include "core/explain/explanation.h"

namespace convscope {

struct IntegratedGradientsOptions {
    int steps = 32;
    Tensor baseline;  // empty: all zeros
};

class IntegratedGradientsRun {
public:
    // Validates the options; with class_score(-1) it fixes the class from
    // the clean input (one gradient evaluation here). `gradients` must
    // outlive the run.
    IntegratedGradientsRun(const GradientEngine& gradients, const Tensor& input, const Target& target,
                           const IntegratedGradientsOptions& options = {});

    // Up to `units` more path points; returns how many were done.
    int step(int units);
    int units_done() const { return done_points_; }
    int total_units() const { return steps_; }
    float progress() const { return static_cast<float>(done_points_) / static_cast<float>(steps_); }
    bool done() const { return done_points_ >= steps_; }
    // Throws Error before done(). raw: the attributions in the input's shape and layout.
    Explanation result() const;

private:
    const GradientEngine* gradients_;
    Tensor input_;
    std::vector<float> values_, baseline_;
    Target target_;
    int steps_;
    int done_points_ = 0;
    std::vector<double> sum_;
    Explanation partial_;  // class and score as they become known
};

// raw: the attributions in the input's shape and layout.
Explanation integrated_gradients(const GradientEngine& gradients, const Tensor& input, const Target& target,
                                 const IntegratedGradientsOptions& options = {});

}  // namespace convscope
