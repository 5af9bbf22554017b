// The backward step of one plan step, and the builders that make one per
// operator family. Internal to src/core/grad: gradient.cpp walks the plan in
// reverse calling these; backward_select.cpp picks the builder for a plan
// step from its op kind and the parameters its layer resolves to.
//
// Builders take resolved, typed parameters (geometry, canonical weights,
// padding rule, activation); none of them reads a Model attribute.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/builders.h"
#include "core/engine/plan.h"
#include "core/grad/backward_ops.h"

namespace convscope {

struct BackwardContext {
    const std::vector<const Tensor*>& inputs;  // the step's runtime inputs as run (null when absent)
    const Tensor& output;                      // the step's first output as run
    const Tensor& output_gradient;             // d target / d output (f32, output's shape)
    bool skip_output_activation;               // seed was placed before a fused softmax
};

// Per runtime input: its gradient, or an empty tensor when none flows.
using BackwardFunction = std::function<std::vector<Tensor>(const BackwardContext&)>;
using Preactivation = std::function<Tensor(const std::vector<const Tensor*>&)>;

struct BackwardStep {
    BackwardFunction backward;
    bool fused_softmax = false;  // layer with activation="softmax"
    Preactivation logits;        // its pre-softmax output, for class scores
};

namespace grad {

bool is_float(DType d);

// One convolution of a step (separable steps have two: depthwise, pointwise).
struct ConvStage {
    Conv2DBackwardWeights packed;
    std::shared_ptr<Conv2DKernel> forward;  // for the pre-activation when a fused activation needs it
    PaddingRule padding;
};
// `canonical` weights: [kh][kw][in/groups][out] (core/ops/conv.h).
ConvStage make_stage(const Conv2DGeometry& g, const std::vector<float>& canonical, const std::vector<float>& bias,
                     PaddingRule padding);

struct FusedActivation {
    OutputActivation activation;
    bool is_linear() const { return !activation.softmax && activation.activation.kind == ActivationKind::linear; }
    bool needs_preactivation() const { return !activation.softmax && !activation_derivative_from_output(activation.activation); }
};

// Probes of the engine's own step function (see gradient.h).
BackwardFunction routing_backward(StepFunction forward, bool all_inputs_route, std::string label);
BackwardFunction affine_backward(StepFunction forward, size_t runtime_index);

// Convolution stages with a fused activation, on NHWC (Keras) or NCHW (ONNX) tensors.
BackwardStep conv_backward(std::vector<ConvStage> stages, FusedActivation fused, bool one_d, bool channels_first);
// y = act(x W + b) over the last axis; W is k x n row-major.
BackwardStep dense_backward(std::vector<float> weights, int64_t k, int64_t n, std::vector<float> bias, FusedActivation fused,
                            bool transpose_input);
BackwardStep pool_backward(PoolKind kind, Pool2DGeometry geometry, PaddingRule padding, bool one_d, bool channels_first);
// Reductions over axes known once the input is (global pools, ONNX Reduce*).
BackwardStep reduction_backward(ReduceKind kind, std::function<std::vector<int64_t>(const Tensor&)> axes_of);
std::vector<int64_t> spatial_axes(const Tensor& x, bool channels_first);
BackwardStep activation_step(Activation activation);
// Steps whose input gradient is dy where the output equals the input (Clip).
BackwardStep pass_where_unchanged();
BackwardStep softmax_step(int64_t axis, bool coerce_2d, bool log_softmax);
// y = x where x > 0 else slope * x, slope found by probing the step.
BackwardStep prelu_step(StepFunction forward);
// Merges and binary/variadic ops whose operands are all runtime values.
BackwardStep merge_backward(BinaryKind kind, bool average);
// y = c / x for a constant c: dy/dx = -y / x.
BackwardStep constant_over_input_backward();
// Steps with nothing to differentiate (inputs, constants, shapes) and identity.
BackwardStep no_gradient();
BackwardStep identity_backward();

}  // namespace grad

// The backward step of one plan step (backward_select.cpp). Throws
// UnsupportedError with the reason when it has none.
BackwardStep select_backward(const Model& model, const Engine& engine, const PlanStep& plan);

}  // namespace convscope
