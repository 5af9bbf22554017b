#include "core/explain/saliency.h"

#include <algorithm>
#include <random>

#include "core/base/error.h"

namespace convscope {

Explanation saliency(const GradientEngine& gradients, const Tensor& input, const Target& target) {
    Gradients g = gradients.gradient_of(input, target);
    Explanation e;
    e.raw = g.input_gradient;
    e.map = fold_channels(g.input_gradient, gradients.layout(), ChannelFold::max_abs);
    e.class_index = g.class_index;
    e.score = g.target_values.empty() ? 0.0f : g.target_values[0];
    return e;
}

SmoothGradRun::SmoothGradRun(const GradientEngine& gradients, const Tensor& input, const Target& target,
                             const SmoothGradOptions& options)
    : gradients_(&gradients), target_(target), samples_(options.samples), random_(options.seed) {
    if (options.samples < 1 || options.samples > 10000) throw Error(concat("SmoothGrad samples must be 1..10000, got ", options.samples));
    Tensor x = input.to_float32();
    shape_ = x.shape();
    values_ = x.to_float_vector();
    auto [low, high] = values_.empty() ? std::pair<const float*, const float*>{nullptr, nullptr}
                                       : std::minmax_element(values_.data(), values_.data() + values_.size());
    const float sigma = values_.empty() ? 0.0f : options.noise_fraction * (*high - *low);
    noise_ = std::normal_distribution<float>(0.0f, sigma > 0.0f ? sigma : 1e-12f);
    if (target_.kind == Target::Kind::class_score && target_.class_index < 0) {
        Gradients clean = gradients.gradient_of(input, target);
        target_.class_index = clean.class_index;
        partial_.score = clean.target_values.empty() ? 0.0f : clean.target_values[0];
    }
    sum_.assign(values_.size(), 0.0);
}

int SmoothGradRun::step(int units) {
    const int count = std::max(0, std::min(units, samples_ - done_samples_));
    for (int n = 0; n < count; ++n) {
        std::vector<float> noisy = values_;
        for (float& v : noisy) v += noise_(random_);
        Gradients g = gradients_->gradient_of(Tensor::from_floats(shape_, noisy), target_);
        const float* d = g.input_gradient.f32();
        for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += d[i];
        partial_.class_index = g.class_index;
        ++done_samples_;
    }
    return count;
}

Explanation SmoothGradRun::result() const {
    if (!done()) throw Error(concat("SmoothGrad: ", done_samples_, " of ", samples_, " samples done, the result is not ready"));
    Explanation e = partial_;
    std::vector<float> mean(sum_.size());
    for (size_t i = 0; i < sum_.size(); ++i) mean[i] = static_cast<float>(sum_[i] / samples_);
    e.raw = Tensor::from_floats(shape_, mean);
    e.map = fold_channels(e.raw, gradients_->layout(), ChannelFold::max_abs);
    return e;
}

Explanation smoothgrad(const GradientEngine& gradients, const Tensor& input, const Target& target, const SmoothGradOptions& options) {
    SmoothGradRun run(gradients, input, target, options);
    run.step(run.total_units());
    return run.result();
}

}  // namespace convscope
