// A whole image set through a classifier: accuracy, top-k, per-class
// precision and recall, the confusion matrix, the most confidently wrong
// images and calibration (a reliability diagram and its expected
// calibration error).
//
// Resumable, like the explanation methods: the app calls step() a few images
// per frame (or in the engine's worker) and draws progress(); the CLI calls
// evaluate(), which steps to the end. Partial results are valid at any
// point: they describe the images seen so far.
//
//   Evaluation run(engine, dataset, options);
//   while (!run.done()) run.step(16);
//   EvaluationResult r = run.result();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dataset/image_dataset.h"
#include "core/engine/engine.h"
#include "core/inspect/preprocess.h"

namespace convscope {

struct EvaluationOptions {
    Preprocessing preprocessing;      // the model's input settings (the Images panel's)
    int top_k = 5;
    // Per dataset class, the model class it is (match_class_names); -1 or
    // a missing entry leaves that class's images out of the accuracy.
    std::vector<int> class_of_label;
    size_t wrong_examples = 16;       // how many confidently wrong images to keep
    int calibration_bins = 10;
};

struct ClassMetrics {
    int64_t support = 0;    // images of this class
    int64_t predicted = 0;  // images predicted as this class
    int64_t correct = 0;
    double precision = 0.0; // correct / predicted (0 when nothing was predicted)
    double recall = 0.0;    // correct / support (0 when there is no image)
};

struct WrongPrediction {
    size_t image = 0;       // dataset index
    int true_class = -1;    // model class index
    int predicted = -1;
    double confidence = 0.0;
};

struct CalibrationBin {
    double lower = 0.0, upper = 0.0;  // confidence range
    int64_t count = 0;
    double mean_confidence = 0.0;
    double accuracy = 0.0;
};

struct EvaluationResult {
    int64_t count = 0;          // images run
    int64_t labelled = 0;       // of those, with a known model class
    int64_t correct = 0;
    int64_t top_k_correct = 0;
    int top_k = 5;
    double accuracy = 0.0;      // correct / labelled
    double top_k_accuracy = 0.0;
    int64_t class_count = 0;    // the model's output size
    // confusion[true][predicted], model classes.
    std::vector<std::vector<int64_t>> confusion;
    std::vector<ClassMetrics> per_class;
    std::vector<WrongPrediction> confident_wrong;  // most confident first
    std::vector<CalibrationBin> calibration;
    double expected_calibration_error = 0.0;
    bool outputs_are_probabilities = true;  // false: softmax was applied to logits
    std::vector<int> predictions;           // per image run, the top class
    std::vector<float> confidences;         // its probability
};

class Evaluation {
public:
    // The engine and dataset must outlive the evaluation.
    Evaluation(const Engine& engine, const ImageDataset& dataset, EvaluationOptions options);

    // Runs up to `images` more images; returns how many it ran.
    size_t step(size_t images);
    bool done() const { return next_ >= dataset_.size(); }
    double progress() const;
    size_t images_done() const { return next_; }
    EvaluationResult result() const;

private:
    const Engine& engine_;
    const ImageDataset& dataset_;
    EvaluationOptions options_;
    size_t next_ = 0;
    EvaluationResult state_;
    std::vector<double> bin_confidence_;
    std::vector<int64_t> bin_correct_;
};

EvaluationResult evaluate(const Engine& engine, const ImageDataset& dataset, const EvaluationOptions& options);

// Class probabilities from a classifier's output: the output itself when
// it already is a distribution (non-negative, sums to 1 within 1e-3),
// otherwise its softmax. `was_probability` says which.
std::vector<double> class_probabilities(const Tensor& output, bool* was_probability = nullptr);

}  // namespace convscope
