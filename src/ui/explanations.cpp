#include "ui/explanations.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/base/error.h"
#include "core/explain/explanation.h"
#include "core/explain/filter_visualization.h"
#include "core/explain/gradcam.h"
#include "core/explain/integrated_gradients.h"
#include "core/explain/occlusion.h"
#include "core/explain/saliency.h"
#include "core/inspect/kernels.h"
#include "ui/value_range.h"

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
constexpr int occlusion_windows_per_frame = 8;          // one engine run, when the batch axis is free
constexpr int occlusion_single_windows_per_frame = 4;   // separate runs, when it is not

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
    return model_generation == o.model_generation && generation == o.generation && image_id == o.image_id && class_index == o.class_index &&
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
    }
    smoothgrad_run_.reset();
    ig_run_.reset();
    occlusion_run_.reset();
    error_.clear();
    gradcam_layer_.clear();
    ++version_;
}

void Explanations::drop_gradients() {
    // The runs and the filter visualiser refer to the gradient engine.
    smoothgrad_run_.reset();
    ig_run_.reset();
    occlusion_run_.reset();
    filter_run_.reset();
    gradients_.reset();
}

// The gradient engine refers to the inspector's Engine, which is rebuilt
// for a new model (maybe at the same address): the model generation tells
// the two apart, the results generation a new preprocessing. False while
// there is none (no engine, or building it failed: error_ says why).
bool Explanations::ensure_gradients(Inspection& inspection) {
    const Engine* engine = inspection.engine();
    if (!engine) {
        drop_gradients();
        filter_.running = false;
        gradients_model_generation_ = 0;
        return false;
    }
    if (gradients_ && gradients_model_generation_ == inspection.model_generation() &&
        gradients_generation_ == inspection.results_generation()) {
        return true;
    }
    const bool new_model = gradients_model_generation_ != inspection.model_generation() || !gradients_;
    // A visualisation of the old model's (or old gradient engine's) unit
    // stops; one asked for before the first build starts now.
    if (gradients_) filter_.running = false;
    drop_gradients();
    try {
        const Clock::time_point build_start = Clock::now();
        gradients_.emplace(GradientEngine::build(*inspection.model(), *engine));
        build_ms_ = milliseconds_since(build_start);
    } catch (const std::exception& failure) {
        error_ = concat("gradients: ", failure.what());
        return false;
    }
    gradients_model_generation_ = inspection.model_generation();
    gradients_generation_ = inspection.results_generation();
    list_conv_layers(*inspection.model());
    if (new_model) settings_.gradcam_layer.clear();
    return true;
}

void Explanations::list_conv_layers(const Model& model) {
    conv_layers_.clear();
    conv_channels_.clear();
    for (const Layer& layer : model.layers) {
        if (!is_conv2d_layer(model, layer)) continue;
        conv_layers_.push_back(layer.name);
        std::optional<ConvKernels> kernels;
        try {
            kernels = conv_kernels(model, layer);
        } catch (const std::exception&) {
            // No readable kernel: the channel count stays unknown (0).
        }
        conv_channels_.push_back(kernels ? kernels->out_channels : 0);
    }
}

void Explanations::update(Inspection& inspection, std::chrono::milliseconds budget) {
    if (!active_) return;
    const Clock::time_point start = Clock::now();
    const int current = inspection.current_image();
    if (!ensure_gradients(inspection)) return;

    // Filter steps first: they are what the user is watching form.
    filter_steps(start + budget);

    if (current < 0) return;
    const Tensor* preprocessed = inspection.request_input(current);
    const Prediction* prediction = inspection.request_prediction(current);
    if (!preprocessed || !prediction || prediction->order.empty()) return;
    Key key;
    key.model_generation = inspection.model_generation();
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
    MethodResult& result = results_[static_cast<int>(method)];
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
            if (!smoothgrad_run_) {
                SmoothGradOptions options;
                options.samples = std::max(1, key_.settings.smoothgrad_samples);
                options.noise_fraction = key_.settings.smoothgrad_noise;
                smoothgrad_run_ = std::make_unique<SmoothGradRun>(gradients, input, target, options);
            }
            smoothgrad_run_->step(smoothgrad_samples_per_frame);
            result.progress = smoothgrad_run_->progress();
            if (smoothgrad_run_->done()) {
                Explanation e = smoothgrad_run_->result();
                finish(method, e.map, e.raw.shape(), e.score);
            }
            return;
        }
        case ExplainMethod::integrated_gradients: {
            if (!ig_run_) {
                IntegratedGradientsOptions options;
                options.steps = std::max(1, key_.settings.ig_steps);
                ig_run_ = std::make_unique<IntegratedGradientsRun>(gradients, input, target, options);
            }
            ig_run_->step(ig_steps_per_frame);
            result.progress = ig_run_->progress();
            if (ig_run_->done()) {
                Explanation e = ig_run_->result();
                // The core reports no score for an explicit class; the panel shows the logit.
                finish(method, e.map, e.raw.shape(), gradients.scores(input, key_.class_index).at(0));
            }
            return;
        }
        case ExplainMethod::occlusion: {
            const bool free = batch_is_free(gradients.engine());
            if (!occlusion_run_) {
                OcclusionOptions options;
                options.window = std::max(1, key_.settings.occlusion_window);
                options.stride = std::max(1, key_.settings.occlusion_stride);
                options.fill = key_.settings.occlusion_fill;
                options.batch = occlusion_windows_per_frame;
                occlusion_run_ = std::make_unique<OcclusionRun>(gradients, input, key_.class_index, options);
            }
            // One batch of windows per frame, or a few single windows when
            // the model's batch axis is fixed.
            occlusion_run_->step(free ? 1 : occlusion_single_windows_per_frame);
            result.progress = occlusion_run_->progress();
            if (occlusion_run_->done()) {
                Explanation e = occlusion_run_->result();
                finish(method, e.map, e.raw.shape(), e.score);
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
    filter_run_.reset();
    activate();
}

// The core's filter visualisation (core/explain/filter_visualization.h), a
// few ascent steps per frame so the picture forms while the page draws.
void Explanations::filter_steps(Clock::time_point deadline) {
    if (!filter_.running || !gradients_) return;
    try {
        if (!filter_run_) {
            FilterVisualizationOptions options;
            options.steps = filter_.max_steps;
            filter_run_ = std::make_unique<FilterVisualizer>(*gradients_, Target::channel_mean(filter_.layer, filter_.channel), options);
            filter_.initial_objective = filter_run_->initial_objective();
            filter_.objective = filter_.initial_objective;
        }
        for (int n = 0; n < filter_.steps_per_frame && !filter_run_->done(); ++n) {
            if (n > 0 && Clock::now() >= deadline) break;
            const Clock::time_point step_start = Clock::now();
            filter_run_->step(1);
            filter_.milliseconds += milliseconds_since(step_start);
        }
        filter_.step = filter_run_->units_done();
        filter_.objective = filter_run_->last_objective();
        const SpatialSize size = spatial_size(Tensor::zeros(DType::f32, filter_run_->image_shape()), gradients_->layout());
        filter_.picture.height = size.height;
        filter_.picture.width = size.width;
        filter_.picture.values = channel_mean(filter_run_->image_values(), size, gradients_->layout() == DataLayout::channels_first);
        filter_.picture.version = ++version_;
        if (filter_run_->done()) filter_.running = false;
    } catch (const std::exception& failure) {
        filter_.error = failure.what();
        filter_.running = false;
    }
}

}  // namespace convscope::ui
