// Gradient saliency (Simonyan et al. 2014) and SmoothGrad (Smilkov et al.
// 2017): d score / d input folded to an H x W map by the maximum absolute
// value over channels. The score is the class logit (see gradient.h).
#pragma once

#include <cstdint>

#include "core/explain/explanation.h"

namespace convscope {

// raw: d score / d input in the input's shape and layout.
Explanation saliency(const GradientEngine& gradients, const Tensor& input, const Target& target);

struct SmoothGradOptions {
    int samples = 16;
    float noise_fraction = 0.15f;  // noise sigma as a fraction of the input's (max - min)
    uint32_t seed = 1;
};
// raw: the mean gradient over the noisy copies.
Explanation smoothgrad(const GradientEngine& gradients, const Tensor& input, const Target& target,
                       const SmoothGradOptions& options = {});

}  // namespace convscope
