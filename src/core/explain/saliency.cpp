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

Explanation smoothgrad(const GradientEngine& gradients, const Tensor& input, const Target& target, const SmoothGradOptions& options) {
    if (options.samples < 1 || options.samples > 10000) throw Error(concat("SmoothGrad samples must be 1..10000, got ", options.samples));
    Tensor x = input.to_float32();
    std::vector<float> values = x.to_float_vector();
    auto [low, high] = values.empty() ? std::pair<const float*, const float*>{nullptr, nullptr}
                                      : std::minmax_element(values.data(), values.data() + values.size());
    const float sigma = values.empty() ? 0.0f : options.noise_fraction * (*high - *low);
    std::mt19937 random(options.seed);
    std::normal_distribution<float> noise(0.0f, sigma > 0.0f ? sigma : 1e-12f);
    // The class is fixed from the clean input so noise cannot switch it.
    Target fixed = target;
    Explanation e;
    if (fixed.kind == Target::Kind::class_score && fixed.class_index < 0) {
        Gradients clean = gradients.gradient_of(input, target);
        fixed.class_index = clean.class_index;
        e.score = clean.target_values.empty() ? 0.0f : clean.target_values[0];
    }
    std::vector<double> sum(values.size(), 0.0);
    for (int s = 0; s < options.samples; ++s) {
        std::vector<float> noisy = values;
        for (float& v : noisy) v += noise(random);
        Gradients g = gradients.gradient_of(Tensor::from_floats(x.shape(), noisy), fixed);
        const float* d = g.input_gradient.f32();
        for (size_t i = 0; i < sum.size(); ++i) sum[i] += d[i];
        e.class_index = g.class_index;
    }
    std::vector<float> mean(sum.size());
    for (size_t i = 0; i < sum.size(); ++i) mean[i] = static_cast<float>(sum[i] / options.samples);
    e.raw = Tensor::from_floats(x.shape(), mean);
    e.map = fold_channels(e.raw, gradients.layout(), ChannelFold::max_abs);
    return e;
}

}  // namespace convscope
