// Two checkpoints side by side: which layers correspond, how much each
// layer's weights moved, which filter became which, and (on images) how
// similar the layers' activations are and whether the predictions agree.
//
// Matching: a layer with weights in A is matched to the layer of B with the
// same name and the same weight shapes; layers left over are matched in
// order among those whose canonical weight shapes are equal (so a Keras
// file and its ONNX export pair up by position). `overrides` names pairs by
// hand and wins over both.
//
// Weights are compared in one canonical layout, filters first: a Keras
// kernel H x W x Cin x Cout and a Dense (in, out) matrix are transposed to
// Cout x Cin x H x W and (out, in), like ONNX and PyTorch store them.
//
// Definitions:
//   weight_rel_l2   ||B - A|| / ||A|| over all the layer's weights (0: unchanged)
//   weight_cosine   cosine between A's and B's weights as one vector
//   filter_change   per filter of the first weight, ||B_f - A_f|| / ||A_f||
//   filter_match    the assignment of B's filters to A's maximising the summed
//                   |cosine| (Hungarian method up to 512 filters, greedy above);
//                   `moved` lists A's filters whose partner is another index
//   sign_flips      filters whose cosine with their partner is below -0.5
//   activation_cka  linear CKA between the two layers' activations over the images
//   sqnr_db         10 log10(sum a^2 / sum (a - b)^2) over all activations:
//                   where quantization or pruning hurts (null when identical)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset/image_dataset.h"
#include "core/engine/engine.h"
#include "core/inspect/preprocess.h"
#include "core/model/model.h"

namespace convscope {

struct FilterMove {
    int64_t from = 0;   // filter index in A
    int64_t to = 0;     // its partner in B
    double cosine = 0.0;
};

struct LayerComparison {
    std::string name;            // in A
    std::string matched_to;      // in B; empty when unmatched
    std::string matched_by;      // "name", "position", "override"
    double weight_rel_l2 = 0.0;
    double weight_cosine = 1.0;
    std::vector<double> filter_change;
    std::vector<int64_t> filter_match;   // per A filter, its partner in B
    std::vector<FilterMove> moved;
    std::vector<int64_t> sign_flips;
    std::optional<double> activation_cka;
    std::optional<double> activation_cosine;
    std::optional<double> sqnr_db;
    bool activations_identical = false;
};

struct ModelComparison {
    std::vector<LayerComparison> layers;
    std::vector<std::string> unmatched_a, unmatched_b;  // layers with weights left over
    // With images:
    int64_t images = 0;
    std::optional<double> prediction_agreement;
    std::vector<size_t> disagreements;  // image indices where the top classes differ
};

struct CompareOptions {
    std::map<std::string, std::string> overrides;  // A layer -> B layer
    size_t max_activation_features = 4096;           // per image and layer, after spatial pooling
    size_t max_disagreements = 64;
};

// Weights only.
ModelComparison compare_models(const Model& a, const Model& b, const CompareOptions& options = {});

// Weights, then activations and predictions on `images` (each model with
// its own preprocessing). The engines must be built from `a` and `b`.
ModelComparison compare_models_on_images(const Model& a, const Engine& engine_a, const Preprocessing& preprocess_a,
                                         const Model& b, const Engine& engine_b, const Preprocessing& preprocess_b,
                                         const ImageDataset& images, const CompareOptions& options = {});

// A weight in the canonical filters-first layout described above.
Tensor canonical_weight(const Model& model, const Layer& layer, const Weight& weight);

// Linear CKA of two sets of features, rows = samples (n x p and n x q,
// row-major). 1 for identical or linearly equivalent representations.
double linear_cka(const std::vector<float>& x, size_t p, const std::vector<float>& y, size_t q, size_t n);

// The assignment maximising the summed similarity (rows -> columns), for a
// square n x n matrix given row-major.
std::vector<int64_t> best_assignment(const std::vector<double>& similarity, size_t n);

}  // namespace convscope
