// Occlusion sensitivity (Zeiler & Fergus 2014): slide a window of `fill`
// over the input (all channels), and record how much the class score drops;
// each pixel's value is the mean drop over the windows covering it.
// Windows start at 0, stride, ... and the last one is clipped at the edge.
#pragma once

#include "core/explain/explanation.h"

namespace convscope {

struct OcclusionOptions {
    int window = 4;
    int stride = 4;
    float fill = 0.0f;
    int batch = 32;  // occluded copies per engine run when the model's batch axis is free
};

// class_index -1: the top class of the clean input. Score: the logit (see gradient.h).
// raw: the score drop per window position [rows, columns].
Explanation occlusion(const GradientEngine& gradients, const Tensor& input, int64_t class_index,
                      const OcclusionOptions& options = {});

}  // namespace convscope
