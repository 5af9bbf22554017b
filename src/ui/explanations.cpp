#include "ui/explanations.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/explain/explanation.h"
#include "core/explain/gradcam.h"
#include "core/explain/saliency.h"
#include "core/inspect/kernels.h"
#include "ui/heatmap.h"

namespace convscope::ui {

namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Work per frame for the methods spread over frames: small enough that one
// piece stays well under a frame on the demo models.
constexpr int smoothgrad_samples_per_frame = 2;
constexpr int ig_steps_per_frame = 4;
constexpr int occlusion_windows_per_frame = 8;
constexpr size_t max_hook_values = 4096;

// A batch-1 float copy of the preprocessed input ([H,W,C] gets the batch axis).
Tensor batch_one(const Tensor& input) {
    Tensor x = input.to_float32();
    Shape shape = x.shape();
    if (shape.size() == 3) shape.insert(shape.begin(), 1);
    return x.reshaped(shape);
}

bool batch_is_free(const Engine& engine) {
    return !engine.inputs().empty() && !engine.inputs()[0].shape.empty() && engine.inputs()[0].shape[0] < 0;
}

// Element offset of (channel, y, x) in one batch item of either layout.
int64_t item_offset(const SpatialSize& size, bool channels_first, int64_t c, int64_t y, int64_t x) {
    return channels_first ? (c * size.height + y) * size.width + x : (y * size.width + x) * size.channels + c;
}

// H x W mean over channels of a batch-1 image, for display.
std::vector<float> channel_mean(const std::vector<float>& image, const SpatialSize& size, bool channels_first) {
    std::vector<float> out(static_cast<size_t>(size.height * size.width), 0.0f);
    for (int64_t y = 0; y < size.height; ++y)
        for (int64_t x = 0; x < size.width; ++x) {
            float sum = 0.0f;
            for (int64_t c = 0; c < size.channels; ++c) sum += image[static_cast<size_t>(item_offset(size, channels_first, c, y, x))];
            out[static_cast<size_t>(y * size.width + x)] = sum / static_cast<float>(std::max<int64_t>(1, size.channels));
        }
    return out;
}

uint32_t fnv1a(const std::vector<float>& values) {
    uint32_t hash = 2166136261u;
    const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
    for (size_t i = 0; i < values.size() * sizeof(float); ++i) {
        hash ^= bytes[i];
        hash *= 16777619u;
    }
    return hash;
}

}  // namespace

const char* method_id(ExplainMethod method) {
    switch (method) {
        case ExplainMethod::saliency: return "saliency";
        case ExplainMethod::smoothgrad: return "smoothgrad";
        case ExplainMethod::integrated_gradients: return "ig";
        case ExplainMethod::gradcam: return "gradcam";
        case ExplainMethod::gradcam_plus_plus: return "gradcam++";
        case ExplainMethod::occlusion: return "occlusion";
    }
    return "?";
}

const char* method_title(ExplainMethod method) {
    switch (method) {
        case ExplainMethod::saliency: return "Saliency";
        case ExplainMethod::smoothgrad: return "SmoothGrad";
        case ExplainMethod::integrated_gradients: return "Integrated Gradients";
        case ExplainMethod::gradcam: return "Grad-CAM";
        case ExplainMethod::gradcam_plus_plus: return "Grad-CAM++";
        case ExplainMethod::occlusion: return "Occlusion";
    }
    return "?";
}

const char* method_help(ExplainMethod method) {
    switch (method) {
        case ExplainMethod::saliency:
            return "Gradient saliency: how much the class score changes when each pixel changes a little\n"
                   "(|d score / d pixel|, largest over channels). Bright = sensitive, not necessarily important.";
        case ExplainMethod::smoothgrad:
            return "SmoothGrad: the saliency gradient averaged over noisy copies of the image,\n"
                   "which removes much of the pixel-level noise of plain saliency.";
        case ExplainMethod::integrated_gradients:
            return "Integrated Gradients: each pixel's share of the class score, integrating the gradient\n"
                   "along the path from a black image to this one. Red adds to the score, blue takes away;\n"
                   "the shares sum to score(image) - score(black).";
        case ExplainMethod::gradcam:
            return "Grad-CAM: the chosen conv layer's feature maps weighted by the mean gradient of the class\n"
                   "score, ReLU'd and stretched to the image: the coarse regions that speak for this class.";
        case ExplainMethod::gradcam_plus_plus:
            return "Grad-CAM++: like Grad-CAM but each channel's weight counts only positive gradients,\n"
                   "weighted per position; better when the class appears in several places.";
        case ExplainMethod::occlusion:
            return "Occlusion: how much the class score drops when a window of the image is covered\n"
                   "with the fill value (mean drop over windows covering each pixel). Red = the score\n"
                   "needs this region; blue = covering it raises the score.";
    }
    return "";
}

bool method_is_signed(ExplainMethod method) {
    return method == ExplainMethod::integrated_gradients || method == ExplainMethod::occlusion;
}

bool ExplainSettings::operator==(const ExplainSettings& o) const {
    return class_index == o.class_index && gradcam_layer == o.gradcam_layer && smoothgrad_samples == o.smoothgrad_samples &&
           smoothgrad_noise == o.smoothgrad_noise && ig_steps == o.ig_steps && occlusion_window == o.occlusion_window &&
           occlusion_stride == o.occlusion_stride && occlusion_fill == o.occlusion_fill;
}

bool Explanations::Key::operator==(const Key& o) const {
    return engine == o.engine && generation == o.generation && image_id == o.image_id && class_index == o.class_index &&
           settings == o.settings;
}

int Explanations::completed() const {
    int count = 0;
    for (const MethodResult& result : results_) count += result.done ? 1 : 0;
    return count;
}

void Explanations::reset_results() {
    for (int m = 0; m < explain_method_count; ++m) {
        results_[m] = MethodResult{};
        partial_[m] = Accumulator{};
    }
    error_.clear();
    gradcam_layer_.clear();
    ++version_;
}

void Explanations::update(Inspection& inspection, std::chrono::milliseconds budget) {
    if (!active_) return;
    const Clock::time_point start = Clock::now();
    const Engine* engine = inspection.engine();
    const int current = inspection.current_image();
    // The gradient engine refers to the inspector's Engine, which is rebuilt
    // for a new model (maybe at the same address): the results generation
    // tells the two apart.
    if (!engine) {
        gradients_.reset();
        gradients_engine_ = nullptr;
        filter_.running = false;
        return;
    }
    if (!gradients_ || gradients_engine_ != engine || gradients_generation_ != inspection.results_generation()) {
        const bool new_model = gradients_engine_ != engine || !gradients_;
        gradients_.reset();
        filter_.running = false;
        try {
            const Clock::time_point build_start = Clock::now();
            gradients_.emplace(GradientEngine::build(*inspection.model(), *engine));
            build_ms_ = milliseconds_since(build_start);
        } catch (const std::exception& failure) {
            error_ = concat("gradients: ", failure.what());
            return;
        }
        gradients_engine_ = engine;
        gradients_generation_ = inspection.results_generation();
        conv_layers_.clear();
        conv_channels_.clear();
        for (const Layer& layer : inspection.model()->layers) {
            if (!is_conv2d_layer(*inspection.model(), layer)) continue;
            conv_layers_.push_back(layer.name);
            std::optional<ConvKernels> kernels;
            try {
                kernels = conv_kernels(*inspection.model(), layer);
            } catch (const std::exception&) {
                // No readable kernel: the channel count stays unknown (0).
            }
            conv_channels_.push_back(kernels ? kernels->out_channels : 0);
        }
        if (new_model) settings_.gradcam_layer.clear();
    }

    // Filter steps first: they are what the user is watching form.
    filter_steps(start + budget);

    if (current < 0) return;
    const Tensor* preprocessed = inspection.request_input(current);
    const Prediction* prediction = inspection.request_prediction(current);
    if (!preprocessed || !prediction || prediction->order.empty()) return;
    Key key;
    key.engine = engine;
    key.generation = inspection.results_generation();
    key.image_id = inspection.images()[static_cast<size_t>(current)].id;
    key.class_index = settings_.class_index >= 0 ? settings_.class_index : static_cast<int64_t>(prediction->order[0]);
    key.settings = settings_;
    const Tensor input = batch_one(*preprocessed);
    if (!(key == key_)) {
        key_ = key;
        reset_results();
        const SpatialSize size = spatial_size(input, gradients_->layout());
        input_picture_.height = size.height;
        input_picture_.width = size.width;
        input_picture_.values = channel_mean(input.to_float_vector(), size, gradients_->layout() == DataLayout::channels_first);
        input_picture_.version = version_;
    }
    if (!error_.empty()) return;
    // One piece of work per method at most; stop when the budget is spent.
    for (int m = 0; m < explain_method_count && Clock::now() - start < budget; ++m) {
        if (results_[m].done) continue;
        const Clock::time_point piece_start = Clock::now();
        try {
            compute_step(static_cast<ExplainMethod>(m), input);
        } catch (const std::exception& failure) {
            results_[m].error = failure.what();
            results_[m].done = true;
        }
        results_[m].milliseconds += milliseconds_since(piece_start);
        results_[m].frames += 1;
    }
}

void Explanations::finish(ExplainMethod method, const Tensor& map, const Shape& raw_shape, float score) {
    MethodResult& result = results_[static_cast<int>(method)];
    result.map.height = map.shape().at(0);
    result.map.width = map.shape().at(1);
    result.map.values = map.to_float_vector();
    result.map.version = ++version_;
    result.raw_shape = raw_shape;
    const ValueRange range = value_range(result.map.values.data(), result.map.values.size());
    result.low = range.low;
    result.high = range.high;
    result.score = score;
    result.progress = 1.0f;
    result.done = true;
}

void Explanations::compute_step(ExplainMethod method, const Tensor& input) {
    const GradientEngine& gradients = *gradients_;
    const Target target = Target::class_score(key_.class_index);
    const DataLayout layout = gradients.layout();
    const bool channels_first = layout == DataLayout::channels_first;
    const SpatialSize size = spatial_size(input, layout);
    const int64_t item = static_cast<int64_t>(input.element_count());
    MethodResult& result = results_[static_cast<int>(method)];
    Accumulator& partial = partial_[static_cast<int>(method)];
    switch (method) {
        case ExplainMethod::saliency: {
            Explanation e = saliency(gradients, input, target);
            finish(method, e.map, e.raw.shape(), e.score);
            return;
        }
        case ExplainMethod::gradcam:
        case ExplainMethod::gradcam_plus_plus: {
            if (gradcam_layer_.empty()) {
                gradcam_layer_ = key_.settings.gradcam_layer.empty() ? default_gradcam_layer(gradients, input) : key_.settings.gradcam_layer;
            }
            Explanation e = gradcam(gradients, input, target, gradcam_layer_, method == ExplainMethod::gradcam_plus_plus);
            finish(method, e.map, e.raw.shape(), e.score);
            return;
        }
        case ExplainMethod::smoothgrad: {
            // Chunks of the core's SmoothGrad with their own seeds; the mean
            // of the chunks' mean gradients is the mean over all samples.
            const int total = std::max(1, key_.settings.smoothgrad_samples);
            const int count = std::min(smoothgrad_samples_per_frame, total - partial.done);
            SmoothGradOptions options;
            options.samples = count;
            options.noise_fraction = key_.settings.smoothgrad_noise;
            options.seed = static_cast<uint32_t>(1 + partial.done);
            Explanation e = smoothgrad(gradients, input, target, options);
            std::vector<float> mean = e.raw.to_float_vector();
            if (partial.sum.empty()) partial.sum.assign(mean.size(), 0.0f);
            for (size_t i = 0; i < mean.size(); ++i) partial.sum[i] += mean[i] * static_cast<float>(count);
            partial.done += count;
            partial.clean_score = e.score;
            result.progress = static_cast<float>(partial.done) / static_cast<float>(total);
            if (partial.done >= total) {
                for (float& v : partial.sum) v /= static_cast<float>(total);
                Tensor raw = Tensor::from_floats(e.raw.shape(), partial.sum);
                finish(method, fold_channels(raw, layout, ChannelFold::max_abs), raw.shape(), partial.clean_score);
            }
            return;
        }
        case ExplainMethod::integrated_gradients: {
            // Midpoint Riemann sum from a zero baseline, a batch of path
            // points per frame: attribution = x * mean_k grad(x (k + 1/2) / m).
            const int total = std::max(1, key_.settings.ig_steps);
            const int count = std::min(batch_is_free(gradients.engine()) ? ig_steps_per_frame : 1, total - partial.done);
            Shape batch_shape = input.shape();
            batch_shape[0] = count;
            std::vector<float> batch(static_cast<size_t>(item * count));
            const float* x = input.f32();
            for (int k = 0; k < count; ++k) {
                const float alpha = (static_cast<float>(partial.done + k) + 0.5f) / static_cast<float>(total);
                for (int64_t i = 0; i < item; ++i) batch[static_cast<size_t>(k * item + i)] = alpha * x[i];
            }
            Gradients g = gradients.gradient_of(Tensor::from_floats(batch_shape, batch), target);
            std::vector<float> grad = g.input_gradient.to_float_vector();
            if (partial.sum.empty()) partial.sum.assign(static_cast<size_t>(item), 0.0f);
            for (int k = 0; k < count; ++k)
                for (int64_t i = 0; i < item; ++i) partial.sum[static_cast<size_t>(i)] += grad[static_cast<size_t>(k * item + i)];
            partial.done += count;
            result.progress = static_cast<float>(partial.done) / static_cast<float>(total);
            if (partial.done >= total) {
                std::vector<float> attributions(static_cast<size_t>(item));
                for (int64_t i = 0; i < item; ++i) attributions[static_cast<size_t>(i)] = x[i] * partial.sum[static_cast<size_t>(i)] / static_cast<float>(total);
                Tensor raw = Tensor::from_floats(input.shape(), attributions);
                const float score = gradients.scores(input, key_.class_index).at(0);
                finish(method, fold_channels(raw, layout, ChannelFold::sum), raw.shape(), score);
            }
            return;
        }
        case ExplainMethod::occlusion: {
            // The core's occlusion (core/explain/occlusion.cpp) in pieces: a
            // batch of windows per frame, the map assembled at the end.
            const int64_t window = std::max(1, key_.settings.occlusion_window);
            const int64_t stride = std::max(1, key_.settings.occlusion_stride);
            const int64_t rows = size.height <= window ? 1 : (size.height - window + stride - 1) / stride + 1;
            const int64_t columns = size.width <= window ? 1 : (size.width - window + stride - 1) / stride + 1;
            const int64_t total = rows * columns;
            if (partial.sum.empty()) {
                partial.sum.assign(static_cast<size_t>(total), 0.0f);
                partial.clean_score = gradients.scores(input, key_.class_index).at(0);
            }
            const int64_t count = std::min<int64_t>(batch_is_free(gradients.engine()) ? occlusion_windows_per_frame : 4, total - partial.done);
            const bool free = batch_is_free(gradients.engine());
            for (int64_t first = partial.done; first < partial.done + count; first += free ? count : 1) {
                const int64_t n = free ? count : 1;
                Shape batch_shape = input.shape();
                batch_shape[0] = n;
                std::vector<float> batch(static_cast<size_t>(item * n));
                for (int64_t k = 0; k < n; ++k) {
                    std::memcpy(batch.data() + k * item, input.f32(), static_cast<size_t>(item) * sizeof(float));
                    const int64_t y0 = ((first + k) / columns) * stride, x0 = ((first + k) % columns) * stride;
                    for (int64_t yy = y0; yy < std::min(size.height, y0 + window); ++yy)
                        for (int64_t xx = x0; xx < std::min(size.width, x0 + window); ++xx)
                            for (int64_t c = 0; c < size.channels; ++c)
                                batch[static_cast<size_t>(k * item + item_offset(size, channels_first, c, yy, xx))] = key_.settings.occlusion_fill;
                }
                std::vector<float> scores = gradients.scores(Tensor::from_floats(batch_shape, batch), key_.class_index);
                for (int64_t k = 0; k < n; ++k) partial.sum[static_cast<size_t>(first + k)] = partial.clean_score - scores.at(static_cast<size_t>(k));
            }
            partial.done += static_cast<int>(count);
            result.progress = static_cast<float>(partial.done) / static_cast<float>(total);
            if (partial.done >= total) {
                std::vector<float> map(static_cast<size_t>(size.height * size.width), 0.0f);
                std::vector<int> covered(map.size(), 0);
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t c = 0; c < columns; ++c)
                        for (int64_t yy = r * stride; yy < std::min(size.height, r * stride + window); ++yy)
                            for (int64_t xx = c * stride; xx < std::min(size.width, c * stride + window); ++xx) {
                                map[static_cast<size_t>(yy * size.width + xx)] += partial.sum[static_cast<size_t>(r * columns + c)];
                                ++covered[static_cast<size_t>(yy * size.width + xx)];
                            }
                for (size_t p = 0; p < map.size(); ++p) if (covered[p]) map[p] /= static_cast<float>(covered[p]);
                finish(method, Tensor::from_floats({size.height, size.width}, map), Shape{rows, columns}, partial.clean_score);
            }
            return;
        }
    }
}

void Explanations::start_filter(const std::string& layer, int64_t channel, int max_steps) {
    filter_ = FilterRun{};
    filter_.layer = layer;
    filter_.channel = channel;
    filter_.max_steps = std::clamp(max_steps, 1, 100000);
    filter_.running = true;
    filter_image_.clear();
    filter_random_.seed(1);
    activate();
}

// Gradient ascent on the channel's mean activation, resumable across frames
// (the core's visualize_filter runs all its steps in one call): each step is
// normalised by the gradient's RMS, taken on a copy shifted by up to one
// pixel (jitter), and every fourth step blurs the picture slightly, as in
// core/explain/filter_visualization.h.
void Explanations::filter_steps(Clock::time_point deadline) {
    if (!filter_.running || !gradients_) return;
    const GradientEngine& gradients = *gradients_;
    const Target target = Target::channel_mean(filter_.layer, filter_.channel);
    const bool channels_first = gradients.layout() == DataLayout::channels_first;
    const float low = 0.0f, high = 1.0f, step_size = 0.02f;
    try {
        if (filter_image_.empty()) {
            filter_shape_ = gradients.engine().input_shape();
            if (filter_shape_.size() == 4 && filter_shape_[0] < 0) filter_shape_[0] = 1;
            for (int64_t d : filter_shape_) {
                if (d <= 0) throw Error(concat("filter visualisation needs a fixed input size; the model's input is ", shape_to_string(filter_shape_)));
            }
            std::uniform_real_distribution<float> noise(-0.05f, 0.05f);
            filter_image_.resize(static_cast<size_t>(shape_element_count(filter_shape_)));
            for (float& v : filter_image_) v = 0.5f + noise(filter_random_);
            filter_.initial_objective = gradients.gradient_of(Tensor::from_floats(filter_shape_, filter_image_), target).target_values.at(0);
            filter_.objective = filter_.initial_objective;
        }
        const SpatialSize size = spatial_size(Tensor::zeros(DType::f32, filter_shape_), gradients.layout());
        const int64_t h = size.height, w = size.width;
        std::uniform_int_distribution<int> shift(-1, 1);
        for (int n = 0; n < filter_.steps_per_frame && filter_.step < filter_.max_steps; ++n) {
            if (n > 0 && Clock::now() >= deadline) break;
            const Clock::time_point step_start = Clock::now();
            const int64_t dy = shift(filter_random_), dx = shift(filter_random_);
            std::vector<float> shifted(filter_image_.size());
            for (int64_t c = 0; c < size.channels; ++c)
                for (int64_t y = 0; y < h; ++y)
                    for (int64_t x = 0; x < w; ++x)
                        shifted[static_cast<size_t>(item_offset(size, channels_first, c, y, x))] =
                            filter_image_[static_cast<size_t>(item_offset(size, channels_first, c, ((y - dy) % h + h) % h, ((x - dx) % w + w) % w))];
            Gradients g = gradients.gradient_of(Tensor::from_floats(filter_shape_, shifted), target);
            const std::vector<float> shifted_gradient = g.input_gradient.to_float_vector();
            std::vector<float> gradient(shifted_gradient.size());
            double square_sum = 0.0;
            for (int64_t c = 0; c < size.channels; ++c)
                for (int64_t y = 0; y < h; ++y)
                    for (int64_t x = 0; x < w; ++x) {
                        const float v = shifted_gradient[static_cast<size_t>(item_offset(size, channels_first, c, ((y + dy) % h + h) % h, ((x + dx) % w + w) % w))];
                        gradient[static_cast<size_t>(item_offset(size, channels_first, c, y, x))] = v;
                        square_sum += static_cast<double>(v) * v;
                    }
            const double rms = std::sqrt(square_sum / static_cast<double>(std::max<size_t>(1, gradient.size())));
            filter_.objective = g.target_values.at(0);
            if (rms == 0.0) {
                // A silent unit has no direction to climb: kick with noise.
                std::uniform_real_distribution<float> kick(-0.25f, 0.25f);
                for (float& v : filter_image_) v = std::clamp(v + kick(filter_random_), low, high);
            } else if (std::isfinite(rms)) {
                const float scale = static_cast<float>(step_size / rms);
                for (size_t i = 0; i < filter_image_.size(); ++i) filter_image_[i] = std::clamp(filter_image_[i] + scale * gradient[i], low, high);
            }
            ++filter_.step;
            if (filter_.step % 4 == 0) {
                // Separable 3-tap blur (sigma 0.5), edges clamped.
                const float side = std::exp(-2.0f), norm = 1.0f + 2.0f * side;
                for (int pass = 0; pass < 2; ++pass) {
                    std::vector<float> source = filter_image_;
                    for (int64_t c = 0; c < size.channels; ++c)
                        for (int64_t y = 0; y < h; ++y)
                            for (int64_t x = 0; x < w; ++x) {
                                float sum = 0.0f;
                                for (int k = -1; k <= 1; ++k) {
                                    const int64_t sy = pass == 1 ? std::clamp<int64_t>(y + k, 0, h - 1) : y;
                                    const int64_t sx = pass == 0 ? std::clamp<int64_t>(x + k, 0, w - 1) : x;
                                    sum += (k == 0 ? 1.0f : side) / norm * source[static_cast<size_t>(item_offset(size, channels_first, c, sy, sx))];
                                }
                                filter_image_[static_cast<size_t>(item_offset(size, channels_first, c, y, x))] = sum;
                            }
                }
            }
            filter_.milliseconds += milliseconds_since(step_start);
        }
        filter_.picture.height = h;
        filter_.picture.width = w;
        filter_.picture.values = channel_mean(filter_image_, size, channels_first);
        filter_.picture.version = ++version_;
        if (filter_.step >= filter_.max_steps) filter_.running = false;
    } catch (const std::exception& failure) {
        filter_.error = failure.what();
        filter_.running = false;
    }
}

std::string Explanations::apply_command(const std::string& text) {
    nlohmann::json command = nlohmann::json::parse(text, nullptr, false);
    if (command.is_discarded() || !command.is_object()) return "explain: expected a JSON object, got " + text.substr(0, 80);
    activate();
    try {
        ExplainSettings next = settings_;
        if (command.contains("class")) next.class_index = command["class"].get<int64_t>();
        if (command.contains("gradcam_layer")) next.gradcam_layer = command["gradcam_layer"].get<std::string>();
        if (command.contains("window")) next.occlusion_window = std::clamp(command["window"].get<int>(), 1, 4096);
        if (command.contains("stride")) next.occlusion_stride = std::clamp(command["stride"].get<int>(), 1, 4096);
        if (command.contains("fill")) next.occlusion_fill = command["fill"].get<float>();
        if (command.contains("smoothgrad_samples")) next.smoothgrad_samples = std::clamp(command["smoothgrad_samples"].get<int>(), 1, 1024);
        if (command.contains("ig_steps")) next.ig_steps = std::clamp(command["ig_steps"].get<int>(), 1, 1024);
        settings_ = next;
        if (command.contains("filter")) {
            const nlohmann::json& filter = command["filter"];
            start_filter(filter.value("layer", std::string()), filter.value("channel", int64_t{0}), filter.value("steps", 256));
        }
        if (command.value("stop_filter", false)) stop_filter();
    } catch (const std::exception& failure) {
        return concat("explain: ", failure.what());
    }
    return {};
}

std::string Explanations::to_json() const {
    nlohmann::json out;
    out["active"] = active_;
    out["class"] = key_.class_index;
    out["gradcam_layer"] = gradcam_layer_;
    out["conv_layers"] = conv_layers_;
    out["conv_channels"] = conv_channels_;
    out["completed"] = completed();
    out["error"] = error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(error_);
    out["gradient_build_ms"] = build_ms_;
    out["settings"] = {{"class", settings_.class_index}, {"gradcam_layer", settings_.gradcam_layer},
                       {"window", settings_.occlusion_window}, {"stride", settings_.occlusion_stride},
                       {"fill", settings_.occlusion_fill}, {"smoothgrad_samples", settings_.smoothgrad_samples},
                       {"ig_steps", settings_.ig_steps}};
    nlohmann::json methods = nlohmann::json::object();
    for (int m = 0; m < explain_method_count; ++m) {
        const MethodResult& r = results_[m];
        nlohmann::json entry = {{"done", r.done}, {"progress", r.progress}, {"ms", r.milliseconds}, {"frames", r.frames}};
        if (!r.error.empty()) entry["error"] = r.error;
        if (r.done && r.error.empty()) {
            double sum = 0.0, abs_sum = 0.0;
            for (float v : r.map.values) {
                sum += v;
                abs_sum += std::fabs(v);
            }
            entry["shape"] = {r.map.height, r.map.width};
            entry["raw_shape"] = r.raw_shape;
            entry["min"] = r.low;
            entry["max"] = r.high;
            entry["sum"] = sum;
            entry["abs_sum"] = abs_sum;
            entry["fnv1a"] = fnv1a(r.map.values);
            entry["score"] = r.score;
            if (r.map.values.size() <= max_hook_values) entry["values"] = r.map.values;
        }
        methods[method_id(static_cast<ExplainMethod>(m))] = entry;
    }
    out["methods"] = methods;
    double picture_sum = 0.0;
    for (float v : filter_.picture.values) picture_sum += v;
    out["filter"] = {{"running", filter_.running}, {"layer", filter_.layer}, {"channel", filter_.channel},
                     {"step", filter_.step}, {"max_steps", filter_.max_steps},
                     {"initial_objective", filter_.initial_objective}, {"objective", filter_.objective},
                     {"ms", filter_.milliseconds}, {"picture_shape", {filter_.picture.height, filter_.picture.width}},
                     {"picture_sum", picture_sum},
                     {"error", filter_.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(filter_.error)}};
    return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace convscope::ui
