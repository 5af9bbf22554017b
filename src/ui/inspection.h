// The inspector's state: what is being looked at and the computations behind
// it. ImGui-free, like AppState, so the test hook can serialise it.
//
// Owned by AppState. Holds the images (bundled samples and the user's own),
// the preprocessing settings (remembered per model for the session), the
// engine built for the current model, the selection shared by every panel
// (layer, kernel, input channel, images and kernels to compare) and caches of
// everything computed from them. Panels ask for results with the request_*
// functions, which return null until the result is ready; the work itself is
// done by do_work() once per frame within a time budget, so a slow forward
// pass never freezes the page for more than one step.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/engine/engine.h"
#include "core/inspect/kernels.h"
#include "core/inspect/preprocess.h"
#include "core/inspect/samples.h"
#include "core/model/model.h"
#include "core/tensor/tensor.h"

namespace convscope::ui {

struct InspectImage {
    uint64_t id = 0;             // unique for the session; cache key
    std::string name;            // "sample 900 (Ankle boot)" or the file name
    int64_t sample_index = -1;   // index in the sample set, -1 for the user's images
    int label = -1;              // sample label, -1 when unknown
    Tensor pixels;               // [h, w, c] float 0..255 as decoded
};

// A heatmap ready for the panels and the hook: row-major height x width.
struct Map2D {
    int64_t height = 0;
    int64_t width = 0;
    std::vector<float> values;
    uint64_t version = 0;        // changes when the values do (texture upload key)
};

struct Prediction {
    std::vector<float> probabilities;  // softmax applied when the output was not one
    std::vector<size_t> order;         // classes by probability, highest first
};

class Inspection {
public:
    // ---- model ----------------------------------------------------------
    // Called when AppState opens a new model. Builds the engine (errors are
    // kept in engine_error(); the inspector then shows weights only),
    // restores or derives the preprocessing, resets selection and caches.
    void set_model(std::shared_ptr<const Model> model, const std::string& file_name, uint64_t file_key);
    const Model* model() const { return model_.get(); }
    const Engine* engine() const { return engine_ ? &*engine_ : nullptr; }
    const std::string& engine_error() const { return engine_error_; }
    const std::string& model_file_name() const { return model_file_name_; }

    // ---- images ---------------------------------------------------------
    // The bundled sample set (sprite + JSON); failures are returned as text.
    std::string load_samples(const std::vector<uint8_t>& json, const std::vector<uint8_t>& png);
    const SampleSet* samples() const { return samples_ ? &*samples_ : nullptr; }
    // Adds sample `index` to the image list (once) and returns its position.
    int add_sample(int64_t index);
    // Decodes a user's picture (PNG/JPEG/BMP/GIF) into the image list and
    // selects it; throws convscope::Error with the reason when it cannot.
    int add_image_file(const std::string& name, const std::vector<uint8_t>& bytes);
    const std::vector<InspectImage>& images() const { return images_; }
    int current_image() const { return current_image_; }
    void select_image(int position);
    // Images and kernels shown side by side in the response view's compare mode.
    std::vector<int> compare_images;
    std::vector<int64_t> compare_kernels;
    bool compare_mode = false;

    // ---- preprocessing --------------------------------------------------
    const std::optional<Preprocessing>& preprocessing() const { return preprocessing_; }
    // Replaces the settings (remembered for this model) and drops cached results.
    void set_preprocessing(const Preprocessing& settings);
    void reset_preprocessing();

    // ---- selection ------------------------------------------------------
    int selected_layer() const { return selected_layer_; }
    void select_layer(int index);
    // Moves to the previous/next layer; conv_only skips non-convolutions.
    void step_layer(int delta, bool conv_only);
    int64_t kernel() const { return kernel_; }
    void select_kernel(int64_t kernel);
    void step_kernel(int delta);
    // -1: the kernel's response summed over all input channels.
    int64_t input_channel() const { return input_channel_; }
    void select_input_channel(int64_t channel);
    // Kernels of the selected layer (nullopt when it is not a convolution).
    const std::optional<ConvKernels>& selected_kernels() const { return selected_kernels_; }
    // Response view: the layer's real output channel instead of the bare kernel.
    bool show_layer_output = false;

    // ---- labels ---------------------------------------------------------
    // A labels .txt the user dropped (one class name per line).
    void set_labels(const std::string& name, const std::string& text);
    std::string label_name(size_t index) const;
    const std::string& labels_source() const { return labels_source_; }

    // ---- results (null until computed; computing is queued) -------------
    const Tensor* request_input(int position);
    const Map2D* request_response(int position, int layer, int64_t kernel, int64_t channel, bool layer_output);
    const Tensor* request_layer_output(int position, int layer);
    const Prediction* request_prediction(int position);
    // Set when a queued computation failed for the current settings.
    const std::string& compute_error() const { return compute_error_; }
    bool busy() const { return !queue_.empty(); }
    // Changes whenever cached results are dropped (new model, new
    // preprocessing): part of texture keys for maps drawn from them.
    uint64_t results_generation() const { return results_generation_; }
    // Changes on every set_model(): the key for anything computed from the
    // model itself. (A new Model may sit at a freed one's address, so a
    // pointer is no key.)
    uint64_t model_generation() const { return model_generation_; }
    size_t queued() const { return queue_.size(); }

    // Queues what the current selection shows (current image x kernel, the
    // compare grid, the prediction) whether or not its panel is drawn, so
    // the test hook and a panel opened later find it ready.
    void prefetch_view();
    // Runs queued computations until `budget` is spent (at least one).
    void do_work(std::chrono::milliseconds budget);

    // What the cache holds, for the test hook (ui/inspection_hook.h):
    // responses by image id, layer, kernel, channel and mode, and the
    // prediction of image `position` if computed (null otherwise).
    struct ResponseKey {
        uint64_t image_id;
        int layer;
        int64_t kernel;
        int64_t channel;
        bool layer_output;
        bool operator<(const ResponseKey& other) const {
            return std::tie(image_id, layer, kernel, channel, layer_output) <
                   std::tie(other.image_id, other.layer, other.kernel, other.channel, other.layer_output);
        }
    };
    const std::map<ResponseKey, Map2D>& cached_responses() const { return responses_; }
    const Prediction* cached_prediction(int position) const;

private:
    struct Job {
        enum class Kind { forward, response } kind;
        int position;
        int layer;
        int64_t kernel;
        int64_t channel;
        bool layer_output;
    };
    struct ImageResults {
        Tensor input;                                      // preprocessed
        std::optional<std::map<std::string, Tensor>> activations;  // capture_all run
        std::optional<Prediction> prediction;
    };

    void invalidate_results();
    void update_selected_kernels();
    ImageResults& results_for(int position);
    const Tensor* activation_for(int position, const std::string& value);
    void enqueue(const Job& job);
    void run_job(const Job& job);
    std::string model_key() const;

    std::shared_ptr<const Model> model_;
    std::optional<Engine> engine_;
    std::string engine_error_;
    std::string model_file_name_;
    uint64_t file_key_ = 0;
    std::optional<SampleSet> samples_;
    std::vector<InspectImage> images_;
    uint64_t next_image_id_ = 1;
    int current_image_ = -1;
    std::optional<Preprocessing> preprocessing_;
    std::map<std::string, Preprocessing> remembered_preprocessing_;  // per model key
    int selected_layer_ = -1;
    int64_t kernel_ = 0;
    int64_t input_channel_ = -1;
    std::optional<ConvKernels> selected_kernels_;
    std::vector<std::string> labels_;
    std::string labels_source_;
    std::map<uint64_t, ImageResults> results_;
    std::map<ResponseKey, Map2D> responses_;
    std::deque<Job> queue_;
    std::string compute_error_;
    uint64_t map_version_ = 1;
    uint64_t results_generation_ = 1;
    uint64_t model_generation_ = 0;
};

}  // namespace convscope::ui
