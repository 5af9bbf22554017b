// The Explanations panel's state: every attribution method for the current
// model, image and class, and one filter visualisation that forms over
// frames. ImGui-free, like Inspection, so the test hook can serialise it.
//
// Owned by AppState next to the Inspection it reads (model, engine, current
// image, preprocessing, prediction). Results are cached for one key (model
// generation, results generation, image, class, settings); any change of
// the key drops them and they are computed again. update() is called once
// per frame with a time budget and does at most one bounded piece of work
// per method: the fast
// methods in one call; SmoothGrad, Integrated Gradients, occlusion and the
// filter visualisation are the core's resumable runs (core/explain: the
// same code the CLI runs to completion), stepped a few units per frame, so
// the page never freezes on a long method and the panel can show progress.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/explain/filter_visualization.h"
#include "core/explain/integrated_gradients.h"
#include "core/explain/occlusion.h"
#include "core/explain/saliency.h"
#include "core/grad/gradient.h"
#include "core/tensor/tensor.h"
#include "ui/inspection.h"

namespace convscope::ui {

enum class ExplainMethod : int { saliency, smoothgrad, integrated_gradients, gradcam, gradcam_plus_plus, occlusion };
constexpr int explain_method_count = 6;

const char* method_id(ExplainMethod method);     // "saliency", "smoothgrad", "ig", "gradcam", "gradcam++", "occlusion"
const char* method_title(ExplainMethod method);  // "Saliency", "Integrated Gradients", ...
const char* method_help(ExplainMethod method);   // what the map shows, for the tooltip
bool method_is_signed(ExplainMethod method);     // IG and occlusion have signed maps

struct ExplainSettings {
    int64_t class_index = -1;       // -1: the predicted class
    std::string gradcam_layer;      // "": the last convolutional feature map
    int smoothgrad_samples = 16;
    float smoothgrad_noise = 0.15f;
    int ig_steps = 32;
    int occlusion_window = 4;
    int occlusion_stride = 4;
    float occlusion_fill = 0.0f;

    bool operator==(const ExplainSettings& other) const;
    bool operator!=(const ExplainSettings& other) const { return !(*this == other); }
};

struct MethodResult {
    bool done = false;
    std::string error;
    Map2D map;                    // input-sized
    Shape raw_shape;              // of the method's own tensor
    float low = 0.0f, high = 0.0f;  // finite range of the map
    float score = 0.0f;           // the explained class score (logit)
    double milliseconds = 0.0;    // compute time summed over the frames it took
    int frames = 0;               // frames it was spread over
    float progress = 0.0f;        // 0..1 while computing
};

// A filter (channel) visualisation by gradient ascent, a few steps per frame.
struct FilterRun {
    bool running = false;
    std::string layer;
    int64_t channel = 0;
    int step = 0;
    int max_steps = 256;
    int steps_per_frame = 4;
    float initial_objective = 0.0f;
    float objective = 0.0f;
    double milliseconds = 0.0;
    std::string error;
    Map2D picture;                // the current picture, H x W (mean over channels)
};

class Explanations {
public:
    // Nothing is computed until something asks (the panel is shown, or the
    // test hook sends a command): a page that never opens the panel pays nothing.
    void activate() { active_ = true; }
    bool active() const { return active_; }

    const ExplainSettings& settings() const { return settings_; }
    void set_settings(const ExplainSettings& settings) { settings_ = settings; }

    // Once per frame (AppState::begin_frame): keeps the results in step with
    // the inspector's model/image/preprocessing and computes for `budget`.
    void update(Inspection& inspection, std::chrono::milliseconds budget);

    const MethodResult& result(ExplainMethod method) const { return results_[static_cast<int>(method)]; }
    int completed() const;
    bool busy() const { return active_ && completed() < explain_method_count; }
    // The class the maps explain (-1 until the prediction is known).
    int64_t explained_class() const { return key_.class_index; }
    // The Grad-CAM layer in use (the default one once resolved).
    const std::string& gradcam_layer() const { return gradcam_layer_; }
    // The convolution layers a Grad-CAM or filter visualisation can use.
    const std::vector<std::string>& conv_layers() const { return conv_layers_; }
    // Output channels of each of conv_layers() (0 when unknown).
    const std::vector<int64_t>& conv_channels() const { return conv_channels_; }
    const std::string& error() const { return error_; }
    // The preprocessed input, H x W (mean over channels), for the overlays.
    const Map2D& input_picture() const { return input_picture_; }
    double gradient_build_ms() const { return build_ms_; }

    // Filter visualisation of `layer`'s channel; replaces a running one.
    void start_filter(const std::string& layer, int64_t channel, int max_steps = 256);
    void stop_filter() { filter_.running = false; }
    const FilterRun& filter() const { return filter_; }

private:
    struct Key {
        uint64_t model_generation = 0;  // Inspection::model_generation(), not the engine's address
        uint64_t generation = 0;
        uint64_t image_id = 0;
        int64_t class_index = -1;
        ExplainSettings settings;
        bool operator==(const Key& other) const;
    };

    void reset_results();
    void drop_gradients();
    bool ensure_gradients(Inspection& inspection);
    void list_conv_layers(const Model& model);
    void compute_step(ExplainMethod method, const Tensor& input);
    void finish(ExplainMethod method, const Tensor& map, const Shape& raw_shape, float score);
    void filter_steps(std::chrono::steady_clock::time_point deadline);

    bool active_ = false;
    ExplainSettings settings_;
    Key key_;
    std::optional<GradientEngine> gradients_;
    uint64_t gradients_model_generation_ = 0;
    uint64_t gradients_generation_ = 0;
    double build_ms_ = 0.0;
    std::string error_;
    std::string gradcam_layer_;
    std::vector<std::string> conv_layers_;
    std::vector<int64_t> conv_channels_;
    MethodResult results_[explain_method_count];
    // The core's resumable methods, one unit of work or a few per frame.
    // They refer to gradients_, so they are dropped whenever it is.
    std::unique_ptr<SmoothGradRun> smoothgrad_run_;
    std::unique_ptr<IntegratedGradientsRun> ig_run_;
    std::unique_ptr<OcclusionRun> occlusion_run_;
    Map2D input_picture_;
    uint64_t version_ = 1;

    FilterRun filter_;
    std::unique_ptr<FilterVisualizer> filter_run_;
};

}  // namespace convscope::ui
