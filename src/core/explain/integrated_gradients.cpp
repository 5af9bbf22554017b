#include "core/explain/integrated_gradients.h"

#include "core/base/error.h"

namespace convscope {

Explanation integrated_gradients(const GradientEngine& gradients, const Tensor& input, const Target& target,
                                 const IntegratedGradientsOptions& options) {
    if (options.steps < 1 || options.steps > 4096) throw Error(concat("integrated gradients steps must be 1..4096, got ", options.steps));
    Tensor x = input.to_float32();
    std::vector<float> values = x.to_float_vector();
    std::vector<float> baseline(values.size(), 0.0f);
    if (!options.baseline.empty()) {
        if (options.baseline.element_count() != values.size()) {
            throw Error(concat("baseline has shape ", shape_to_string(options.baseline.shape()), ", the input ", shape_to_string(x.shape())));
        }
        baseline = options.baseline.to_float_vector();
    }
    Target fixed = target;
    Explanation e;
    if (fixed.kind == Target::Kind::class_score && fixed.class_index < 0) {
        Gradients clean = gradients.gradient_of(input, target);
        fixed.class_index = clean.class_index;
        e.score = clean.target_values.empty() ? 0.0f : clean.target_values[0];
    }
    std::vector<double> sum(values.size(), 0.0);
    for (int k = 0; k < options.steps; ++k) {
        const float alpha = (static_cast<float>(k) + 0.5f) / static_cast<float>(options.steps);
        std::vector<float> point(values.size());
        for (size_t i = 0; i < values.size(); ++i) point[i] = baseline[i] + alpha * (values[i] - baseline[i]);
        Gradients g = gradients.gradient_of(Tensor::from_floats(x.shape(), point), fixed);
        const float* d = g.input_gradient.f32();
        for (size_t i = 0; i < sum.size(); ++i) sum[i] += d[i];
        e.class_index = g.class_index;
        if (e.score == 0.0f && k + 1 == options.steps && fixed.kind != Target::Kind::class_score) e.score = g.target_values.at(0);
    }
    std::vector<float> attributions(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        attributions[i] = static_cast<float>((values[i] - baseline[i]) * sum[i] / options.steps);
    }
    e.raw = Tensor::from_floats(x.shape(), attributions);
    e.map = fold_channels(e.raw, gradients.layout(), ChannelFold::sum);
    return e;
}

}  // namespace convscope
