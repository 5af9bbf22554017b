// Backward builders, one per operator family (backward_steps.h).
//
// [SECTION] index
//   probes of the engine's step (data movement, per-element affine)
//   convolution, dense, pooling, reductions
//   activations, softmax, PReLU, merges, trivial steps
#include "core/grad/backward_steps.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>

#include "core/base/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/tensor_ops.h"

namespace convscope {
namespace grad {

bool is_float(DType d) { return d == DType::f32 || d == DType::f64 || d == DType::f16; }

namespace {

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

}  // namespace

// [SECTION] probes of the engine's step ------------------------------------------

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

// [SECTION] convolution, dense, pooling, reductions -------------------------------

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

// [SECTION] activations, softmax, PReLU, merges, trivial steps --------------------

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

BackwardStep constant_over_input_backward() {
    BackwardStep step;
    step.backward = [](const BackwardContext& c) {
        Tensor x = c.inputs[0]->to_float32();
        Tensor local = binary_op(BinaryKind::divide, c.output.to_float32(), x);
        Tensor g = binary_op(BinaryKind::multiply, c.output_gradient, local);
        g = binary_op(BinaryKind::multiply, g, Tensor::from_floats({}, {-1.0f}));
        return std::vector<Tensor>{reduce_to_shape(g, x.shape())};
    };
    return step;
}

BackwardStep no_gradient() {
    BackwardStep none;
    none.backward = [](const BackwardContext& c) { return std::vector<Tensor>(c.inputs.size()); };
    return none;
}

BackwardStep identity_backward() {
    BackwardStep step;
    step.backward = [](const BackwardContext& c) {
        std::vector<Tensor> grads(c.inputs.size());
        if (!grads.empty()) grads[0] = c.output_gradient.reshaped(c.inputs[0]->shape());
        return grads;
    };
    return step;
}

ConvStage make_stage(const Conv2DGeometry& g, const std::vector<float>& canonical, const std::vector<float>& bias, PaddingRule padding) {
    ConvStage stage;
    stage.packed = conv2d_backward_pack(g, canonical.data());
    stage.forward = std::make_shared<Conv2DKernel>(g, canonical.data(), bias.empty() ? nullptr : bias.data());
    stage.padding = padding;
    return stage;
}

std::vector<int64_t> spatial_axes(const Tensor& x, bool channels_first) {
    std::vector<int64_t> axes;
    if (channels_first) for (int a = 2; a < x.rank(); ++a) axes.push_back(a);
    else for (int a = 1; a + 1 < x.rank(); ++a) axes.push_back(a);
    return axes;
}

}  // namespace grad
}  // namespace convscope
