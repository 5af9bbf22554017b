// The execution plan: what the layer compilers (compile_keras.cpp,
// compile_onnx.cpp) return per layer and what Engine keeps per step.
//
// Contract: src/core/engine builds and runs plans; src/core/grad reads them
// (Engine::plan_steps()) to walk the steps backwards and reads each step's
// typed `params` instead of the layer's attribute strings. Nothing else
// includes this header; a step's `run` is only called by Engine::run and by
// the gradient code's probes, on inputs shaped as the plan says.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/model/layer_params.h"
#include "core/ops/op_list.h"

namespace convscope {

using StepInputs = std::vector<const Tensor*>;  // null for an absent optional input
using StepFunction = std::function<std::vector<Tensor>(const StepInputs& inputs)>;
// Optional in-place form of a step: writes its one output into the buffer of
// `consumed` (input 0) and returns it. Engine::run calls it instead of `run`
// only when input 0 is an owned float32 buffer that nothing else holds (no
// later step, capture, output, constant or other live value), so an
// element-wise step skips allocating and filling a fresh tensor.
using ConsumingStepFunction = std::function<Tensor(Tensor& consumed, const StepInputs& inputs)>;

// What a compiler returns for one layer / node.
struct CompiledLayer {
    OpKind op = OpKind::identity;
    StepFunction run;
    std::string algorithm;  // e.g. "im2col-gemm", shown by describe()
    ConsumingStepFunction run_consuming;  // may be empty
    // Inputs the step consumes; ONNX initializers are baked into the step,
    // so only the names of runtime values are listed (in order, "" = absent).
    std::vector<std::string> inputs;
    LayerParams params;  // the layer's attributes, resolved once (monostate when the op has none)
};

struct PlanValue {
    std::string name;
    std::string producer;  // layer / node name, empty for model inputs
};

struct PlanStep {
    std::string layer_name;
    std::string layer_type;
    OpKind op = OpKind::identity;
    std::string algorithm;
    std::vector<int> inputs;   // value indices, -1 when absent
    std::vector<int> outputs;
    StepFunction run;
    ConsumingStepFunction run_consuming;  // may be empty
    LayerParams params;                   // copied from CompiledLayer::params
};

// Both throw UnsupportedError with the reason when the layer cannot run.
CompiledLayer compile_keras_layer(const Model& model, const Layer& layer);
// The ONNX node's op is looked up in the op table (compile_onnx.cpp) by
// type, domain and the model's opset for that domain.
CompiledLayer compile_onnx_node(const Model& model, const Layer& layer);
// The op table's rows as "ai.onnx::Softmax 13+" (for docs and tests).
std::vector<std::string> onnx_supported_ops();
CompiledLayer compile_tflite_operator(const Model& model, const Layer& layer);

// Shared helpers for the compilers.
const Tensor& require_input(const StepInputs& inputs, size_t index, const char* op);
Tensor to_nhwc(const Tensor& nchw);
Tensor to_nchw(const Tensor& nhwc);

}  // namespace convscope
