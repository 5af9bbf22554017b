// Reverse-mode gradients over the engine's plan.
//
//   GradientEngine grads = GradientEngine::build(model, engine);
//   Gradients g = grads.gradient_of(image, Target::class_score(3), "conv2d_1");
//   g.input_gradient       d score / d input, the input's shape and layout
//   g.activation_gradient  d score / d conv2d_1's output
//
// The forward pass is the engine's own (run() with every value captured); the
// backward pass walks the same steps in reverse, calling one backward
// function per op family (backward_ops.h, built in backward_steps.cpp and
// chosen per plan step in backward_select.cpp) and summing gradients of values
// that feed several steps. Parameters a backward needs (strides, pads,
// activation kinds) are the plan step's typed LayerParams; kernels come from
// the layer (the Keras compiler's resolvers, ONNX initializers); operators
// that only move elements (reshape, transpose, pad, crop, concat, gather,
// nearest resize) and per-element affine ones (batch norm in inference mode,
// Normalization, Rescaling, add/multiply by a constant) are differentiated by
// probing the engine's own step with index-encoded / constant inputs, so the
// adjoint always matches the forward exactly.
//
// Target convention: a class target differentiates the pre-softmax score
// (the logit) when the model ends in softmax - a separate softmax step or a
// layer with activation="softmax" - as Grad-CAM and saliency papers (and the
// PyTorch goldens in tests/fixtures/explain) do. Target::probability asks
// for the softmax output instead.
//
// Not thread-safe: probe results are cached per step and input shape.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/model/model.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct Target {
    enum class Kind { class_score, channel_mean };
    Kind kind = Kind::class_score;
    int64_t class_index = -1;   // -1: the top-scoring class of the (first) input
    bool probability = false;   // class_score: the softmax output instead of the logit
    std::string layer;          // channel_mean: layer or value name
    int64_t channel = 0;        // channel_mean: channel (last axis NHWC, axis 1 NCHW)

    static Target class_score(int64_t class_index = -1) {
        Target t;
        t.class_index = class_index;
        return t;
    }
    static Target channel_mean(std::string layer, int64_t channel) {
        Target t;
        t.kind = Kind::channel_mean;
        t.layer = std::move(layer);
        t.channel = channel;
        return t;
    }
};

struct Gradients {
    Tensor input_gradient;              // same shape as the input given (batch axis kept/added)
    std::vector<float> target_values;   // the differentiated scalar, one per batch item
    int64_t class_index = -1;           // the class used (class targets)
    Tensor output;                      // the model's first output as run (probabilities if softmax)
    Tensor activation;                  // of the layer asked for, when asked
    Tensor activation_gradient;         // d target / d activation
};

struct BackwardStep;

class GradientEngine {
public:
    // Keeps a reference to `engine`, which must outlive the result. Steps
    // without a backward are recorded, not thrown: the error comes only when
    // a gradient actually has to flow through one of them.
    static GradientEngine build(const Model& model, const Engine& engine);

    GradientEngine(GradientEngine&&) noexcept;
    GradientEngine& operator=(GradientEngine&&) noexcept;
    ~GradientEngine();

    const Engine& engine() const { return *engine_; }
    DataLayout layout() const { return engine_->layout(); }

    // `input` in the framework's layout, with or without the batch axis; a
    // batch of several items gives each item its own gradient.
    Gradients gradient_of(const Tensor& input, const Target& target, const std::string& activation_layer = "") const;

    // The class score (logit, or probability when asked) and every named
    // activation without a backward pass; used by occlusion and IG checks.
    std::vector<float> scores(const Tensor& input, int64_t class_index, bool probability = false) const;

    // Steps whose backward is unavailable, "name (type): reason".
    const std::vector<std::string>& unsupported_steps() const { return unsupported_; }

private:
    GradientEngine();
    int find_value(const std::string& name) const;

    const Engine* engine_ = nullptr;
    std::vector<std::shared_ptr<BackwardStep>> steps_;  // parallel to engine.plan_steps()
    std::vector<std::string> unsupported_;
};

}  // namespace convscope
