#include "ui/inspection.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/base/error.h"
#include "core/formats/image.h"
#include "core/inspect/feature_maps.h"
#include "core/inspect/response.h"

namespace convscope::ui {

namespace {

// Caches are bounded so browsing hundreds of images does not grow the tab.
constexpr size_t max_cached_images = 12;
constexpr size_t max_cached_responses = 1024;
Prediction make_prediction(const Tensor& output) {
    Prediction prediction;
    prediction.probabilities = output.to_float_vector();
    std::vector<float>& p = prediction.probabilities;
    double sum = 0.0;
    bool in_range = true;
    for (float v : p) {
        sum += v;
        in_range = in_range && v >= 0.0f && v <= 1.0f;
    }
    // Logits (no softmax in the model): show probabilities anyway.
    if (!p.empty() && !(in_range && std::fabs(sum - 1.0) < 1e-3)) {
        const float top = *std::max_element(p.begin(), p.end());
        double total = 0.0;
        for (float& v : p) {
            v = std::exp(v - top);
            total += v;
        }
        for (float& v : p) v = static_cast<float>(v / total);
    }
    prediction.order.resize(p.size());
    std::iota(prediction.order.begin(), prediction.order.end(), size_t{0});
    std::stable_sort(prediction.order.begin(), prediction.order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    return prediction;
}

}  // namespace

// ---- model -----------------------------------------------------------------

std::string Inspection::model_key() const { return concat(model_file_name_, "#", file_key_); }

void Inspection::set_model(std::shared_ptr<const Model> model, const std::string& file_name, uint64_t file_key) {
    ++model_generation_;
    if (preprocessing_ && model_) remembered_preprocessing_[model_key()] = *preprocessing_;
    model_ = std::move(model);
    model_file_name_ = file_name;
    file_key_ = file_key;
    engine_.reset();
    engine_error_.clear();
    preprocessing_.reset();
    labels_.clear();
    labels_source_.clear();
    invalidate_results();
    if (!model_) return;
    try {
        engine_.emplace(Engine::build(*model_));
    } catch (const std::exception& failure) {
        engine_error_ = failure.what();
    }
    auto remembered = remembered_preprocessing_.find(model_key());
    if (remembered != remembered_preprocessing_.end()) {
        preprocessing_ = remembered->second;
    } else {
        reset_preprocessing();
    }
    // Start on the first convolution: that is what people come to see.
    selected_layer_ = -1;
    for (size_t i = 0; i < model_->layers.size(); ++i) {
        if (is_conv2d_layer(*model_, model_->layers[i])) {
            selected_layer_ = static_cast<int>(i);
            break;
        }
    }
    if (selected_layer_ < 0 && !model_->layers.empty()) selected_layer_ = 0;
    kernel_ = 0;
    input_channel_ = -1;
    update_selected_kernels();
    compare_kernels = {0, 1};
}

void Inspection::reset_preprocessing() {
    preprocessing_.reset();
    if (!model_) return;
    try {
        if (engine_) {
            preprocessing_ = default_preprocessing(engine_->input_shape(), engine_->layout());
        } else if (!model_->inputs.empty()) {
            preprocessing_ = default_preprocessing(model_->inputs[0].shape, model_->layout);
        }
    } catch (const std::exception&) {
        // Not an image model: the image views explain that they cannot run.
    }
    invalidate_results();
}

void Inspection::set_preprocessing(const Preprocessing& settings) {
    preprocessing_ = settings;
    if (model_) remembered_preprocessing_[model_key()] = settings;
    invalidate_results();
}

void Inspection::invalidate_results() {
    ++results_generation_;
    results_.clear();
    responses_.clear();
    queue_.clear();
    compute_error_.clear();
}

// ---- images ----------------------------------------------------------------

std::string Inspection::load_samples(const std::vector<uint8_t>& json, const std::vector<uint8_t>& png) {
    try {
        samples_ = load_sample_set(ByteSpan(json.data(), json.size()), ByteSpan(png.data(), png.size()),
                                   "fashion_samples.json");
    } catch (const std::exception& failure) {
        return failure.what();
    }
    // A first image to look at: the first sample of each of two classes the
    // README talks about (T-shirt/top and Ankle boot).
    if (images_.empty()) {
        add_sample(samples_->first_of_class(9) >= 0 ? samples_->first_of_class(9) : 0);
        add_sample(samples_->first_of_class(0) >= 0 ? samples_->first_of_class(0) : 0);
        compare_images = {0, 1};
        select_image(0);
    }
    return {};
}

int Inspection::add_sample(int64_t index) {
    if (!samples_) throw Error("the sample images are not loaded");
    for (size_t i = 0; i < images_.size(); ++i) {
        if (images_[i].sample_index == index) return static_cast<int>(i);
    }
    InspectImage image;
    image.id = next_image_id_++;
    image.sample_index = index;
    image.pixels = samples_->tile(index);  // throws for a bad index
    image.label = samples_->labels.at(static_cast<size_t>(index));
    image.name = concat("sample ", index, " (", samples_->class_name(image.label), ")");
    images_.push_back(std::move(image));
    if (current_image_ < 0) current_image_ = 0;
    return static_cast<int>(images_.size() - 1);
}

int Inspection::add_image_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    InspectImage image;
    image.pixels = decode_image(ByteSpan(bytes.data(), bytes.size()), name);
    image.id = next_image_id_++;
    image.name = name;
    images_.push_back(std::move(image));
    select_image(static_cast<int>(images_.size() - 1));
    return current_image_;
}

void Inspection::select_image(int position) {
    if (position >= 0 && position < static_cast<int>(images_.size())) current_image_ = position;
}

// ---- selection -------------------------------------------------------------

void Inspection::select_layer(int index) {
    if (!model_ || index < 0 || index >= static_cast<int>(model_->layers.size())) return;
    if (index == selected_layer_) return;
    selected_layer_ = index;
    update_selected_kernels();
}

void Inspection::step_layer(int delta, bool conv_only) {
    if (!model_ || model_->layers.empty()) return;
    const int count = static_cast<int>(model_->layers.size());
    for (int index = selected_layer_ + delta; index >= 0 && index < count; index += delta) {
        if (!conv_only || is_conv2d_layer(*model_, model_->layers[static_cast<size_t>(index)])) {
            select_layer(index);
            return;
        }
    }
}

void Inspection::update_selected_kernels() {
    selected_kernels_.reset();
    if (model_ && selected_layer_ >= 0) {
        selected_kernels_ = conv_kernels(*model_, model_->layers[static_cast<size_t>(selected_layer_)]);
    }
    const int64_t kernels = selected_kernels_ ? selected_kernels_->out_channels : 0;
    kernel_ = kernels > 0 ? std::clamp<int64_t>(kernel_, 0, kernels - 1) : 0;
    const int64_t channels = selected_kernels_ ? selected_kernels_->in_channels : 0;
    if (input_channel_ >= channels) input_channel_ = -1;
}

void Inspection::select_kernel(int64_t kernel) {
    if (!selected_kernels_) return;
    kernel_ = std::clamp<int64_t>(kernel, 0, selected_kernels_->out_channels - 1);
}

void Inspection::step_kernel(int delta) { select_kernel(kernel_ + delta); }

void Inspection::select_input_channel(int64_t channel) {
    const int64_t channels = selected_kernels_ ? selected_kernels_->in_channels : 0;
    input_channel_ = channel >= 0 && channel < channels ? channel : -1;
}

// ---- labels ----------------------------------------------------------------

void Inspection::set_labels(const std::string& name, const std::string& text) {
    labels_.clear();
    size_t start = 0;
    // Bounded by the text's length; a labels file has one name per line.
    while (start < text.size() && labels_.size() < 100000) {
        size_t end = text.find('\n', start);
        std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        labels_.push_back(line);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    while (!labels_.empty() && labels_.back().empty()) labels_.pop_back();
    labels_source_ = name;
}

std::string Inspection::label_name(size_t index) const {
    if (index < labels_.size()) return labels_[index];
    // The bundled Fashion-MNIST names fit models trained on that data set.
    std::string lower = model_file_name_;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (samples_ && lower.find("fashion") != std::string::npos && index < samples_->class_names.size()) {
        return samples_->class_names[index];
    }
    return concat("class ", index);
}

// ---- results ---------------------------------------------------------------

Inspection::ImageResults& Inspection::results_for(int position) {
    const uint64_t id = images_.at(static_cast<size_t>(position)).id;
    auto found = results_.find(id);
    if (found != results_.end()) return found->second;
    if (results_.size() >= max_cached_images) {
        // Keep the current image's results; drop another (the lowest id is the oldest).
        const uint64_t current_id = current_image_ >= 0 ? images_[static_cast<size_t>(current_image_)].id : 0;
        for (auto it = results_.begin(); it != results_.end(); ++it) {
            if (it->first != current_id) {
                results_.erase(it);
                break;
            }
        }
    }
    ImageResults& results = results_[id];
    results.input = preprocess_image(images_[static_cast<size_t>(position)].pixels, *preprocessing_);
    return results;
}

const Tensor* Inspection::request_input(int position) {
    if (!model_ || !preprocessing_ || position < 0 || position >= static_cast<int>(images_.size())) return nullptr;
    try {
        return &results_for(position).input;
    } catch (const std::exception& failure) {
        compute_error_ = failure.what();
        return nullptr;
    }
}

void Inspection::enqueue(const Job& job) {
    for (const Job& queued : queue_) {
        if (queued.kind == job.kind && queued.position == job.position && queued.layer == job.layer &&
            queued.kernel == job.kernel && queued.channel == job.channel && queued.layer_output == job.layer_output) {
            return;
        }
    }
    // A panel asking every frame for hundreds of maps must not queue forever.
    if (queue_.size() < 4096) queue_.push_back(job);
}

const Prediction* Inspection::request_prediction(int position) {
    if (!engine_ || !request_input(position)) return nullptr;
    ImageResults& results = results_for(position);
    if (results.prediction) return &*results.prediction;
    enqueue({Job::Kind::forward, position, -1, 0, -1, false});
    return nullptr;
}

const Tensor* Inspection::activation_for(int position, const std::string& value) {
    ImageResults& results = results_for(position);
    if (!results.activations) return nullptr;
    auto found = results.activations->find(value);
    return found == results.activations->end() ? nullptr : &found->second;
}

const Tensor* Inspection::request_layer_output(int position, int layer) {
    if (!engine_ || !model_ || layer < 0 || layer >= static_cast<int>(model_->layers.size())) return nullptr;
    if (!request_input(position)) return nullptr;
    if (!results_for(position).activations) {
        enqueue({Job::Kind::forward, position, -1, 0, -1, false});
        return nullptr;
    }
    return activation_for(position, model_->layers[static_cast<size_t>(layer)].name);
}

const Map2D* Inspection::request_response(int position, int layer, int64_t kernel, int64_t channel, bool layer_output) {
    if (!engine_ || !model_ || layer < 0 || layer >= static_cast<int>(model_->layers.size())) return nullptr;
    if (!request_input(position)) return nullptr;
    const ResponseKey key{images_[static_cast<size_t>(position)].id, layer, kernel, channel, layer_output};
    auto found = responses_.find(key);
    if (found != responses_.end()) return &found->second;
    enqueue({Job::Kind::response, position, layer, kernel, channel, layer_output});
    return nullptr;
}

void Inspection::run_job(const Job& job) {
    if (job.position < 0 || job.position >= static_cast<int>(images_.size()) || !engine_) return;
    ImageResults& results = results_for(job.position);
    if (!results.activations) {
        RunOptions options;
        options.capture_all = true;
        RunResult run = engine_->run(results.input, options);
        results.activations = std::move(run.activations);
        auto output = run.outputs.find(engine_->output_names().at(0));
        if (output != run.outputs.end()) results.prediction = make_prediction(output->second);
    }
    if (job.kind != Job::Kind::response) return;
    const Layer& layer = model_->layers.at(static_cast<size_t>(job.layer));
    Tensor map;
    if (job.layer_output) {
        const Tensor* output = activation_for(job.position, layer.name);
        if (!output) throw Error(concat("the engine kept no output for layer '", layer.name, "'"));
        FeatureMaps maps = feature_maps(*output, model_->layout);
        if (job.kernel < 0 || job.kernel >= maps.channels) throw Error(concat("layer '", layer.name, "' has no channel ", job.kernel));
        map = Tensor::from_floats({maps.height, maps.width}, maps.channel_copy(job.kernel));
    } else {
        bool reads_model_input = false;
        for (const ValueInfo& input : model_->inputs) reads_model_input = reads_model_input || (!layer.inputs.empty() && input.name == layer.inputs[0]);
        const Tensor* activation = reads_model_input || layer.inputs.empty() ? &results.input : activation_for(job.position, layer.inputs[0]);
        Tensor computed;
        if (!activation) {
            computed = layer_input_activation(*engine_, *model_, layer, results.input);
            activation = &computed;
        }
        map = kernel_response_from_activation(*model_, layer, *activation, job.kernel, job.channel);
    }
    if (responses_.size() >= max_cached_responses) responses_.clear();
    Map2D& stored = responses_[ResponseKey{images_[static_cast<size_t>(job.position)].id, job.layer, job.kernel, job.channel, job.layer_output}];
    stored.height = map.shape()[0];
    stored.width = map.shape()[1];
    stored.values = map.to_float_vector();
    stored.version = map_version_++;
}

void Inspection::do_work(std::chrono::milliseconds budget) {
    const auto start = std::chrono::steady_clock::now();
    while (!queue_.empty()) {
        Job job = queue_.front();
        queue_.pop_front();
        try {
            run_job(job);
        } catch (const std::exception& failure) {
            compute_error_ = failure.what();
            // Remember the failure as an empty map so it is not retried every frame.
            if (job.kind == Job::Kind::response && job.position >= 0 && job.position < static_cast<int>(images_.size())) {
                responses_[ResponseKey{images_[static_cast<size_t>(job.position)].id, job.layer, job.kernel, job.channel, job.layer_output}] = Map2D{};
            } else if (job.position >= 0 && job.position < static_cast<int>(images_.size())) {
                auto found = results_.find(images_[static_cast<size_t>(job.position)].id);
                if (found != results_.end() && !found->second.activations) found->second.activations.emplace();
            }
        }
        if (std::chrono::steady_clock::now() - start >= budget) break;
    }
}

void Inspection::prefetch_view() {
    if (!engine_ || !preprocessing_ || current_image_ < 0) return;
    request_prediction(current_image_);
    if (!selected_kernels_) return;
    request_response(current_image_, selected_layer_, kernel_, input_channel_, show_layer_output);
    if (!compare_mode) return;
    for (int position : compare_images) {
        for (int64_t kernel : compare_kernels) {
            if (position < 0 || position >= static_cast<int>(images_.size())) continue;
            if (kernel < 0 || kernel >= selected_kernels_->out_channels) continue;
            request_response(position, selected_layer_, kernel, input_channel_, show_layer_output);
        }
    }
}

const Prediction* Inspection::cached_prediction(int position) const {
    if (position < 0 || position >= static_cast<int>(images_.size())) return nullptr;
    auto found = results_.find(images_[static_cast<size_t>(position)].id);
    return found != results_.end() && found->second.prediction ? &*found->second.prediction : nullptr;
}

}  // namespace convscope::ui
