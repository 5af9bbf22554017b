// Which backward a plan step gets: chosen by the step's op kind, built from
// the parameters its layer resolves to (select_backward, backward_steps.h).
//
// [SECTION] index
//   Keras layers
//   ONNX nodes
//   from the plan step's typed parameters
//   select_backward
#include <optional>
#include <variant>

#include "core/base/error.h"
#include "core/engine/keras_params.h"
#include "core/grad/backward_steps.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

namespace {

using namespace grad;

// [SECTION] Keras layers ------------------------------------------------------------

// Keras steps whose typed parameters have no LayerParams kind (merges, PReLU).
BackwardStep keras_backward(const Layer& layer, const PlanStep& plan) {
    switch (plan.op) {
        case OpKind::variadic: {
            const KerasMergeParams p = keras_merge_params(layer);
            return merge_backward(p.kind, p.average);
        }
        case OpKind::prelu: return prelu_step(plan.run);
        default: break;
    }
    throw UnsupportedError(concat("no backward for ", op_name(plan.op)));
}

// [SECTION] ONNX nodes -------------------------------------------------------------

// Convolution weights in the canonical layout (core/ops/conv.h).
struct ConvWeights {
    std::vector<float> kernel, pointwise, bias;
};

// An ONNX node with which of its inputs flow at run time (the plan lists only those).
struct OnnxNode {
    const Model& model;
    const Layer& layer;
    const PlanStep& plan;
    std::vector<bool> runtime;
};

// ONNX: an input that is an initializer or a folded Constant node's output.
const Tensor* onnx_constant(const Model& model, const Layer& layer, const std::string& name) {
    for (const Weight& w : layer.weights) if (w.name == name) return &w.tensor;
    for (const Layer& other : model.layers) {
        if (other.type != "Constant" || other.outputs.empty() || other.outputs[0] != name) continue;
        const AttributeValue* value = other.attribute("value");
        if (value && std::holds_alternative<Tensor>(*value)) return &std::get<Tensor>(*value);
    }
    return nullptr;
}

// Conv weights [out, in/groups, (kh,) kw] in the canonical layout (core/ops/conv.h).
ConvWeights onnx_conv_weights(const Model& model, const Layer& layer) {
    const Tensor* weight = layer.inputs.size() > 1 ? onnx_constant(model, layer, layer.inputs[1]) : nullptr;
    if (!weight) throw UnsupportedError("Conv weights are not constant");
    const Tensor* bias_tensor = layer.inputs.size() > 2 && !layer.inputs[2].empty() ? onnx_constant(model, layer, layer.inputs[2]) : nullptr;
    const Shape& ws = weight->shape();
    const int64_t cog_total = ws[0], cig = ws[1];
    int64_t taps = 1;
    for (int a = 2; a < weight->rank(); ++a) taps *= ws[static_cast<size_t>(a)];
    ConvWeights out;
    std::vector<float> w = weight->to_float_vector();
    out.kernel.resize(w.size());
    for (int64_t o = 0; o < cog_total; ++o)
        for (int64_t i = 0; i < cig; ++i)
            for (int64_t t = 0; t < taps; ++t) out.kernel[(t * cig + i) * cog_total + o] = w[(o * cig + i) * taps + t];
    if (bias_tensor) out.bias = bias_tensor->to_float_vector();
    return out;
}

// Gemm / MatMul with a constant B.
BackwardStep onnx_dense(const OnnxNode& node) {
    [[maybe_unused]] const Model& model = node.model;
    [[maybe_unused]] const Layer& layer = node.layer;
    [[maybe_unused]] const PlanStep& plan = node.plan;
    [[maybe_unused]] const std::vector<bool>& runtime = node.runtime;
    [[maybe_unused]] const std::string& type = layer.type;
    const Tensor* b = layer.inputs.size() > 1 ? onnx_constant(model, layer, layer.inputs[1]) : nullptr;
    if (!b || b->rank() != 2 || (layer.inputs.size() > 1 && runtime[1])) throw UnsupportedError("MatMul with a runtime B has no backward yet");
    bool gemm = type == "Gemm";
    bool trans_a = gemm && layer.attribute_int("transA", 0) != 0, trans_b = gemm && layer.attribute_int("transB", 0) != 0;
    float alpha = gemm ? static_cast<float>(layer.attribute_float("alpha", 1.0)) : 1.0f;
    std::vector<float> bv = b->to_float_vector();
    int64_t rows = b->shape()[0], cols = b->shape()[1];
    int64_t k = trans_b ? cols : rows, n = trans_b ? rows : cols;
    std::vector<float> kn(static_cast<size_t>(k * n));
    for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < n; ++j) kn[i * n + j] = alpha * (trans_b ? bv[j * cols + i] : bv[i * cols + j]);
    std::vector<float> bias;
    if (gemm && layer.inputs.size() > 2 && !layer.inputs[2].empty()) {
        const Tensor* c = onnx_constant(model, layer, layer.inputs[2]);
        float beta = static_cast<float>(layer.attribute_float("beta", 1.0));
        if (c && (c->element_count() == static_cast<uint64_t>(n) || c->element_count() == 1)) {
            std::vector<float> cv = c->to_float_vector();
            for (int64_t j = 0; j < n; ++j) bias.push_back(beta * cv[cv.size() == 1 ? 0 : static_cast<size_t>(j)]);
        }
    }
    return dense_backward(std::move(kn), k, n, std::move(bias), FusedActivation{}, trans_a);
}

// Reduce* with axes as attribute or constant input.
BackwardStep onnx_reduce(const OnnxNode& node) {
    [[maybe_unused]] const Model& model = node.model;
    [[maybe_unused]] const Layer& layer = node.layer;
    [[maybe_unused]] const PlanStep& plan = node.plan;
    [[maybe_unused]] const std::vector<bool>& runtime = node.runtime;
    [[maybe_unused]] const std::string& type = layer.type;
    ReduceKind kind = type == "ReduceMean" ? ReduceKind::mean : type == "ReduceSum" ? ReduceKind::sum
                    : type == "ReduceMax" ? ReduceKind::max : ReduceKind::min;
    std::vector<int64_t> axes = layer.attribute_ints("axes", {});
    if (axes.empty() && layer.inputs.size() > 1 && !layer.inputs[1].empty()) {
        const Tensor* t = onnx_constant(model, layer, layer.inputs[1]);
        if (!t) throw UnsupportedError("Reduce axes are not constant");
        for (uint64_t i = 0; i < t->element_count(); ++i) axes.push_back(static_cast<int64_t>(t->value_at(i)));
    }
    return reduction_backward(kind, [axes](const Tensor& x) {
        std::vector<int64_t> resolved;
        if (axes.empty()) for (int a = 0; a < x.rank(); ++a) resolved.push_back(a);
        for (int64_t a : axes) resolved.push_back(normalize_axis(a, x.rank(), "Reduce backward"));
        return resolved;
    });
}

// Add/Sub/Mul/Div/Pow with one or two runtime operands.
BackwardStep onnx_binary(const OnnxNode& node) {
    [[maybe_unused]] const Model& model = node.model;
    [[maybe_unused]] const Layer& layer = node.layer;
    [[maybe_unused]] const PlanStep& plan = node.plan;
    [[maybe_unused]] const std::vector<bool>& runtime = node.runtime;
    [[maybe_unused]] const std::string& type = layer.type;
    BinaryKind kind = type == "Add" ? BinaryKind::add : type == "Sub" ? BinaryKind::subtract : type == "Mul" ? BinaryKind::multiply
                    : type == "Div" ? BinaryKind::divide : BinaryKind::power;
    if (plan.inputs.size() == 2) return merge_backward(kind, false);
    if (plan.inputs.size() != 1) throw UnsupportedError("binary op without runtime input");
    bool runtime_first = !runtime.empty() && runtime[0];
    if (kind == BinaryKind::power) throw UnsupportedError("Pow with a constant operand has no backward yet");
    if (kind == BinaryKind::divide && !runtime_first) {
        return constant_over_input_backward();  // y = c / x
    }
    BackwardStep step;
    step.backward = affine_backward(plan.run, 0);
    return step;
}

BackwardStep onnx_backward(const Model& model, const Layer& layer, const PlanStep& plan, const Engine& engine) {
    const std::string& type = layer.type;
    // Which of the node's inputs flow at run time (the plan lists only those).
    std::vector<bool> runtime(layer.inputs.size(), false);
    for (size_t i = 0; i < layer.inputs.size(); ++i) {
        for (int v : plan.inputs) if (v >= 0 && engine.plan_values()[static_cast<size_t>(v)].name == layer.inputs[i]) runtime[i] = true;
    }
    const OnnxNode node{model, layer, plan, runtime};
    switch (plan.op) {
        case OpKind::dense:
        case OpKind::matmul: return onnx_dense(node);
        case OpKind::reduce: return onnx_reduce(node);
        case OpKind::prelu: return prelu_step(plan.run);
        case OpKind::binary: return onnx_binary(node);
        case OpKind::variadic: {
        if (plan.inputs.size() != layer.inputs.size()) throw UnsupportedError("variadic op with constant operands has no backward yet");
        BinaryKind kind = type == "Max" ? BinaryKind::maximum : type == "Min" ? BinaryKind::minimum : BinaryKind::add;
        return merge_backward(kind, type == "Mean");
        }
        default: break;
    }
    throw UnsupportedError(concat("no backward for ", op_name(plan.op)));
}

// [SECTION] from the plan step's typed parameters ---------------------------------

BackwardStep conv_from_params(const ConvParams& p, const ConvWeights& w) {
    if (p.transposed) throw UnsupportedError("no backward for transposed convolutions yet");
    Conv2DGeometry g;
    g.kernel_h = p.kernel_h; g.kernel_w = p.kernel_w;
    g.stride_h = p.stride_h; g.stride_w = p.stride_w;
    g.dilation_h = p.dilation_h; g.dilation_w = p.dilation_w;
    g.groups = p.groups;
    g.in_channels = p.in_channels;
    g.out_channels = p.depth_multiplier > 0 ? p.in_channels * p.depth_multiplier : p.out_channels;
    std::vector<ConvStage> stages{make_stage(g, w.kernel, p.separable ? std::vector<float>{} : w.bias, p.padding)};
    if (p.separable) {
        Conv2DGeometry pointwise;
        pointwise.in_channels = g.out_channels;
        pointwise.out_channels = p.out_channels;
        stages.push_back(make_stage(pointwise, w.pointwise, w.bias, PaddingRule{}));
    }
    return conv_backward(std::move(stages), FusedActivation{p.activation}, p.spatial == 1, p.channels_first);
}

BackwardStep pool_from_params(const PoolParams& p, OpKind op) {
    if (p.global) {
        const bool channels_first = p.channels_first;
        return reduction_backward(op == OpKind::global_max_pool ? ReduceKind::max : ReduceKind::mean,
                                  [channels_first](const Tensor& x) { return spatial_axes(x, channels_first); });
    }
    return pool_backward(p.kind, p.geometry, p.padding, p.spatial == 1, p.channels_first);
}

// Keras convolution weights as the compiler's resolver finds them: regular
// kernels are stored in the canonical layout, depthwise ones [kh, kw, in,
// multiplier] are the canonical layout for groups == in.
ConvWeights keras_conv_weights(const Model& model, const Layer& layer) {
    const KerasConvParams k = keras_conv_params(model, layer);
    ConvWeights w;
    w.kernel = k.kernel->to_float_vector();
    if (k.pointwise) w.pointwise = k.pointwise->to_float_vector();
    if (k.bias) w.bias = k.bias->to_float_vector();
    return w;
}

// The backward of a step from its LayerParams (and the weights the layer
// holds); nullopt when the step carries none of the kinds read here.
std::optional<BackwardStep> from_plan_params(const Model& model, const Layer& layer, const PlanStep& plan) {
    const LayerParams& params = plan.params;
    switch (plan.op) {
        case OpKind::conv2d:
        case OpKind::separable_conv2d:
            if (const auto* p = std::get_if<ConvParams>(&params)) {
                return conv_from_params(*p, model.is_onnx() ? onnx_conv_weights(model, layer) : keras_conv_weights(model, layer));
            }
            break;
        case OpKind::max_pool2d: case OpKind::avg_pool2d: case OpKind::global_avg_pool: case OpKind::global_max_pool:
            if (const auto* p = std::get_if<PoolParams>(&params)) return pool_from_params(*p, plan.op);
            break;
        case OpKind::activation:
            if (const auto* p = std::get_if<ActivationParams>(&params)) {
                // ONNX Clip's bounds may be runtime inputs (opset 11+): the
                // gradient passes where the step left the value unchanged.
                if (model.is_onnx() && p->activation.kind == ActivationKind::clip) return pass_where_unchanged();
                return activation_step(p->activation);
            }
            break;
        case OpKind::softmax:
            if (const auto* p = std::get_if<SoftmaxParams>(&params)) {
                if (p->hard) return no_gradient();  // Hardmax is piecewise constant
                return softmax_step(p->axis, p->flatten_to_2d, p->log);
            }
            break;
        case OpKind::dense:
            if (const auto* p = std::get_if<DenseParams>(&params); p && !model.is_onnx()) {
                const KerasDenseParams k = keras_dense_params(model, layer);
                std::vector<float> bias = k.bias ? k.bias->to_float_vector() : std::vector<float>{};
                return dense_backward(k.kernel->to_float_vector(), p->in_features, p->out_features, bias,
                                      FusedActivation{p->activation}, false);
            }
            break;
        default: break;
    }
    return std::nullopt;
}

}  // namespace

// [SECTION] select_backward --------------------------------------------------------

BackwardStep select_backward(const Model& model, const Engine& engine, const PlanStep& plan) {
    switch (plan.op) {
        case OpKind::input: case OpKind::constant: case OpKind::shape: return no_gradient();
        case OpKind::identity: return identity_backward();
        case OpKind::flatten: case OpKind::reshape: case OpKind::transpose: case OpKind::squeeze: case OpKind::unsqueeze:
        case OpKind::pad: case OpKind::crop: case OpKind::slice: case OpKind::gather: case OpKind::resize: case OpKind::cast: {
            BackwardStep step;
            step.backward = routing_backward(plan.run, false, plan.layer_name);
            return step;
        }
        case OpKind::concat: {
            BackwardStep step;
            step.backward = routing_backward(plan.run, true, plan.layer_name);
            return step;
        }
        case OpKind::batch_norm: case OpKind::normalization: {
            BackwardStep step;
            step.backward = affine_backward(plan.run, 0);
            return step;
        }
        default: break;
    }
    const Layer* layer = model.find_layer(plan.layer_name);
    if (!layer) throw UnsupportedError("its layer is not in the model");
    const bool onnx = model.is_onnx();
    if (std::optional<BackwardStep> step = from_plan_params(model, *layer, plan)) return *std::move(step);
    return onnx ? onnx_backward(model, *layer, plan, engine) : keras_backward(*layer, plan);
}

}  // namespace convscope
