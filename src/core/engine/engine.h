// The inference engine: a Model compiled into a plan of steps, and the
// executor that runs it with optional activation capture.
//
//   Engine engine = Engine::build(model);        // throws UnsupportedError listing
//                                                // every layer it cannot run
//   RunResult r = engine.run(input);              // framework layout in and out
//   Tensor act = engine.run_until(input, "conv2d_1");
//
// Weights are packed once in build(); run() is const and keeps only the
// activations still needed (plus those asked for), so asking for one layer's
// response does not hold every feature map in memory.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/ops/op_list.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct RunOptions {
    bool capture_all = false;             // every layer's / value's output
    std::vector<std::string> capture;     // or just these (layer or value names)
    std::string stop_after;               // run only up to the step producing this layer/value
};

struct RunResult {
    // Model outputs keyed by layer name (Keras) or by value name and node
    // name (ONNX); empty when stop_after ended the run early.
    std::map<std::string, Tensor> outputs;
    // Captured activations, keyed the same way.
    std::map<std::string, Tensor> activations;
};

struct PlanStep;
struct PlanValue;

class Engine {
public:
    static Engine build(const Model& model);

    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;
    ~Engine();

    DataLayout layout() const { return layout_; }
    // Shape of the first input in the framework's layout with batch 1.
    Shape input_shape() const;
    const std::vector<ValueInfo>& inputs() const { return inputs_; }
    // Names of the model outputs (layer names for Keras, value names for ONNX).
    const std::vector<std::string>& output_names() const { return output_names_; }

    // A missing leading batch dimension is added (batch 1).
    RunResult run(const Tensor& input, const RunOptions& options = {}) const;
    RunResult run(const std::map<std::string, Tensor>& inputs, const RunOptions& options) const;
    // The output of one layer (Keras layer name, ONNX node or value name).
    Tensor run_until(const Tensor& input, const std::string& layer_name) const;

    // One line per step: "conv2d_1  Conv2D -> conv2d [im2col-gemm]".
    std::vector<std::string> describe() const;

    // Read-only view of the plan for the reverse sweep in src/core/grad
    // (gradients walk these steps backwards; PlanStep/PlanValue are in plan.h).
    const std::vector<PlanStep>& plan_steps() const { return steps_; }
    const std::vector<PlanValue>& plan_values() const { return values_; }
    const std::vector<int>& plan_input_values() const { return input_values_; }
    const std::vector<int>& plan_output_values() const { return output_values_; }

private:
    Engine();
    int find_value(const std::string& name) const;  // by value name or step (layer/node) name; -1 if absent

    DataLayout layout_ = DataLayout::channels_last;
    std::vector<ValueInfo> inputs_;
    std::vector<int> input_values_;
    std::vector<std::string> output_names_;
    std::vector<int> output_values_;
    std::vector<PlanValue> values_;
    std::vector<PlanStep> steps_;
};

}  // namespace convscope
