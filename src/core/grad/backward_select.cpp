// Which backward a plan step gets: chosen by the step's op kind, built from
// the parameters its layer resolves to (select_backward, backward_steps.h).
//
// [SECTION] index
//   Keras layers
//   ONNX nodes
//   select_backward
#include <limits>
#include <map>

#include "core/base/error.h"
#include "core/engine/keras_params.h"
#include "core/grad/backward_steps.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

namespace {

using namespace grad;

// [SECTION] Keras layers ------------------------------------------------------------

std::vector<int64_t> expand(std::vector<int64_t> values, size_t rank, int64_t fallback, bool one_d) {
    if (values.empty()) values.assign(rank, fallback);
    if (values.size() == 1 && rank > 1) {
        // Copied first: assign() with a reference into the vector reads freed memory under libc++.
        const int64_t value = values[0];
        values.assign(rank, value);
    }
    if (values.size() != rank) throw UnsupportedError(concat("expected ", rank, " spatial values, got ", values.size()));
    if (one_d) values.insert(values.begin(), 1);
    return values;
}

// Every Keras parameter comes from the compiler's resolvers (keras_params.h):
// the geometry, weights and activation are those the forward step runs with.

BackwardStep keras_conv(const Model& model, const Layer& layer) {
    const KerasConvParams p = keras_conv_params(model, layer);
    if (p.channels_first) throw UnsupportedError("channels_first Keras convolution");
    if (!p.unsupported_activation.empty()) throw UnsupportedError(concat("activation '", p.unsupported_activation, "'"));
    std::vector<float> bias = p.bias ? p.bias->to_float_vector() : std::vector<float>{};
    const bool separable = p.variant == KerasConvVariant::separable;
    std::vector<ConvStage> stages;
    // Regular kernels are stored in the canonical layout; depthwise ones
    // [kh, kw, in, multiplier] are the canonical layout for groups == in.
    stages.push_back(make_stage(p.geometry, p.kernel->to_float_vector(), separable ? std::vector<float>{} : bias, p.padding));
    if (separable) stages.push_back(make_stage(p.pointwise_geometry, p.pointwise->to_float_vector(), bias, PaddingRule{}));
    return conv_backward(std::move(stages), FusedActivation{p.activation}, p.one_dimensional, false);
}

BackwardStep keras_backward(const Model& model, const Layer& layer, const PlanStep& plan) {
    switch (plan.op) {
        case OpKind::conv2d:
        case OpKind::separable_conv2d: return keras_conv(model, layer);
        case OpKind::dense: {
            const KerasDenseParams p = keras_dense_params(model, layer);
            std::vector<float> bias = p.bias ? p.bias->to_float_vector() : std::vector<float>{};
            return dense_backward(p.kernel->to_float_vector(), p.kernel->shape()[0], p.kernel->shape()[1], bias,
                                  FusedActivation{p.activation}, false);
        }
        case OpKind::max_pool2d:
        case OpKind::avg_pool2d: {
            const KerasPoolParams p = keras_pool_params(layer);
            return pool_backward(p.kind, p.geometry, p.padding, p.one_dimensional, false);
        }
        case OpKind::global_avg_pool:
        case OpKind::global_max_pool:
            return reduction_backward(plan.op == OpKind::global_max_pool ? ReduceKind::max : ReduceKind::mean,
                                      [](const Tensor& x) { return spatial_axes(x, false); });
        case OpKind::activation: return activation_step(keras_activation_layer_params(model, layer));
        case OpKind::softmax: return softmax_step(keras_softmax_axis(layer), false, false);
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

PaddingRule onnx_padding(const Layer& layer, size_t spatial) {
    PaddingRule rule;
    std::string auto_pad = layer.attribute_string("auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER") { rule.kind = PaddingRule::Kind::same_upper; return rule; }
    if (auto_pad == "SAME_LOWER") { rule.kind = PaddingRule::Kind::same_lower; return rule; }
    if (auto_pad == "VALID") return rule;
    std::vector<int64_t> pads = layer.attribute_ints("pads", std::vector<int64_t>(2 * spatial, 0));
    if (pads.size() != 2 * spatial) throw UnsupportedError("pads length");
    if (spatial == 1) { rule.left = pads[0]; rule.right = pads[1]; }
    else { rule.top = pads[0]; rule.left = pads[1]; rule.bottom = pads[2]; rule.right = pads[3]; }
    return rule;
}

// Conv: weights [out, in/groups, (kh,) kw] to the canonical layout.
BackwardStep onnx_conv(const OnnxNode& node) {
    [[maybe_unused]] const Model& model = node.model;
    [[maybe_unused]] const Layer& layer = node.layer;
    [[maybe_unused]] const PlanStep& plan = node.plan;
    [[maybe_unused]] const std::vector<bool>& runtime = node.runtime;
    [[maybe_unused]] const std::string& type = layer.type;
    const Tensor* weight = layer.inputs.size() > 1 ? onnx_constant(model, layer, layer.inputs[1]) : nullptr;
    if (!weight) throw UnsupportedError("Conv weights are not constant");
    const Tensor* bias_tensor = layer.inputs.size() > 2 && !layer.inputs[2].empty() ? onnx_constant(model, layer, layer.inputs[2]) : nullptr;
    size_t spatial = static_cast<size_t>(weight->rank() - 2);
    bool one_d = spatial == 1;
    const Shape& ws = weight->shape();
    Conv2DGeometry g;
    g.kernel_h = one_d ? 1 : ws[2];
    g.kernel_w = ws.back();
    std::vector<int64_t> strides = expand(layer.attribute_ints("strides", {}), spatial, 1, one_d);
    std::vector<int64_t> dilations = expand(layer.attribute_ints("dilations", {}), spatial, 1, one_d);
    g.stride_h = strides[0]; g.stride_w = strides[1];
    g.dilation_h = dilations[0]; g.dilation_w = dilations[1];
    g.groups = layer.attribute_int("group", 1);
    int64_t cog_total = ws[0], cig = ws[1], taps = g.kernel_h * g.kernel_w;
    g.in_channels = cig * g.groups;
    g.out_channels = cog_total;
    std::vector<float> w = weight->to_float_vector(), canonical(w.size());
    for (int64_t o = 0; o < cog_total; ++o)
        for (int64_t i = 0; i < cig; ++i)
            for (int64_t t = 0; t < taps; ++t) canonical[(t * cig + i) * cog_total + o] = w[(o * cig + i) * taps + t];
    std::vector<float> bias = bias_tensor ? bias_tensor->to_float_vector() : std::vector<float>{};
    std::vector<ConvStage> stages{make_stage(g, canonical, bias, onnx_padding(layer, spatial))};
    return conv_backward(std::move(stages), FusedActivation{}, one_d, true);
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

// MaxPool / AveragePool.
BackwardStep onnx_pool(const OnnxNode& node) {
    [[maybe_unused]] const Model& model = node.model;
    [[maybe_unused]] const Layer& layer = node.layer;
    [[maybe_unused]] const PlanStep& plan = node.plan;
    [[maybe_unused]] const std::vector<bool>& runtime = node.runtime;
    [[maybe_unused]] const std::string& type = layer.type;
    std::vector<int64_t> kernel = layer.attribute_ints("kernel_shape", {});
    size_t spatial = kernel.size();
    if (spatial != 1 && spatial != 2) throw UnsupportedError("pooling rank");
    bool one_d = spatial == 1;
    kernel = expand(kernel, spatial, 1, one_d);
    std::vector<int64_t> strides = expand(layer.attribute_ints("strides", {}), spatial, 1, one_d);
    std::vector<int64_t> dilations = expand(layer.attribute_ints("dilations", {}), spatial, 1, one_d);
    Pool2DGeometry g;
    g.kernel_h = kernel[0]; g.kernel_w = kernel[1];
    g.stride_h = strides[0]; g.stride_w = strides[1];
    g.dilation_h = dilations[0]; g.dilation_w = dilations[1];
    g.ceil_mode = layer.attribute_int("ceil_mode", 0) != 0;
    g.count_include_pad = layer.attribute_int("count_include_pad", 0) != 0;
    return pool_backward(plan.op == OpKind::max_pool2d ? PoolKind::max : PoolKind::average, g, onnx_padding(layer, spatial), one_d, true);
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

// Element-wise ONNX activations and unary maths.
BackwardStep onnx_activation(const OnnxNode& node) {
    [[maybe_unused]] const Model& model = node.model;
    [[maybe_unused]] const Layer& layer = node.layer;
    [[maybe_unused]] const PlanStep& plan = node.plan;
    [[maybe_unused]] const std::vector<bool>& runtime = node.runtime;
    [[maybe_unused]] const std::string& type = layer.type;
    if (type == "Clip") return pass_where_unchanged();
    Activation a;
    static const std::map<std::string, ActivationKind> kinds = {
        {"Sigmoid", ActivationKind::sigmoid}, {"Tanh", ActivationKind::tanh}, {"Selu", ActivationKind::selu},
        {"HardSwish", ActivationKind::hard_swish}, {"Softplus", ActivationKind::softplus}, {"Softsign", ActivationKind::softsign},
        {"Exp", ActivationKind::exponential}, {"Log", ActivationKind::log}, {"Sqrt", ActivationKind::sqrt},
        {"Neg", ActivationKind::negate}, {"Abs", ActivationKind::absolute}, {"Reciprocal", ActivationKind::reciprocal},
        {"Erf", ActivationKind::erf}, {"Floor", ActivationKind::floor}, {"Ceil", ActivationKind::ceil}};
    if (type == "Relu") { a.kind = ActivationKind::relu; a.alpha = std::numeric_limits<float>::infinity(); }
    else if (type == "LeakyRelu") { a.kind = ActivationKind::leaky_relu; a.alpha = static_cast<float>(layer.attribute_float("alpha", 0.01)); }
    else if (type == "Elu") { a.kind = ActivationKind::elu; a.alpha = static_cast<float>(layer.attribute_float("alpha", 1.0)); }
    else if (type == "HardSigmoid") {
        a.kind = ActivationKind::hard_sigmoid;
        a.alpha = static_cast<float>(layer.attribute_float("alpha", 0.2));
        a.beta = static_cast<float>(layer.attribute_float("beta", 0.5));
    } else if (type == "Gelu") {
        a.kind = layer.attribute_string("approximate", "none") == "tanh" ? ActivationKind::gelu_tanh : ActivationKind::gelu;
    } else if (kinds.count(type)) {
        a.kind = kinds.at(type);
    } else {
        throw UnsupportedError(concat("no backward for ", type));
    }
    return activation_step(a);
}

// Softmax / LogSoftmax: before opset 13 over the input flattened from axis (default 1).
BackwardStep onnx_softmax(const OnnxNode& node) {
    [[maybe_unused]] const Model& model = node.model;
    [[maybe_unused]] const Layer& layer = node.layer;
    [[maybe_unused]] const PlanStep& plan = node.plan;
    [[maybe_unused]] const std::vector<bool>& runtime = node.runtime;
    [[maybe_unused]] const std::string& type = layer.type;
    const int64_t opset = model.onnx_opset() > 0 ? model.onnx_opset() : 13;
    return softmax_step(layer.attribute_int("axis", opset >= 13 ? -1 : 1), opset < 13, type == "LogSoftmax");
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
        BackwardStep step;  // y = c / x: dy/dx = -y / x
        step.backward = [](const BackwardContext& c) {
            Tensor x = c.inputs[0]->to_float32();
            Tensor local = binary_op(BinaryKind::divide, c.output.to_float32(), x);
            Tensor g = binary_op(BinaryKind::multiply, c.output_gradient, local);
            g = binary_op(BinaryKind::multiply, g, Tensor::from_floats({}, {-1.0f}));
            return std::vector<Tensor>{reduce_to_shape(g, x.shape())};
        };
        return step;
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
        case OpKind::conv2d: return onnx_conv(node);
        case OpKind::dense:
        case OpKind::matmul: return onnx_dense(node);
        case OpKind::max_pool2d:
        case OpKind::avg_pool2d: return onnx_pool(node);
        case OpKind::global_avg_pool:
        case OpKind::global_max_pool:
            return reduction_backward(plan.op == OpKind::global_max_pool ? ReduceKind::max : ReduceKind::mean,
                                      [](const Tensor& x) { return spatial_axes(x, true); });
        case OpKind::reduce: return onnx_reduce(node);
        case OpKind::activation: return onnx_activation(node);
        case OpKind::softmax: return onnx_softmax(node);
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
    return onnx ? onnx_backward(model, *layer, plan, engine) : keras_backward(model, *layer, plan);
}

}  // namespace convscope
