#include "core/explain/gradcam.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/engine/plan.h"

namespace convscope {

std::string default_gradcam_layer(const GradientEngine& gradients, const Tensor& input) {
    const Engine& engine = gradients.engine();
    RunOptions options;
    options.capture_all = true;
    RunResult run = engine.run(input, options);
    std::string best;
    for (const PlanStep& step : engine.plan_steps()) {
        if (step.outputs.empty() || step.outputs[0] < 0) continue;
        const std::string& name = engine.plan_values()[static_cast<size_t>(step.outputs[0])].name;
        auto found = run.activations.find(name);
        if (found == run.activations.end() || found->second.rank() != 4) continue;
        const Shape& s = found->second.shape();
        bool spatial = engine.layout() == DataLayout::channels_first ? (s[2] > 1 || s[3] > 1) : (s[1] > 1 || s[2] > 1);
        if (spatial && (step.op == OpKind::conv2d || step.op == OpKind::separable_conv2d || step.op == OpKind::activation ||
                        step.op == OpKind::batch_norm || step.op == OpKind::max_pool2d || step.op == OpKind::avg_pool2d ||
                        step.op == OpKind::binary || step.op == OpKind::variadic || step.op == OpKind::concat)) {
            best = name;
        }
    }
    return best;
}

Explanation gradcam(const GradientEngine& gradients, const Tensor& input, const Target& target, std::string layer, bool plus_plus) {
    if (layer.empty()) layer = default_gradcam_layer(gradients, input);
    if (layer.empty()) throw Error("Grad-CAM: the model has no convolutional feature map; name a layer with --layer");
    Gradients g = gradients.gradient_of(input, target, layer);
    const Tensor a = g.activation.to_float32();
    const Tensor d = g.activation_gradient.to_float32();
    if (a.rank() != 4 || a.shape()[0] != 1) {
        throw Error(concat("Grad-CAM needs a rank-4 feature map of one image; '", layer, "' has shape ", shape_to_string(a.shape())));
    }
    const bool channels_first = gradients.layout() == DataLayout::channels_first;
    const int64_t channels = channels_first ? a.shape()[1] : a.shape()[3];
    const int64_t h = channels_first ? a.shape()[2] : a.shape()[1];
    const int64_t w = channels_first ? a.shape()[3] : a.shape()[2];
    const int64_t pixels = h * w;
    auto at = [&](const Tensor& t, int64_t c, int64_t p) { return channels_first ? t.f32()[c * pixels + p] : t.f32()[p * channels + c]; };
    std::vector<float> weights(static_cast<size_t>(channels), 0.0f);
    for (int64_t c = 0; c < channels; ++c) {
        if (!plus_plus) {
            double sum = 0.0;
            for (int64_t p = 0; p < pixels; ++p) sum += at(d, c, p);
            weights[c] = static_cast<float>(sum / static_cast<double>(std::max<int64_t>(pixels, 1)));
            continue;
        }
        double activation_sum = 0.0;
        for (int64_t p = 0; p < pixels; ++p) activation_sum += at(a, c, p);
        double weight = 0.0;
        for (int64_t p = 0; p < pixels; ++p) {
            double grad = at(d, c, p), g2 = grad * grad, g3 = g2 * grad;
            double denominator = 2.0 * g2 + activation_sum * g3;
            double alpha = denominator != 0.0 ? g2 / denominator : 0.0;
            weight += alpha * std::max(grad, 0.0);
        }
        weights[c] = static_cast<float>(weight);
    }
    Tensor cam = Tensor::zeros(DType::f32, {h, w});
    for (int64_t p = 0; p < pixels; ++p) {
        double sum = 0.0;
        for (int64_t c = 0; c < channels; ++c) sum += weights[c] * at(a, c, p);
        cam.mutable_f32()[p] = static_cast<float>(std::max(sum, 0.0));
    }
    SpatialSize size = spatial_size(g.input_gradient, gradients.layout());
    Explanation e;
    e.raw = cam;
    e.map = upsample_map(cam, size.height, size.width);
    e.class_index = g.class_index;
    e.score = g.target_values.empty() ? 0.0f : g.target_values[0];
    return e;
}

}  // namespace convscope
