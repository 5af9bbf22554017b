// Occlusion sensitivity (Zeiler & Fergus 2014): slide a window of `fill`
// over the input (all channels), and record how much the class score drops;
// each pixel's value is the mean drop over the windows covering it.
// Windows start at 0, stride, ... and the last one is clipped at the edge.
//
// Resumable: OcclusionRun's unit of work is one engine run over a batch of
// occluded copies (`batch` windows when the model's batch axis is free, one
// otherwise). The batches are the same whatever the slicing, so any
// sequence of step(n) calls gives the one-shot occlusion() bit for bit.
#pragma once

#include "core/explain/explanation.h"

namespace convscope {

struct OcclusionOptions {
    int window = 4;
    int stride = 4;
    float fill = 0.0f;
    int batch = 32;  // occluded copies per engine run when the model's batch axis is free
};

class OcclusionRun {
public:
    // Validates the options, fixes the class (class_index -1: the top class
    // of the clean input) and scores the clean input. `gradients` must
    // outlive the run.
    OcclusionRun(const GradientEngine& gradients, const Tensor& input, int64_t class_index, const OcclusionOptions& options = {});

    // Up to `units` more batches of windows; returns how many were done.
    int step(int units);
    int units_done() const { return static_cast<int>((done_windows_ + chunk_ - 1) / chunk_); }
    int total_units() const { return static_cast<int>((rows_ * columns_ + chunk_ - 1) / chunk_); }
    float progress() const { return static_cast<float>(done_windows_) / static_cast<float>(rows_ * columns_); }
    bool done() const { return done_windows_ >= rows_ * columns_; }
    // Throws Error before done(). raw: the score drop per window position [rows, columns].
    Explanation result() const;

private:
    const GradientEngine* gradients_;
    OcclusionOptions options_;
    SpatialSize size_;
    Tensor input_;  // batch-1, float
    int64_t class_index_;
    float clean_score_ = 0.0f;
    int64_t rows_ = 0, columns_ = 0, chunk_ = 1;
    int64_t done_windows_ = 0;
    std::vector<float> drops_;
};

// class_index -1: the top class of the clean input. Score: the logit (see gradient.h).
// raw: the score drop per window position [rows, columns].
Explanation occlusion(const GradientEngine& gradients, const Tensor& input, int64_t class_index,
                      const OcclusionOptions& options = {});

}  // namespace convscope
