#include "core/explain/integrated_gradients.h"

#include <algorithm>

#include "core/base/error.h"

namespace convscope {

IntegratedGradientsRun::IntegratedGradientsRun(const GradientEngine& gradients, const Tensor& input, const Target& target,
                                               const IntegratedGradientsOptions& options)
    : gradients_(&gradients), target_(target), steps_(options.steps) {
    if (options.steps < 1 || options.steps > 4096) throw Error(concat("integrated gradients steps must be 1..4096, got ", options.steps));
    input_ = input.to_float32();
    values_ = input_.to_float_vector();
    baseline_.assign(values_.size(), 0.0f);
    if (!options.baseline.empty()) {
        if (options.baseline.element_count() != values_.size()) {
            throw Error(concat("baseline has shape ", shape_to_string(options.baseline.shape()), ", the input ", shape_to_string(input_.shape())));
        }
        baseline_ = options.baseline.to_float_vector();
    }
    if (target_.kind == Target::Kind::class_score && target_.class_index < 0) {
        Gradients clean = gradients.gradient_of(input, target);
        target_.class_index = clean.class_index;
        partial_.score = clean.target_values.empty() ? 0.0f : clean.target_values[0];
    }
    sum_.assign(values_.size(), 0.0);
}

int IntegratedGradientsRun::step(int units) {
    const int count = std::max(0, std::min(units, steps_ - done_points_));
    std::vector<float> point(values_.size());
    for (int n = 0; n < count; ++n) {
        const int k = done_points_;
        const float alpha = (static_cast<float>(k) + 0.5f) / static_cast<float>(steps_);
        for (size_t i = 0; i < values_.size(); ++i) point[i] = baseline_[i] + alpha * (values_[i] - baseline_[i]);
        Gradients g = gradients_->gradient_of(Tensor::from_floats(input_.shape(), point), target_);
        const float* d = g.input_gradient.f32();
        for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += d[i];
        partial_.class_index = g.class_index;
        if (partial_.score == 0.0f && k + 1 == steps_ && target_.kind != Target::Kind::class_score) partial_.score = g.target_values.at(0);
        ++done_points_;
    }
    return count;
}

Explanation IntegratedGradientsRun::result() const {
    if (!done()) throw Error(concat("integrated gradients: ", done_points_, " of ", steps_, " path points done, the result is not ready"));
    Explanation e = partial_;
    std::vector<float> attributions(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
        attributions[i] = static_cast<float>((values_[i] - baseline_[i]) * sum_[i] / steps_);
    }
    e.raw = Tensor::from_floats(input_.shape(), attributions);
    e.map = fold_channels(e.raw, gradients_->layout(), ChannelFold::sum);
    return e;
}

Explanation integrated_gradients(const GradientEngine& gradients, const Tensor& input, const Target& target,
                                 const IntegratedGradientsOptions& options) {
    IntegratedGradientsRun run(gradients, input, target, options);
    run.step(run.total_units());
    return run.result();
}

}  // namespace convscope
