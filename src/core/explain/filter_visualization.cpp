#include "core/explain/filter_visualization.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/base/error.h"
#include "core/explain/explanation.h"

namespace convscope {

namespace {

// Element offset of (channel, y, x) in a batch-1 image of either layout.
struct ImageIndex {
    ImageIndex(const SpatialSize& image_size, bool first) : size(image_size), channels_first(first) {}
    SpatialSize size;
    bool channels_first = false;
    int64_t at(int64_t c, int64_t y, int64_t x) const {
        return channels_first ? (c * size.height + y) * size.width + x : (y * size.width + x) * size.channels + c;
    }
};

// out(y, x) = in(y - dy, x - dx), wrapping around, so shifting back by
// (-dy, -dx) is exact.
std::vector<float> rolled(const std::vector<float>& in, const ImageIndex& index, int64_t dy, int64_t dx) {
    std::vector<float> out(in.size());
    const int64_t h = index.size.height, w = index.size.width;
    for (int64_t c = 0; c < index.size.channels; ++c) {
        for (int64_t y = 0; y < h; ++y) {
            const int64_t sy = ((y - dy) % h + h) % h;
            for (int64_t x = 0; x < w; ++x) {
                const int64_t sx = ((x - dx) % w + w) % w;
                out[static_cast<size_t>(index.at(c, y, x))] = in[static_cast<size_t>(index.at(c, sy, sx))];
            }
        }
    }
    return out;
}

// Separable 3-tap Gaussian per channel, edges clamped.
void blur(std::vector<float>& values, const ImageIndex& index, float sigma) {
    const float side = std::exp(-1.0f / (2.0f * sigma * sigma));
    const float norm = 1.0f + 2.0f * side;
    const float weights[3] = {side / norm, 1.0f / norm, side / norm};
    const int64_t h = index.size.height, w = index.size.width;
    std::vector<float> temp(values.size());
    for (int pass = 0; pass < 2; ++pass) {
        const std::vector<float>& source = pass == 0 ? values : temp;
        std::vector<float>& target = pass == 0 ? temp : values;
        for (int64_t c = 0; c < index.size.channels; ++c) {
            for (int64_t y = 0; y < h; ++y) {
                for (int64_t x = 0; x < w; ++x) {
                    float sum = 0.0f;
                    for (int k = -1; k <= 1; ++k) {
                        const int64_t sy = pass == 1 ? std::clamp<int64_t>(y + k, 0, h - 1) : y;
                        const int64_t sx = pass == 0 ? std::clamp<int64_t>(x + k, 0, w - 1) : x;
                        sum += weights[k + 1] * source[static_cast<size_t>(index.at(c, sy, sx))];
                    }
                    target[static_cast<size_t>(index.at(c, y, x))] = sum;
                }
            }
        }
    }
}

}  // namespace

FilterVisualizer::FilterVisualizer(const GradientEngine& gradients, const Target& target, const FilterVisualizationOptions& options)
    : gradients_(&gradients), target_(target), options_(options), random_(options.seed), shift_(-std::max(0, options.jitter), std::max(0, options.jitter)) {
    if (options.steps < 1 || options.steps > 100000) throw Error(concat("filter visualisation: steps must be 1..100000, got ", options.steps));
    if (!(options.step_size > 0.0f) || !std::isfinite(options.step_size)) {
        throw Error(concat("filter visualisation: step size must be positive, got ", options.step_size));
    }
    if (!(options.value_high > options.value_low)) {
        throw Error(concat("filter visualisation: value range [", options.value_low, ", ", options.value_high, "] is empty"));
    }
    if (options.jitter < 0 || options.blur_every < 0 || !(options.blur_sigma > 0.0f)) {
        throw Error("filter visualisation: jitter and blur_every must be >= 0 and blur_sigma > 0");
    }
    if (target.kind == Target::Kind::class_score && target.class_index < 0) {
        throw Error("filter visualisation of a class needs the class index (there is no picture to take the top class from)");
    }
    shape_ = gradients.engine().input_shape();
    if (shape_.size() == 4 && shape_[0] < 0) shape_[0] = 1;
    for (int64_t d : shape_) {
        if (d <= 0) throw Error(concat("filter visualisation needs a fixed input size; the model's input is ", shape_to_string(shape_)));
    }
    channels_first_ = gradients.layout() == DataLayout::channels_first;
    size_ = spatial_size(Tensor::zeros(DType::f32, shape_), gradients.layout());

    std::uniform_real_distribution<float> noise(-options.start_noise, options.start_noise);
    const float middle = 0.5f * (options.value_low + options.value_high);
    image_.resize(shape_element_count(shape_));
    for (float& v : image_) v = std::clamp(middle + noise(random_), options.value_low, options.value_high);
    initial_objective_ = gradients.gradient_of(Tensor::from_floats(shape_, image_), target_).target_values.at(0);
}

int FilterVisualizer::step(int units) {
    const ImageIndex index(size_, channels_first_);
    const FilterVisualizationOptions& o = options_;
    int count = 0;
    for (; count < units && !done(); ++count) {
        const int64_t dy = o.jitter > 0 ? shift_(random_) : 0, dx = o.jitter > 0 ? shift_(random_) : 0;
        Gradients g = gradients_->gradient_of(Tensor::from_floats(shape_, rolled(image_, index, dy, dx)), target_);
        std::vector<float> gradient = rolled(g.input_gradient.to_float_vector(), index, -dy, -dx);
        double square_sum = 0.0;
        for (float v : gradient) square_sum += static_cast<double>(v) * v;
        const double rms = std::sqrt(square_sum / static_cast<double>(std::max<size_t>(gradient.size(), 1)));
        objective_per_step_.push_back(g.target_values.at(0));
        if (rms == 0.0) {
            // The unit is silent on the whole picture (a ReLU channel below
            // zero everywhere), so there is no direction to climb: kick the
            // picture with fresh noise until some part of it makes the unit
            // fire.
            std::uniform_real_distribution<float> kick(-0.25f * (o.value_high - o.value_low), 0.25f * (o.value_high - o.value_low));
            for (float& v : image_) v = std::clamp(v + kick(random_), o.value_low, o.value_high);
        } else if (std::isfinite(rms)) {
            const float scale = static_cast<float>(o.step_size / rms);
            for (size_t i = 0; i < image_.size(); ++i) image_[i] = std::clamp(image_[i] + scale * gradient[i], o.value_low, o.value_high);
        }
        if (o.blur_every > 0 && units_done() % o.blur_every == 0) blur(image_, index, o.blur_sigma);
    }
    return count;
}

FilterVisualization FilterVisualizer::result() const {
    FilterVisualization result;
    result.initial_objective = initial_objective_;
    result.objective_per_step = objective_per_step_;
    result.image = image();
    result.final_objective = gradients_->gradient_of(result.image, target_).target_values.at(0);
    return result;
}

FilterVisualization visualize_filter(const GradientEngine& gradients, const Target& target,
                                     const FilterVisualizationOptions& options) {
    FilterVisualizer run(gradients, target, options);
    if (!options.on_step) {
        run.step(run.total_units());
        return run.result();
    }
    while (!run.done()) {
        run.step(1);
        if (!options.on_step(run.units_done(), run.last_objective(), run.image())) break;
    }
    return run.result();
}

}  // namespace convscope
