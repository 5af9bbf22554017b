// Integrated Gradients (Sundararajan et al. 2017) with the midpoint Riemann
// sum: attribution = (x - x') * mean_k grad(x' + (k + 1/2)/m (x - x')),
// k = 0..m-1. Completeness: the attributions sum to f(x) - f(x') up to the
// quadrature error. The map is the signed sum over channels.
#pragma once

#include "core/explain/explanation.h"

namespace convscope {

struct IntegratedGradientsOptions {
    int steps = 32;
    Tensor baseline;  // empty: all zeros
};

// raw: the attributions in the input's shape and layout.
Explanation integrated_gradients(const GradientEngine& gradients, const Tensor& input, const Target& target,
                                 const IntegratedGradientsOptions& options = {});

}  // namespace convscope
