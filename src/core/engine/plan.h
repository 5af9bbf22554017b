// Internals of the engine shared by engine.cpp and the two layer compilers
// (compile_keras.cpp, compile_onnx.cpp). Not for use outside src/core/engine.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/engine/engine.h"
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
};

// Both throw UnsupportedError with the reason when the layer cannot run.
CompiledLayer compile_keras_layer(const Model& model, const Layer& layer);
CompiledLayer compile_onnx_node(const Model& model, const Layer& layer);
CompiledLayer compile_tflite_operator(const Model& model, const Layer& layer);

// Shared helpers for the compilers.
const Tensor& require_input(const StepInputs& inputs, size_t index, const char* op);
Tensor to_nhwc(const Tensor& nchw);
Tensor to_nchw(const Tensor& nhwc);

}  // namespace convscope
