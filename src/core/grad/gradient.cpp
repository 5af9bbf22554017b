// [SECTION] index
//   backward step type and the probes (data movement, per-element affine)
//   convolution, dense, pooling, activations, softmax, merges
//   per-layer compilers (Keras, ONNX)
//   the reverse sweep
#include "core/grad/gradient.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>

#include "core/base/error.h"
#include "core/engine/builders.h"
#include "core/engine/plan.h"
#include "core/grad/backward_ops.h"
#include "core/ops/elementwise.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

// [SECTION] backward step type ---------------------------------------------------

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

namespace {

bool is_float(DType d) { return d == DType::f32 || d == DType::f64 || d == DType::f16; }

std::string shapes_key(const std::vector<const Tensor*>& inputs) {
    std::string key;
    for (const Tensor* t : inputs) key += (t ? shape_to_string_x(t->shape()) + dtype_name(t->dtype()) : "-") + ";";
    return key;
}

Tensor float_copy(const Tensor& t) {
    Tensor out = Tensor::zeros(DType::f32, t.shape());
    Tensor f = t.to_float32();
    if (out.element_count()) std::memcpy(out.mutable_f32(), f.f32(), out.byte_size());
    return out;
}

// Operators that only copy elements: run the engine's step on inputs whose
// values are their own (1-based) indices, twice with different scales; an
// output that doubles with the scale came from that input element, one that
// stays put is a constant (padding). Anything else means the step mixes
// values and has no such adjoint.
BackwardFunction routing_backward(StepFunction forward, bool all_inputs_route, std::string label) {
    auto cache = std::make_shared<std::map<std::string, std::vector<int64_t>>>();
    return [forward, all_inputs_route, label, cache](const BackwardContext& c) {
        std::vector<size_t> routed;
        for (size_t i = 0; i < c.inputs.size(); ++i) {
            if (c.inputs[i] && is_float(c.inputs[i]->dtype()) && (all_inputs_route || i == 0)) routed.push_back(i);
        }
        std::vector<int64_t> offsets;
        int64_t total = 0;
        for (size_t i : routed) {
            offsets.push_back(total);
            total += static_cast<int64_t>(c.inputs[i]->element_count());
        }
        if (total >= (int64_t{1} << 23)) throw UnsupportedError(concat(label, ": too many elements to route (", total, ")"));
        std::string key = shapes_key(c.inputs);
        auto found = cache->find(key);
        if (found == cache->end()) {
            std::vector<Tensor> encoded[2];
            std::vector<Tensor> outputs[2];
            for (int pass = 0; pass < 2; ++pass) {
                StepInputs probe = c.inputs;
                for (size_t r = 0; r < routed.size(); ++r) {
                    Tensor t = Tensor::zeros(DType::f32, c.inputs[routed[r]]->shape());
                    float* v = t.mutable_f32();
                    for (uint64_t e = 0; e < t.element_count(); ++e) v[e] = static_cast<float>((offsets[r] + static_cast<int64_t>(e) + 1) * (pass + 1));
                    encoded[pass].push_back(t);
                }
                for (size_t r = 0; r < routed.size(); ++r) probe[routed[r]] = &encoded[pass][r];
                outputs[pass] = forward(probe);
            }
            Tensor a = outputs[0].at(0).to_float32(), b = outputs[1].at(0).to_float32();
            std::vector<int64_t> source(a.element_count(), -1);
            for (uint64_t j = 0; j < a.element_count(); ++j) {
                float x = a.f32()[j], y = b.f32()[j];
                if (x == y) continue;  // a constant (padding value)
                if (y != 2.0f * x || x < 1.0f || x > static_cast<float>(total) || x != std::floor(x)) {
                    throw UnsupportedError(concat(label, ": output element ", j, " mixes input elements; no routing backward"));
                }
                source[j] = static_cast<int64_t>(x) - 1;
            }
            found = cache->emplace(key, std::move(source)).first;
        }
        Tensor dy = c.output_gradient;
        if (dy.element_count() != found->second.size()) throw Error(concat(label, ": gradient size does not match the routing"));
        std::vector<float> all(static_cast<size_t>(total));
        route_backward(found->second, dy.f32(), all.data(), total);
        std::vector<Tensor> grads(c.inputs.size());
        for (size_t r = 0; r < routed.size(); ++r) {
            const Tensor& in = *c.inputs[routed[r]];
            grads[routed[r]] = Tensor::from_floats(in.shape(), std::vector<float>(all.begin() + offsets[r],
                                                                                  all.begin() + offsets[r] + static_cast<int64_t>(in.element_count())));
        }
        return grads;
    };
}

// Per-element affine steps y = s * x + t (t, s may broadcast from
// constants): s = f(1) - f(0), found by running the engine's own step.
BackwardFunction affine_backward(StepFunction forward, size_t runtime_index) {
    auto cache = std::make_shared<std::map<std::string, Tensor>>();
    return [forward, runtime_index, cache](const BackwardContext& c) {
        std::string key = shapes_key(c.inputs);
        auto found = cache->find(key);
        if (found == cache->end()) {
            const Tensor& x = *c.inputs.at(runtime_index);
            Tensor zeros = Tensor::zeros(DType::f32, x.shape());
            Tensor ones = Tensor::zeros(DType::f32, x.shape());
            std::fill(ones.mutable_f32(), ones.mutable_f32() + ones.element_count(), 1.0f);
            StepInputs probe = c.inputs;
            probe[runtime_index] = &zeros;
            Tensor at_zero = forward(probe).at(0).to_float32();
            probe[runtime_index] = &ones;
            Tensor at_one = forward(probe).at(0).to_float32();
            found = cache->emplace(key, binary_op(BinaryKind::subtract, at_one, at_zero)).first;
        }
        Tensor gradient = binary_op(BinaryKind::multiply, c.output_gradient, found->second);
        std::vector<Tensor> grads(c.inputs.size());
        grads[runtime_index] = reduce_to_shape(gradient, c.inputs[runtime_index]->shape());
        return grads;
    };
}

// [SECTION] convolution, dense, pooling, activations ------------------------------

PadPair resolve_padding(const PaddingRule& rule, bool height, int64_t size, int64_t kernel, int64_t stride, int64_t dilation) {
    switch (rule.kind) {
        case PaddingRule::Kind::explicit_pads: return height ? PadPair{rule.top, rule.bottom} : PadPair{rule.left, rule.right};
        case PaddingRule::Kind::same_upper: return same_padding(size, kernel, stride, dilation, true);
        case PaddingRule::Kind::same_lower: return same_padding(size, kernel, stride, dilation, false);
        case PaddingRule::Kind::causal: return height ? PadPair{0, 0} : PadPair{(kernel - 1) * dilation, 0};
    }
    return {};
}

// An activation tensor as NHWC [n, h, w, c] (1-D: h = 1), whatever the layout.
Tensor as_nhwc(const Tensor& t, bool one_d, bool channels_first) {
    Tensor x = t.to_float32();
    if (one_d) {
        if (x.rank() != 3) throw UnsupportedError(concat("expected a rank-3 tensor, got ", shape_to_string(x.shape())));
        const Shape& s = x.shape();
        x = channels_first ? x.reshaped({s[0], s[1], 1, s[2]}) : x.reshaped({s[0], 1, s[1], s[2]});
    } else if (x.rank() != 4) {
        throw UnsupportedError(concat("expected a rank-4 tensor, got ", shape_to_string(x.shape())));
    }
    return channels_first ? to_nhwc(x) : x;
}

Tensor from_nhwc(const Tensor& nhwc, const Shape& original, bool channels_first) {
    Tensor x = channels_first ? to_nchw(nhwc) : nhwc;
    return x.reshaped(original);
}

struct ConvStage {
    Conv2DBackwardWeights packed;
    std::shared_ptr<Conv2DKernel> forward;  // for the pre-activation when a fused activation needs it
    PaddingRule padding;
};

struct FusedActivation {
    OutputActivation activation;
    bool is_linear() const { return !activation.softmax && activation.activation.kind == ActivationKind::linear; }
    bool needs_preactivation() const { return !activation.softmax && !activation_derivative_from_output(activation.activation); }
};

// dz from dy through a fused output activation, given y and (when needed) z.
Tensor through_activation(const FusedActivation& fused, const Tensor& y, const Tensor& dy, const Preactivation& z_of,
                          const std::vector<const Tensor*>& inputs, bool skip) {
    if (skip || fused.is_linear()) return dy;
    Tensor dz = Tensor::zeros(DType::f32, dy.shape());
    Tensor yf = y.to_float32();
    if (fused.activation.softmax) {
        int64_t length = yf.rank() ? yf.shape().back() : 1;
        softmax_backward(yf.f32(), dy.f32(), dz.mutable_f32(), static_cast<int64_t>(yf.element_count()) / std::max<int64_t>(length, 1), length, 1);
        return dz;
    }
    Tensor z;
    if (fused.needs_preactivation()) z = z_of(inputs);
    activation_backward(fused.activation.activation, z.empty() ? nullptr : z.f32(), yf.f32(), dy.f32(), dz.mutable_f32(),
                        static_cast<int64_t>(dz.element_count()));
    return dz;
}

// Convolution stages (one, or depthwise + pointwise for separable) with a
// fused activation, on NHWC (Keras) or NCHW (ONNX) tensors.
BackwardStep conv_backward(std::vector<ConvStage> stages, FusedActivation fused, bool one_d, bool channels_first) {
    auto shared = std::make_shared<std::vector<ConvStage>>(std::move(stages));
    BackwardStep step;
    Preactivation z_of = [shared, one_d, channels_first](const std::vector<const Tensor*>& inputs) {
        Tensor x = as_nhwc(*inputs.at(0), one_d, channels_first);
        for (const ConvStage& stage : *shared) {
            const Conv2DGeometry& g = stage.forward->geometry();
            int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2];
            PadPair ph = resolve_padding(stage.padding, true, h, g.kernel_h, g.stride_h, g.dilation_h);
            PadPair pw = resolve_padding(stage.padding, false, w, g.kernel_w, g.stride_w, g.dilation_w);
            Tensor out = Tensor::zeros(DType::f32, {n, conv_output_size(h, g.kernel_h, g.stride_h, g.dilation_h, ph.begin, ph.end),
                                                    conv_output_size(w, g.kernel_w, g.stride_w, g.dilation_w, pw.begin, pw.end), g.out_channels});
            stage.forward->run_with_padding(x.f32(), n, h, w, ph.begin, pw.begin, ph.end, pw.end, out.mutable_f32());
            x = out;
        }
        return x;  // NHWC
    };
    step.fused_softmax = fused.activation.softmax;
    step.logits = [z_of, one_d, channels_first](const std::vector<const Tensor*>& inputs) {
        Tensor z = z_of(inputs);
        if (!channels_first && !one_d) return z;
        Tensor shaped = channels_first ? to_nchw(z) : z;
        if (one_d) shaped = shaped.reshaped(channels_first ? Shape{shaped.shape()[0], shaped.shape()[1], shaped.shape()[3]}
                                                           : Shape{shaped.shape()[0], shaped.shape()[2], shaped.shape()[3]});
        return shaped;
    };
    step.backward = [shared, fused, one_d, channels_first, z_of](const BackwardContext& c) {
        const Tensor& input = *c.inputs.at(0);
        Preactivation z_nhwc_as_output = [&](const std::vector<const Tensor*>& inputs) {
            return from_nhwc(z_of(inputs), c.output.shape(), channels_first);
        };
        Tensor dz = through_activation(fused, c.output, c.output_gradient, z_nhwc_as_output, c.inputs, c.skip_output_activation);
        Tensor gradient = as_nhwc(dz, one_d, channels_first);
        // Forward spatial sizes of every stage, then back through them.
        Tensor x = as_nhwc(input, one_d, channels_first);
        std::vector<std::array<int64_t, 2>> sizes{{x.shape()[1], x.shape()[2]}};
        std::vector<Conv2DGeometry> used;
        for (const ConvStage& stage : *shared) {
            Conv2DGeometry g = stage.packed.geometry;
            auto [h, w] = sizes.back();
            PadPair ph = resolve_padding(stage.padding, true, h, g.kernel_h, g.stride_h, g.dilation_h);
            PadPair pw = resolve_padding(stage.padding, false, w, g.kernel_w, g.stride_w, g.dilation_w);
            g.pad_top = ph.begin; g.pad_bottom = ph.end; g.pad_left = pw.begin; g.pad_right = pw.end;
            used.push_back(g);
            sizes.push_back({g.output_h(h), g.output_w(w)});
        }
        const int64_t n = x.shape()[0];
        for (size_t s = shared->size(); s-- > 0;) {
            const Conv2DGeometry& g = used[s];
            Tensor dx = Tensor::zeros(DType::f32, {n, sizes[s][0], sizes[s][1], g.in_channels});
            conv2d_backward_input((*shared)[s].packed, g, n, sizes[s][0], sizes[s][1], gradient.f32(), dx.mutable_f32());
            gradient = dx;
        }
        return std::vector<Tensor>{from_nhwc(gradient, input.shape(), channels_first)};
    };
    return step;
}

// y = act(x W + b) over the last axis; W is k x n row-major.
BackwardStep dense_backward(std::vector<float> weights, int64_t k, int64_t n, std::vector<float> bias, FusedActivation fused,
                            bool transpose_input) {
    auto packed = std::make_shared<PackedMatrix>(dense_backward_pack(weights.data(), k, n));
    auto w = std::make_shared<std::vector<float>>(std::move(weights));
    auto b = std::make_shared<std::vector<float>>(std::move(bias));
    BackwardStep step;
    Preactivation z_of = [w, b, k, n, transpose_input](const std::vector<const Tensor*>& inputs) {
        Tensor x = inputs.at(0)->to_float32();
        if (transpose_input) x = transpose(x, {1, 0});
        int64_t rows = static_cast<int64_t>(x.element_count()) / std::max<int64_t>(k, 1);
        Shape shape = x.shape();
        shape.back() = n;
        Tensor z = Tensor::zeros(DType::f32, shape);
        gemm_reference(rows, n, k, x.f32(), k, w->data(), n, z.mutable_f32(), n, b->empty() ? nullptr : b->data());
        return z;
    };
    step.fused_softmax = fused.activation.softmax;
    step.logits = z_of;
    step.backward = [packed, k, fused, z_of, transpose_input](const BackwardContext& c) {
        Tensor dz = through_activation(fused, c.output, c.output_gradient, z_of, c.inputs, c.skip_output_activation);
        int64_t rows = static_cast<int64_t>(dz.element_count()) / std::max<int64_t>(packed->rows, 1);
        Shape shape = dz.shape();
        shape.back() = k;
        Tensor dx = Tensor::zeros(DType::f32, shape);
        dense_backward_input(*packed, rows, dz.f32(), dx.mutable_f32());
        if (transpose_input) dx = transpose(dx, {1, 0});
        return std::vector<Tensor>{dx.reshaped(c.inputs.at(0)->shape())};
    };
    return step;
}

BackwardStep pool_backward(PoolKind kind, Pool2DGeometry geometry, PaddingRule padding, bool one_d, bool channels_first) {
    BackwardStep step;
    step.backward = [kind, geometry, padding, one_d, channels_first](const BackwardContext& c) {
        Tensor x = as_nhwc(*c.inputs.at(0), one_d, channels_first);
        Tensor dy = as_nhwc(c.output_gradient, one_d, channels_first);
        const int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], ch = x.shape()[3];
        Pool2DGeometry g = geometry;
        PadPair ph = resolve_padding(padding, true, h, g.kernel_h, g.stride_h, g.dilation_h);
        PadPair pw = resolve_padding(padding, false, w, g.kernel_w, g.stride_w, g.dilation_w);
        g.pad_top = ph.begin; g.pad_bottom = ph.end; g.pad_left = pw.begin; g.pad_right = pw.end;
        Tensor dx = Tensor::zeros(DType::f32, x.shape());
        pool2d_backward(kind, g, x.f32(), n, h, w, ch, dy.f32(), dx.mutable_f32());
        return std::vector<Tensor>{from_nhwc(dx, c.inputs.at(0)->shape(), channels_first)};
    };
    return step;
}

// Reductions over known axes (global pools, ONNX Reduce*).
BackwardStep reduction_backward(ReduceKind kind, std::function<std::vector<int64_t>(const Tensor&)> axes_of) {
    BackwardStep step;
    step.backward = [kind, axes_of](const BackwardContext& c) {
        const Tensor& x = *c.inputs.at(0);
        std::vector<int64_t> axes = axes_of(x);
        std::sort(axes.begin(), axes.end());
        return std::vector<Tensor>{reduce_backward(kind, x, c.output, axes, c.output_gradient)};
    };
    return step;
}

BackwardStep activation_step(Activation activation) {
    BackwardStep step;
    step.backward = [activation](const BackwardContext& c) {
        Tensor x = c.inputs.at(0)->to_float32();
        Tensor y = c.output.to_float32();
        Tensor dx = Tensor::zeros(DType::f32, x.shape());
        activation_backward(activation, x.f32(), y.f32(), c.output_gradient.f32(), dx.mutable_f32(), static_cast<int64_t>(dx.element_count()));
        return std::vector<Tensor>{dx};
    };
    return step;
}

// Steps whose input gradient is dy where the output equals the input (Clip).
BackwardStep pass_where_unchanged() {
    BackwardStep step;
    step.backward = [](const BackwardContext& c) {
        Tensor x = c.inputs.at(0)->to_float32(), y = c.output.to_float32();
        Tensor dx = float_copy(c.output_gradient);
        float* d = dx.mutable_f32();
        for (uint64_t i = 0; i < dx.element_count(); ++i) if (x.f32()[i] != y.f32()[i]) d[i] = 0.0f;
        return std::vector<Tensor>{dx};
    };
    return step;
}

BackwardStep softmax_step(int64_t axis, bool coerce_2d, bool log_softmax) {
    BackwardStep step;
    step.backward = [axis, coerce_2d, log_softmax](const BackwardContext& c) {
        Tensor y = c.output.to_float32();
        int a = normalize_axis(axis, y.rank(), "softmax backward");
        int64_t outer = 1, length = 1, inner = 1;
        for (int i = 0; i < a; ++i) outer *= y.shape()[i];
        if (coerce_2d) {
            for (int i = a; i < y.rank(); ++i) length *= y.shape()[i];
        } else {
            length = y.shape()[a];
            for (int i = a + 1; i < y.rank(); ++i) inner *= y.shape()[i];
        }
        Tensor dx = Tensor::zeros(DType::f32, y.shape());
        softmax_backward(y.f32(), c.output_gradient.f32(), dx.mutable_f32(), outer, length, inner, log_softmax);
        return std::vector<Tensor>{dx};
    };
    return step;
}

// y = x where x > 0 else slope * x, slope broadcast from a constant: slope = -f(-1).
BackwardStep prelu_step(StepFunction forward) {
    BackwardStep step;
    step.backward = [forward](const BackwardContext& c) {
        Tensor x = c.inputs.at(0)->to_float32();
        Tensor minus_one = Tensor::zeros(DType::f32, x.shape());
        std::fill(minus_one.mutable_f32(), minus_one.mutable_f32() + minus_one.element_count(), -1.0f);
        StepInputs probe = c.inputs;
        probe[0] = &minus_one;
        Tensor negative_response = forward(probe).at(0).to_float32();
        Tensor dx = float_copy(c.output_gradient);
        float* d = dx.mutable_f32();
        if (negative_response.element_count() != dx.element_count()) throw UnsupportedError("PReLU slope broadcasts beyond the input");
        for (uint64_t i = 0; i < dx.element_count(); ++i) if (!(x.f32()[i] > 0.0f)) d[i] *= -negative_response.f32()[i];
        return std::vector<Tensor>{dx};
    };
    return step;
}

// Keras merge layers and ONNX binary/variadic ops whose operands are all
// runtime values: fold left as the forward does, differentiate each fold.
BackwardStep merge_backward(BinaryKind kind, bool average) {
    BackwardStep step;
    step.backward = [kind, average](const BackwardContext& c) {
        const size_t count = c.inputs.size();
        std::vector<Tensor> partial{c.inputs.at(0)->to_float32()};
        for (size_t i = 1; i < count; ++i) partial.push_back(binary_op(kind, partial.back(), c.inputs[i]->to_float32()));
        Tensor gradient = c.output_gradient;
        if (average) gradient = binary_op(BinaryKind::multiply, gradient, Tensor::from_floats({}, {1.0f / static_cast<float>(count)}));
        std::vector<Tensor> grads(count);
        for (size_t i = count; i-- > 1;) {
            auto [left, right] = binary_backward(kind, partial[i - 1], c.inputs[i]->to_float32(), gradient);
            grads[i] = right;
            gradient = left;
        }
        grads[0] = reduce_to_shape(gradient, c.inputs[0]->shape());
        return grads;
    };
    return step;
}

// [SECTION] per-layer compilers ------------------------------------------------

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

const Tensor& keras_weight(const Layer& owner, const std::string& suffix, int position) {
    if (const Weight* w = owner.weight(suffix)) return w->tensor;
    bool any_named = false;
    for (const Weight& w : owner.weights) {
        for (const char* hint : {"kernel", "bias", "gamma", "moving", "alpha"}) any_named = any_named || w.name.find(hint) != std::string::npos;
    }
    if (!any_named && position >= 0 && position < static_cast<int>(owner.weights.size())) return owner.weights[static_cast<size_t>(position)].tensor;
    throw UnsupportedError(concat("weight '", suffix, "' not found (the layer has ", owner.weights.size(), " weights)"));
}

FusedActivation keras_fused(const Model& model, const Layer& layer) {
    FusedActivation fused;
    std::string name = layer.attribute_string("activation", "linear");
    if (name == "softmax") {
        fused.activation.softmax = true;
        return fused;
    }
    bool keras3 = model.is_keras3();
    if (!activation_from_keras_name(name, keras3, fused.activation.activation)) throw UnsupportedError(concat("activation '", name, "'"));
    return fused;
}

PaddingRule keras_padding(const Layer& layer) {
    std::string padding = layer.attribute_string("padding", "valid");
    PaddingRule rule;
    if (padding == "same") rule.kind = PaddingRule::Kind::same_upper;
    else if (padding == "causal") rule.kind = PaddingRule::Kind::causal;
    else if (padding != "valid") throw UnsupportedError(concat("padding '", padding, "'"));
    return rule;
}

ConvStage make_stage(const Conv2DGeometry& g, const std::vector<float>& canonical, const std::vector<float>& bias, PaddingRule padding) {
    ConvStage stage;
    stage.packed = conv2d_backward_pack(g, canonical.data());
    stage.forward = std::make_shared<Conv2DKernel>(g, canonical.data(), bias.empty() ? nullptr : bias.data());
    stage.padding = padding;
    return stage;
}

BackwardStep keras_conv(const Model& model, const Layer& layer, const Layer& owner, bool one_d) {
    if (layer.attribute_string("data_format", "channels_last") != "channels_last") throw UnsupportedError("channels_first Keras convolution");
    const bool depthwise = layer.type.find("Depthwise") != std::string::npos;
    const bool separable = layer.type.find("Separable") != std::string::npos;
    size_t rank = one_d ? 1 : 2;
    std::vector<int64_t> kernel = expand(layer.attribute_ints("kernel_size", {}), rank, 1, one_d);
    std::vector<int64_t> strides = expand(layer.attribute_ints("strides", {}), rank, 1, one_d);
    std::vector<int64_t> dilations = expand(layer.attribute_ints("dilation_rate", {}), rank, 1, one_d);
    Conv2DGeometry g;
    g.kernel_h = kernel[0]; g.kernel_w = kernel[1];
    g.stride_h = strides[0]; g.stride_w = strides[1];
    g.dilation_h = dilations[0]; g.dilation_w = dilations[1];
    bool use_bias = layer.attribute_int("use_bias", 1) != 0;
    std::vector<float> bias = use_bias ? keras_weight(owner, "bias", separable ? 2 : 1).to_float_vector() : std::vector<float>{};
    PaddingRule padding = keras_padding(layer);
    std::vector<ConvStage> stages;
    if (depthwise || separable) {
        const Tensor& k = keras_weight(owner, "depthwise_kernel", 0);
        if (k.rank() < 3) throw UnsupportedError("depthwise kernel rank");
        g.in_channels = k.shape()[k.rank() - 2];
        g.out_channels = g.in_channels * k.shape().back();
        g.groups = g.in_channels;
        stages.push_back(make_stage(g, k.to_float_vector(), separable ? std::vector<float>{} : bias, padding));
        if (separable) {
            const Tensor& p = keras_weight(owner, "pointwise_kernel", 1);
            Conv2DGeometry pg;
            pg.in_channels = g.out_channels;
            pg.out_channels = p.shape().back();
            stages.push_back(make_stage(pg, p.to_float_vector(), bias, PaddingRule{}));
        }
    } else {
        const Tensor& k = keras_weight(owner, "kernel", 0);
        g.groups = layer.attribute_int("groups", 1);
        g.in_channels = k.shape()[k.rank() - 2] * g.groups;
        g.out_channels = k.shape().back();
        stages.push_back(make_stage(g, k.to_float_vector(), bias, padding));
    }
    return conv_backward(std::move(stages), keras_fused(model, layer), one_d, false);
}

std::vector<int64_t> spatial_axes(const Tensor& x, bool channels_first) {
    std::vector<int64_t> axes;
    if (channels_first) for (int a = 2; a < x.rank(); ++a) axes.push_back(a);
    else for (int a = 1; a + 1 < x.rank(); ++a) axes.push_back(a);
    return axes;
}

BackwardStep compile_keras(const Model& model, const Layer& layer, const PlanStep& plan) {
    const Layer* owner = &layer;
    std::string shared = layer.attribute_string("shares_weights_with", "");
    if (!shared.empty() && layer.weights.empty()) {
        owner = model.find_layer(shared);
        if (!owner) throw UnsupportedError(concat("shares weights with missing '", shared, "'"));
    }
    const std::string& type = layer.type;
    switch (plan.op) {
        case OpKind::conv2d:
        case OpKind::separable_conv2d:
            return keras_conv(model, layer, *owner, type.find("1D") != std::string::npos);
        case OpKind::dense: {
            const Tensor& k = keras_weight(*owner, "kernel", 0);
            if (k.rank() != 2) throw UnsupportedError("Dense kernel rank");
            std::vector<float> bias = layer.attribute_int("use_bias", 1) ? keras_weight(*owner, "bias", 1).to_float_vector() : std::vector<float>{};
            return dense_backward(k.to_float_vector(), k.shape()[0], k.shape()[1], bias, keras_fused(model, layer), false);
        }
        case OpKind::max_pool2d:
        case OpKind::avg_pool2d: {
            bool one_d = type.find("1D") != std::string::npos;
            size_t rank = one_d ? 1 : 2;
            std::vector<int64_t> pool = expand(layer.attribute_ints("pool_size", {}), rank, 2, false);
            std::vector<int64_t> strides = layer.attribute_ints("strides", {});
            strides = strides.empty() ? pool : expand(strides, rank, 1, false);
            if (one_d) { pool.insert(pool.begin(), 1); strides.insert(strides.begin(), 1); }
            Pool2DGeometry g;
            g.kernel_h = pool[0]; g.kernel_w = pool[1];
            g.stride_h = strides[0]; g.stride_w = strides[1];
            return pool_backward(plan.op == OpKind::max_pool2d ? PoolKind::max : PoolKind::average, g, keras_padding(layer), one_d, false);
        }
        case OpKind::global_avg_pool:
        case OpKind::global_max_pool:
            return reduction_backward(plan.op == OpKind::global_max_pool ? ReduceKind::max : ReduceKind::mean,
                                      [](const Tensor& x) { return spatial_axes(x, false); });
        case OpKind::activation: {
            Activation a;
            if (type == "Activation") {
                bool keras3 = model.is_keras3();
                std::string name = layer.attribute_string("activation", "linear");
                if (!activation_from_keras_name(name, keras3, a)) throw UnsupportedError(concat("activation '", name, "'"));
            } else if (type == "ReLU") {
                a.kind = ActivationKind::relu;
                const AttributeValue* max_value = layer.attribute("max_value");
                a.alpha = max_value && !std::holds_alternative<std::string>(*max_value) ? static_cast<float>(layer.attribute_float("max_value", 0))
                                                                                       : std::numeric_limits<float>::infinity();
                a.beta = static_cast<float>(layer.attribute_float("negative_slope", 0.0));
                a.gamma = static_cast<float>(layer.attribute_float("threshold", 0.0));
            } else if (type == "LeakyReLU") {
                a.kind = ActivationKind::leaky_relu;
                a.alpha = static_cast<float>(layer.attribute_float("alpha", layer.attribute_float("negative_slope", 0.3)));
            } else if (type == "ELU") {
                a.kind = ActivationKind::elu;
                a.alpha = static_cast<float>(layer.attribute_float("alpha", 1.0));
            } else {
                throw UnsupportedError(concat("no backward for activation layer ", type));
            }
            return activation_step(a);
        }
        case OpKind::softmax: {
            std::vector<int64_t> axes = layer.attribute_ints("axis", {-1});
            if (axes.size() != 1) throw UnsupportedError("softmax over several axes");
            return softmax_step(axes[0], false, false);
        }
        case OpKind::variadic: {
            if (type == "Add") return merge_backward(BinaryKind::add, false);
            if (type == "Subtract") return merge_backward(BinaryKind::subtract, false);
            if (type == "Multiply") return merge_backward(BinaryKind::multiply, false);
            if (type == "Average") return merge_backward(BinaryKind::add, true);
            if (type == "Maximum") return merge_backward(BinaryKind::maximum, false);
            if (type == "Minimum") return merge_backward(BinaryKind::minimum, false);
            throw UnsupportedError(concat("no backward for merge layer ", type));
        }
        case OpKind::prelu: return prelu_step(plan.run);
        default: break;
    }
    throw UnsupportedError(concat("no backward for ", op_name(plan.op)));
}

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

BackwardStep compile_onnx(const Model& model, const Layer& layer, const PlanStep& plan, const Engine& engine) {
    const std::string& type = layer.type;
    // Which of the node's inputs flow at run time (the plan lists only those).
    std::vector<bool> runtime(layer.inputs.size(), false);
    for (size_t i = 0; i < layer.inputs.size(); ++i) {
        for (int v : plan.inputs) if (v >= 0 && engine.plan_values()[static_cast<size_t>(v)].name == layer.inputs[i]) runtime[i] = true;
    }
    switch (plan.op) {
        case OpKind::conv2d: {
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
        case OpKind::dense:
        case OpKind::matmul: {
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
        case OpKind::max_pool2d:
        case OpKind::avg_pool2d: {
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
        case OpKind::global_avg_pool:
        case OpKind::global_max_pool:
            return reduction_backward(plan.op == OpKind::global_max_pool ? ReduceKind::max : ReduceKind::mean,
                                      [](const Tensor& x) { return spatial_axes(x, true); });
        case OpKind::reduce: {
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
        case OpKind::activation: {
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
        case OpKind::softmax: {
            const int64_t opset = model.onnx_opset() > 0 ? model.onnx_opset() : 13;
            return softmax_step(layer.attribute_int("axis", opset >= 13 ? -1 : 1), opset < 13, type == "LogSoftmax");
        }
        case OpKind::prelu: return prelu_step(plan.run);
        case OpKind::binary: {
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
        case OpKind::variadic: {
            if (plan.inputs.size() != layer.inputs.size()) throw UnsupportedError("variadic op with constant operands has no backward yet");
            BinaryKind kind = type == "Max" ? BinaryKind::maximum : type == "Min" ? BinaryKind::minimum : BinaryKind::add;
            return merge_backward(kind, type == "Mean");
        }
        default: break;
    }
    throw UnsupportedError(concat("no backward for ", op_name(plan.op)));
}

BackwardStep compile_step(const Model& model, const Engine& engine, const PlanStep& plan, bool onnx) {
    switch (plan.op) {
        case OpKind::input: case OpKind::constant: case OpKind::shape: {
            BackwardStep none;
            none.backward = [](const BackwardContext& c) { return std::vector<Tensor>(c.inputs.size()); };
            return none;
        }
        case OpKind::identity: {
            BackwardStep step;
            step.backward = [](const BackwardContext& c) {
                std::vector<Tensor> grads(c.inputs.size());
                if (!grads.empty()) grads[0] = c.output_gradient.reshaped(c.inputs[0]->shape());
                return grads;
            };
            return step;
        }
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
    return onnx ? compile_onnx(model, *layer, plan, engine) : compile_keras(model, *layer, plan);
}

}  // namespace

// [SECTION] the reverse sweep ----------------------------------------------------

GradientEngine::GradientEngine() = default;
GradientEngine::GradientEngine(GradientEngine&&) noexcept = default;
GradientEngine& GradientEngine::operator=(GradientEngine&&) noexcept = default;
GradientEngine::~GradientEngine() = default;

GradientEngine GradientEngine::build(const Model& model, const Engine& engine) {
    GradientEngine result;
    result.engine_ = &engine;
    const bool onnx = model.is_onnx();
    for (const PlanStep& plan : engine.plan_steps()) {
        try {
            result.steps_.push_back(std::make_shared<BackwardStep>(compile_step(model, engine, plan, onnx)));
        } catch (const Error& error) {
            result.steps_.push_back(nullptr);
            result.unsupported_.push_back(concat(plan.layer_name, " (", plan.layer_type, "): ", error.what()));
        }
    }
    return result;
}

int GradientEngine::find_value(const std::string& name) const {
    const auto& values = engine_->plan_values();
    for (size_t v = 0; v < values.size(); ++v) if (values[v].name == name) return static_cast<int>(v);
    for (const PlanStep& step : engine_->plan_steps()) if (step.layer_name == name && !step.outputs.empty()) return step.outputs[0];
    return -1;
}

namespace {

int producer_of(const std::vector<PlanStep>& steps, int value) {
    for (size_t s = 0; s < steps.size(); ++s) {
        for (int v : steps[s].outputs) if (v == value) return static_cast<int>(s);
    }
    return -1;
}

// Where a class target is seeded: the logits value (before a trailing
// softmax step) or the output of a step with a fused softmax.
struct ClassSeed {
    int value = -1;
    int first_step = -1;           // the sweep starts here and goes down
    bool skip_activation = false;  // call first_step's backward without its fused softmax
    Tensor scores;                 // the scores the target reads
};

}  // namespace

Gradients GradientEngine::gradient_of(const Tensor& input, const Target& target, const std::string& activation_layer) const {
    const std::vector<PlanStep>& plan = engine_->plan_steps();
    const std::vector<PlanValue>& values = engine_->plan_values();
    RunOptions options;
    options.capture_all = true;
    RunResult run = engine_->run(input, options);
    std::vector<const Tensor*> tensor_of(values.size(), nullptr);
    for (size_t v = 0; v < values.size(); ++v) {
        auto found = run.activations.find(values[v].name);
        if (found != run.activations.end()) tensor_of[v] = &found->second;
    }
    if (engine_->plan_input_values().empty() || !tensor_of[static_cast<size_t>(engine_->plan_input_values()[0])]) {
        throw Error("gradient: the input was not captured");
    }
    const Tensor& fed_input = *tensor_of[static_cast<size_t>(engine_->plan_input_values()[0])];
    const int64_t batch = fed_input.rank() ? fed_input.shape()[0] : 1;

    Gradients result;
    std::vector<Tensor> grads(values.size());
    int first_step = -1;
    bool skip_activation = false;
    if (target.kind == Target::Kind::class_score) {
        if (engine_->plan_output_values().empty()) throw Error("gradient: the model has no output");
        int output_value = engine_->plan_output_values()[0];
        if (!tensor_of[static_cast<size_t>(output_value)]) throw Error("gradient: the output was not computed");
        result.output = *tensor_of[static_cast<size_t>(output_value)];
        int seed_value = output_value;
        int producer = producer_of(plan, output_value);
        first_step = producer;
        Tensor scores = result.output.to_float32();
        if (!target.probability && producer >= 0) {
            const PlanStep& last = plan[static_cast<size_t>(producer)];
            const BackwardStep* backward = steps_[static_cast<size_t>(producer)].get();
            if (last.op == OpKind::softmax && !last.inputs.empty() && last.inputs[0] >= 0) {
                seed_value = last.inputs[0];
                first_step = producer - 1;
                scores = tensor_of[static_cast<size_t>(seed_value)]->to_float32();
            } else if (backward && backward->fused_softmax) {
                skip_activation = true;
                std::vector<const Tensor*> inputs;
                for (int v : last.inputs) inputs.push_back(v >= 0 ? tensor_of[static_cast<size_t>(v)] : nullptr);
                scores = backward->logits(inputs);
            }
        }
        const int64_t per_item = static_cast<int64_t>(scores.element_count()) / std::max<int64_t>(batch, 1);
        int64_t class_index = target.class_index;
        if (class_index < 0) {
            class_index = 0;
            for (int64_t i = 1; i < per_item; ++i) if (scores.f32()[i] > scores.f32()[class_index]) class_index = i;
        }
        if (class_index >= per_item) throw Error(concat("class ", class_index, " is out of range: the model scores ", per_item, " classes"));
        result.class_index = class_index;
        Tensor seed = Tensor::zeros(DType::f32, scores.shape());
        for (int64_t n = 0; n < batch; ++n) {
            seed.mutable_f32()[n * per_item + class_index] = 1.0f;
            result.target_values.push_back(scores.f32()[n * per_item + class_index]);
        }
        grads[static_cast<size_t>(seed_value)] = seed;
    } else {
        int value = find_value(target.layer);
        if (value < 0 || !tensor_of[static_cast<size_t>(value)]) throw Error(concat("no layer or value named '", target.layer, "'"));
        Tensor activation = tensor_of[static_cast<size_t>(value)]->to_float32();
        if (activation.rank() < 2) throw Error(concat("'", target.layer, "' has no channel axis (shape ", shape_to_string(activation.shape()), ")"));
        const bool channels_first = engine_->layout() == DataLayout::channels_first;
        const int axis = channels_first || activation.rank() == 2 ? 1 : activation.rank() - 1;
        const int64_t channels = activation.shape()[axis];
        if (target.channel < 0 || target.channel >= channels) {
            throw Error(concat("channel ", target.channel, " is out of range: '", target.layer, "' has ", channels, " channels"));
        }
        int64_t inner = 1;
        for (int a = axis + 1; a < activation.rank(); ++a) inner *= activation.shape()[a];
        const int64_t per_item = static_cast<int64_t>(activation.element_count()) / std::max<int64_t>(batch, 1);
        const int64_t spatial = per_item / channels;
        Tensor seed = Tensor::zeros(DType::f32, activation.shape());
        for (int64_t n = 0; n < batch; ++n) {
            double sum = 0.0;
            for (int64_t i = 0; i < per_item; ++i) {
                int64_t channel = (i / inner) % channels;
                if (channel != target.channel) continue;
                seed.mutable_f32()[n * per_item + i] = 1.0f / static_cast<float>(spatial);
                sum += activation.f32()[n * per_item + i];
            }
            result.target_values.push_back(static_cast<float>(sum / static_cast<double>(spatial)));
        }
        grads[static_cast<size_t>(value)] = seed;
        first_step = producer_of(plan, value);
        if (!run.outputs.empty()) result.output = run.outputs.begin()->second;
    }

    for (int s = first_step; s >= 0; --s) {
        const PlanStep& step = plan[static_cast<size_t>(s)];
        if (step.outputs.empty() || step.outputs[0] < 0) continue;
        const Tensor& gradient = grads[static_cast<size_t>(step.outputs[0])];
        for (size_t o = 1; o < step.outputs.size(); ++o) {
            if (step.outputs[o] >= 0 && !grads[static_cast<size_t>(step.outputs[o])].empty()) {
                throw UnsupportedError(concat("layer '", step.layer_name, "': gradients through its output ", o, " are not supported"));
            }
        }
        if (gradient.empty()) continue;
        const BackwardStep* backward = steps_[static_cast<size_t>(s)].get();
        if (!backward) {
            std::string reason;
            for (const std::string& u : unsupported_) if (u.rfind(step.layer_name + " (", 0) == 0) reason = u;
            throw UnsupportedError(concat("no backward pass for ", reason.empty() ? step.layer_name : reason));
        }
        const Tensor* output = tensor_of[static_cast<size_t>(step.outputs[0])];
        std::vector<const Tensor*> inputs;
        for (int v : step.inputs) inputs.push_back(v >= 0 ? tensor_of[static_cast<size_t>(v)] : nullptr);
        Tensor output_gradient = gradient.shape() == output->shape() ? gradient : gradient.reshaped(output->shape());
        BackwardContext context{inputs, *output, output_gradient, s == first_step && skip_activation};
        std::vector<Tensor> input_grads;
        try {
            input_grads = backward->backward(context);
        } catch (const Error& error) {
            throw UnsupportedError(concat("backward of layer '", step.layer_name, "' (", step.layer_type, "): ", error.what()));
        }
        for (size_t i = 0; i < step.inputs.size() && i < input_grads.size(); ++i) {
            int v = step.inputs[i];
            if (v < 0 || input_grads[i].empty() || !tensor_of[static_cast<size_t>(v)]) continue;
            if (!is_float(tensor_of[static_cast<size_t>(v)]->dtype())) continue;
            Tensor g = input_grads[i].reshaped(tensor_of[static_cast<size_t>(v)]->shape());
            Tensor& slot = grads[static_cast<size_t>(v)];
            slot = slot.empty() ? g : binary_op(BinaryKind::add, slot, g);
        }
    }

    int input_value = engine_->plan_input_values()[0];
    Tensor input_gradient = grads[static_cast<size_t>(input_value)];
    if (input_gradient.empty()) input_gradient = Tensor::zeros(DType::f32, fed_input.shape());
    result.input_gradient = input_gradient.reshaped(input.rank() == fed_input.rank() ? input.shape() : fed_input.shape());
    if (!activation_layer.empty()) {
        int value = find_value(activation_layer);
        if (value < 0 || !tensor_of[static_cast<size_t>(value)]) throw Error(concat("no layer or value named '", activation_layer, "'"));
        result.activation = *tensor_of[static_cast<size_t>(value)];
        result.activation_gradient = grads[static_cast<size_t>(value)].empty() ? Tensor::zeros(DType::f32, result.activation.shape())
                                                                               : grads[static_cast<size_t>(value)];
    }
    return result;
}

std::vector<float> GradientEngine::scores(const Tensor& input, int64_t class_index, bool probability) const {
    const std::vector<PlanStep>& plan = engine_->plan_steps();
    int output_value = engine_->plan_output_values().at(0);
    int producer = producer_of(plan, output_value);
    RunOptions options;
    std::string logits_name;
    const BackwardStep* fused = nullptr;
    if (!probability && producer >= 0) {
        const PlanStep& last = plan[static_cast<size_t>(producer)];
        if (last.op == OpKind::softmax && !last.inputs.empty() && last.inputs[0] >= 0) {
            logits_name = engine_->plan_values()[static_cast<size_t>(last.inputs[0])].name;
            options.capture.push_back(logits_name);
        } else if (steps_[static_cast<size_t>(producer)] && steps_[static_cast<size_t>(producer)]->fused_softmax) {
            fused = steps_[static_cast<size_t>(producer)].get();
            for (int v : last.inputs) if (v >= 0) options.capture.push_back(engine_->plan_values()[static_cast<size_t>(v)].name);
        }
    }
    RunResult run = engine_->run(input, options);
    Tensor scores;
    if (!logits_name.empty()) {
        scores = run.activations.at(logits_name).to_float32();
    } else if (fused) {
        std::vector<const Tensor*> inputs;
        for (int v : plan[static_cast<size_t>(producer)].inputs) {
            inputs.push_back(v >= 0 ? &run.activations.at(engine_->plan_values()[static_cast<size_t>(v)].name) : nullptr);
        }
        scores = fused->logits(inputs);
    } else {
        scores = run.outputs.at(engine_->output_names().at(0)).to_float32();
    }
    const int64_t batch = scores.rank() ? scores.shape()[0] : 1;
    const int64_t per_item = static_cast<int64_t>(scores.element_count()) / std::max<int64_t>(batch, 1);
    if (class_index < 0 || class_index >= per_item) throw Error(concat("class ", class_index, " is out of range (", per_item, " classes)"));
    std::vector<float> out;
    for (int64_t n = 0; n < batch; ++n) out.push_back(scores.f32()[n * per_item + class_index]);
    return out;
}

}  // namespace convscope
