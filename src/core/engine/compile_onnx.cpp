// ONNX nodes -> plan steps. Activations are NCHW; convolution and pooling
// transpose to NHWC around the shared kernels. Initializers (Layer.weights)
// are baked into the step; only runtime values flow through the plan.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/base/error.h"
#include "core/engine/builders.h"
#include "core/engine/plan.h"
#include "core/ops/elementwise.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

namespace {

// Inputs as the op sees them: initializers resolved at build time, runtime
// values filled per run, absent optionals null.
struct OnnxInputs {
    std::vector<const Tensor*> constants;  // per ONNX input; null when runtime or absent
    std::vector<std::string> runtime_names;
    std::vector<int> runtime_position;     // per ONNX input: index into runtime_names or -1
};

using OnnxFunction = std::function<std::vector<Tensor>(const std::vector<const Tensor*>& all_inputs)>;

// The default domain's opset; a file that imports none (not valid ONNX, but
// written by some old exporters) is read with opset-13 semantics.
int onnx_opset(const Model& model) {
    int64_t opset = model.onnx_opset();
    return opset > 0 ? static_cast<int>(opset) : 13;
}

std::vector<int64_t> ints_of(const Tensor& t) {
    std::vector<int64_t> out(t.element_count());
    for (uint64_t i = 0; i < t.element_count(); ++i) out[i] = static_cast<int64_t>(t.value_at(i));
    return out;
}

const Tensor& input_at(const std::vector<const Tensor*>& in, size_t i, const char* op) {
    if (i >= in.size() || !in[i]) throw UnsupportedError(concat(op, ": input ", i, " is missing"));
    return *in[i];
}

bool has_input(const std::vector<const Tensor*>& in, size_t i) { return i < in.size() && in[i]; }

Tensor int64_tensor(const std::vector<int64_t>& values) {
    Tensor t = Tensor::zeros(DType::i64, {static_cast<int64_t>(values.size())});
    if (!values.empty()) std::memcpy(t.mutable_raw(), values.data(), values.size() * 8);
    return t;
}

Tensor to_int64(const Tensor& t) {
    Tensor out = Tensor::zeros(DType::i64, t.shape());
    int64_t* dst = reinterpret_cast<int64_t*>(out.mutable_raw());
    for (uint64_t i = 0; i < t.element_count(); ++i) dst[i] = static_cast<int64_t>(std::llround(t.value_at(i)));
    return out;
}

bool is_integer(DType d) { return d != DType::f32 && d != DType::f64 && d != DType::f16; }

// Conv/pool padding from pads + auto_pad for `spatial` axes (1 or 2).
PaddingRule onnx_padding(const Layer& layer, size_t spatial) {
    PaddingRule rule;
    std::string auto_pad = layer.attribute_string("auto_pad", "NOTSET");
    if (auto_pad == "SAME_UPPER") { rule.kind = PaddingRule::Kind::same_upper; return rule; }
    if (auto_pad == "SAME_LOWER") { rule.kind = PaddingRule::Kind::same_lower; return rule; }
    if (auto_pad != "NOTSET" && auto_pad != "VALID" && !auto_pad.empty()) throw UnsupportedError(concat("auto_pad '", auto_pad, "'"));
    if (auto_pad == "VALID") return rule;
    std::vector<int64_t> pads = layer.attribute_ints("pads", std::vector<int64_t>(2 * spatial, 0));
    if (pads.size() != 2 * spatial) throw UnsupportedError(concat("pads has ", pads.size(), " values for ", spatial, " spatial axes"));
    if (spatial == 1) { rule.left = pads[0]; rule.right = pads[1]; }
    else { rule.top = pads[0]; rule.left = pads[1]; rule.bottom = pads[2]; rule.right = pads[3]; }
    return rule;
}

std::vector<int64_t> two_d(std::vector<int64_t> v, size_t spatial, int64_t fallback) {
    if (v.empty()) v.assign(spatial, fallback);
    if (spatial == 1) v.insert(v.begin(), 1);
    if (v.size() != 2) throw UnsupportedError(concat("expected ", spatial, " spatial values, got ", v.size()));
    return v;
}

// NCHW (or NCL) input through an NHWC step and back.
Tensor via_nhwc(const Tensor& input, bool one_d, const std::function<Tensor(const Tensor&)>& step) {
    Tensor x = input.to_float32();
    if (one_d) {
        if (x.rank() != 3) throw UnsupportedError(concat("expected NCL input, got ", shape_to_string(x.shape())));
        Tensor out = to_nchw(step(to_nhwc(x.reshaped({x.shape()[0], x.shape()[1], 1, x.shape()[2]}))));
        return out.reshaped({out.shape()[0], out.shape()[1], out.shape()[3]});
    }
    if (x.rank() != 4) throw UnsupportedError(concat("expected NCHW input, got ", shape_to_string(x.shape())));
    return to_nchw(step(to_nhwc(x)));
}

// One pass from the input into a fresh output (the input may be a weight
// view or a value another step still reads, so it is never changed).
Tensor activated(const Activation& a, const Tensor& input) {
    Tensor x = input.to_float32();
    Tensor out = Tensor::uninitialized(DType::f32, x.shape());
    if (out.element_count()) apply_activation(a, x.f32(), out.mutable_f32(), static_cast<int64_t>(out.element_count()));
    return out;
}

OnnxFunction unary(Activation a) {
    return [a](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{activated(a, input_at(in, 0, "activation"))};
    };
}

using OnnxConsumingFunction = std::function<Tensor(Tensor& consumed, const std::vector<const Tensor*>& all_inputs)>;

// In place: the engine hands over input 0's buffer (see ConsumingStepFunction).
OnnxConsumingFunction unary_consuming(Activation a) {
    return [a](Tensor& x, const std::vector<const Tensor*>&) {
        apply_activation(a, x.f32(), x.mutable_f32(), static_cast<int64_t>(x.element_count()));
        return std::move(x);
    };
}

// ONNX MaxPool / AveragePool on NCHW (or NCL) planes, no transposes.
struct NchwPoolStep {
    PoolKind kind = PoolKind::max;
    Pool2DGeometry geometry;
    PaddingRule padding;
    bool one_dimensional = false;

    Tensor run(const Tensor& input) const {
        Tensor x = input.to_float32();
        if (one_dimensional) {
            if (x.rank() != 3) throw UnsupportedError(concat("pooling: expected NCL input, got ", shape_to_string(x.shape())));
            x = x.reshaped({x.shape()[0], x.shape()[1], 1, x.shape()[2]});
        } else if (x.rank() != 4) {
            throw UnsupportedError(concat("pooling: expected NCHW input, got ", shape_to_string(x.shape())));
        }
        const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
        Pool2DGeometry g = geometry;
        g.validate("pooling");
        if (padding.kind == PaddingRule::Kind::same_upper || padding.kind == PaddingRule::Kind::same_lower) {
            bool extra_at_end = padding.kind == PaddingRule::Kind::same_upper;
            PadPair ph = same_padding(h, g.kernel_h, g.stride_h, g.dilation_h, extra_at_end);
            PadPair pw = same_padding(w, g.kernel_w, g.stride_w, g.dilation_w, extra_at_end);
            g.pad_top = ph.begin; g.pad_bottom = ph.end; g.pad_left = pw.begin; g.pad_right = pw.end;
        } else {
            g.pad_top = padding.top; g.pad_bottom = padding.bottom; g.pad_left = padding.left; g.pad_right = padding.right;
        }
        g.validate("pooling");
        const int64_t oh = g.output_h(h), ow = g.output_w(w);
        Tensor out = Tensor::uninitialized(DType::f32, {n, c, oh, ow});
        if (out.element_count()) pool2d_nchw(kind, g, x.f32(), n * c, h, w, out.mutable_f32());
        if (one_dimensional) return out.reshaped({n, c, ow});
        return out;
    }
};

Activation make(ActivationKind kind, float alpha = 0, float beta = 0) {
    Activation a;
    a.kind = kind;
    a.alpha = alpha;
    a.beta = beta;
    return a;
}

Tensor binary_any(BinaryKind kind, const Tensor& a, const Tensor& b) {
    if (is_integer(a.dtype()) && is_integer(b.dtype())) {
        return to_int64(binary_op(kind, a.to_float32(), b.to_float32()));
    }
    return binary_op(kind, a.to_float32(), b.to_float32());
}

std::vector<int64_t> squeeze_axes(const Layer& layer, const std::vector<const Tensor*>& in) {
    if (has_input(in, 1)) return ints_of(*in[1]);
    return layer.attribute_ints("axes", {});
}

}  // namespace

CompiledLayer compile_onnx_node(const Model& model, const Layer& layer) {
    const std::string& type = layer.type;
    const int opset = onnx_opset(model);
    // Resolve inputs: which are initializers (baked) and which flow at run time.
    std::vector<const Tensor*> constants(layer.inputs.size(), nullptr);
    std::vector<std::string> runtime_names;
    std::vector<int> runtime_position(layer.inputs.size(), -1);
    for (size_t i = 0; i < layer.inputs.size(); ++i) {
        const std::string& name = layer.inputs[i];
        if (name.empty()) continue;
        for (const Weight& w : layer.weights) if (w.name == name) constants[i] = &w.tensor;
        if (!constants[i]) {
            runtime_position[i] = static_cast<int>(runtime_names.size());
            runtime_names.push_back(name);
        }
    }
    // Owned copies of the initializers so the step does not depend on the Model's lifetime.
    auto baked = std::make_shared<std::vector<Tensor>>();
    baked->reserve(constants.size());
    for (const Tensor* t : constants) baked->push_back(t ? (is_integer(t->dtype()) ? to_int64(*t) : t->to_float32()) : Tensor());
    // A node may list fewer inputs than its op needs (a damaged file): absent means absent.
    auto constant_at = [&](size_t i) -> const Tensor* {
        return i < constants.size() && constants[i] ? &(*baked)[i] : nullptr;
    };

    CompiledLayer compiled;
    compiled.inputs = runtime_names;
    OnnxFunction function;
    OnnxConsumingFunction consuming;  // optional in-place form, for element-wise ops
    OpKind op = OpKind::identity;
    auto activation_step = [&](const Activation& a) {
        op = OpKind::activation;
        function = unary(a);
        consuming = unary_consuming(a);
    };

    if (type == "Conv" || type == "ConvTranspose") {
        const Tensor* weight = constant_at(1);
        if (!weight) throw UnsupportedError("weights that are not initializers are not supported");
        const Tensor* bias_tensor = layer.inputs.size() > 2 ? constant_at(2) : nullptr;
        if (layer.inputs.size() > 2 && !layer.inputs[2].empty() && !bias_tensor) throw UnsupportedError("runtime bias is not supported");
        size_t spatial = static_cast<size_t>(weight->rank() - 2);
        if (spatial != 1 && spatial != 2) throw UnsupportedError(concat(spatial, "-D convolution is not supported"));
        bool one_d = spatial == 1;
        const Shape& ws = weight->shape();
        std::vector<int64_t> kernel = two_d(layer.attribute_ints("kernel_shape", {}), spatial, 0);
        int64_t kh = one_d ? 1 : ws[2], kw = ws[spatial == 1 ? 2 : 3];
        if ((kernel[0] && kernel[0] != kh) || (kernel[1] && kernel[1] != kw)) throw UnsupportedError("kernel_shape does not match the weights");
        std::vector<int64_t> strides = two_d(layer.attribute_ints("strides", {}), spatial, 1);
        std::vector<int64_t> dilations = two_d(layer.attribute_ints("dilations", {}), spatial, 1);
        int64_t groups = layer.attribute_int("group", 1);
        // to_float32 shares a float32 tensor's bytes: no transient copy.
        const Tensor w = weight->to_float32();
        std::vector<float> bias = bias_tensor ? bias_tensor->to_float_vector() : std::vector<float>{};
        int64_t taps = kh * kw;
        Conv2DGeometry g;
        g.kernel_h = kh; g.kernel_w = kw;
        g.stride_h = strides[0]; g.stride_w = strides[1];
        g.dilation_h = dilations[0]; g.dilation_w = dilations[1];
        g.groups = groups;
        if (type == "Conv") {
            g.in_channels = ws[1] * groups;
            g.out_channels = ws[0];
            NchwConvStep step;
            step.kernel = std::make_shared<Conv2DNchwKernel>(g, w.f32(), bias.empty() ? nullptr : bias.data());
            step.padding = onnx_padding(layer, spatial);
            step.one_dimensional = one_d;
            compiled.algorithm = step.kernel->algorithm();
            op = OpKind::conv2d;
            function = [step](const std::vector<const Tensor*>& in) {
                return std::vector<Tensor>{step.run(input_at(in, 0, "Conv"))};
            };
        } else {
            // [I][O/g][kh][kw] -> [I][kh][kw][O/g]
            int64_t in_channels = ws[0], cog = ws[1];
            g.in_channels = in_channels;
            g.out_channels = cog * groups;
            std::vector<float> canonical(static_cast<size_t>(w.element_count()));
            const float* source = w.f32();
            for (int64_t i = 0; i < in_channels; ++i)
                for (int64_t o = 0; o < cog; ++o)
                    for (int64_t t = 0; t < taps; ++t) canonical[(i * taps + t) * cog + o] = source[(i * cog + o) * taps + t];
            ConvTranspose2DGeometry geometry;
            geometry.conv = g;
            ConvTransposeStep step;
            step.kernel = std::make_shared<ConvTranspose2DKernel>(geometry, canonical.data(), bias.empty() ? nullptr : bias.data());
            step.size_rule = ConvTransposeStep::SizeRule::onnx;
            PaddingRule pads = onnx_padding(layer, spatial);
            std::string auto_pad = layer.attribute_string("auto_pad", "NOTSET");
            std::vector<int64_t> output_padding = two_d(layer.attribute_ints("output_padding", {}), spatial, 0);
            std::vector<int64_t> output_shape = layer.attribute_ints("output_shape", {});
            if (!output_shape.empty()) output_shape = two_d(output_shape, spatial, -1);
            step.pad_top = pads.top; step.pad_left = pads.left; step.pad_bottom = pads.bottom; step.pad_right = pads.right;
            step.output_padding_h = output_padding[0];
            step.output_padding_w = output_padding[1];
            if (pads.kind != PaddingRule::Kind::explicit_pads && output_shape.empty()) output_shape = {-2, -2};
            step.auto_pad_upper = auto_pad == "SAME_UPPER";
            step.output_shape_h = output_shape.empty() ? -1 : output_shape[0];
            step.output_shape_w = output_shape.empty() ? -1 : output_shape[1];
            compiled.algorithm = "gemm + col2im";
            op = OpKind::conv_transpose2d;
            function = [step, one_d](const std::vector<const Tensor*>& in) {
                ConvTransposeStep sized = step;
                const Tensor& x = input_at(in, 0, "ConvTranspose");
                // SAME_*: output = input * stride.
                if (sized.output_shape_h == -2 && x.rank() >= 3) {
                    sized.output_shape_h = one_d ? 1 : x.shape()[2] * sized.kernel->geometry().conv.stride_h;
                    sized.output_shape_w = x.shape().back() * sized.kernel->geometry().conv.stride_w;
                }
                return std::vector<Tensor>{via_nhwc(x, one_d, [&](const Tensor& t) { return sized.run(t); })};
            };
        }
    } else if (type == "Gemm" || (type == "MatMul" && constant_at(1) && constant_at(1)->rank() == 2)) {
        const Tensor* b = constant_at(1);
        if (!b || b->rank() != 2) throw UnsupportedError("B must be a 2-D initializer");
        bool trans_a = layer.attribute_int("transA", 0) != 0, trans_b = layer.attribute_int("transB", 0) != 0;
        float alpha = static_cast<float>(layer.attribute_float("alpha", 1.0)), beta = static_cast<float>(layer.attribute_float("beta", 1.0));
        if (type == "MatMul") trans_a = trans_b = false, alpha = 1.0f;
        int64_t n = trans_b ? b->shape()[0] : b->shape()[1];
        // In place from a float32 view of the file when alpha is 1 (the
        // usual export); transA transposes the input, not the weights.
        DenseStep step = make_dense_step(*b, trans_b, alpha);
        Tensor c_tensor;
        if (type == "Gemm" && layer.inputs.size() > 2 && !layer.inputs[2].empty()) {
            const Tensor* c = constant_at(2);
            if (!c) throw UnsupportedError("runtime C is not supported");
            if (c->element_count() == static_cast<uint64_t>(n) || c->element_count() == 1) {
                std::vector<float> cv = c->to_float_vector();
                step.bias.assign(static_cast<size_t>(n), 0.0f);
                for (int64_t j = 0; j < n; ++j) step.bias[j] = beta * cv[cv.size() == 1 ? 0 : j];
            } else {
                c_tensor = binary_op(BinaryKind::multiply, c->to_float32(), Tensor::from_floats({}, {beta}));
            }
        }
        op = type == "Gemm" ? OpKind::dense : OpKind::matmul;
        compiled.algorithm = step.runs_in_place() ? "gemv-in-place" : "packed-gemm";
        function = [step, trans_a, c_tensor](const std::vector<const Tensor*>& in) {
            Tensor a = input_at(in, 0, "Gemm").to_float32();
            if (trans_a) {
                if (a.rank() != 2) throw UnsupportedError("transA needs a 2-D A");
                a = transpose(a, {1, 0});
            }
            Tensor out = step.run(a);
            if (!c_tensor.empty()) out = binary_op(BinaryKind::add, out, c_tensor);
            return std::vector<Tensor>{out};
        };
    } else if (type == "MatMul") {
        op = OpKind::matmul;
        function = [](const std::vector<const Tensor*>& in) {
            Tensor a = input_at(in, 0, "MatMul").to_float32(), b = input_at(in, 1, "MatMul").to_float32();
            if (a.rank() < 2 || b.rank() < 2 || a.shape().back() != b.shape()[b.rank() - 2]) {
                throw UnsupportedError(concat("MatMul of ", shape_to_string(a.shape()), " and ", shape_to_string(b.shape())));
            }
            int64_t m = a.shape()[a.rank() - 2], k = a.shape().back(), n = b.shape().back();
            int64_t batch_a = static_cast<int64_t>(a.element_count()) / (m * k), batch_b = static_cast<int64_t>(b.element_count()) / (k * n);
            if (batch_a != batch_b && batch_b != 1) throw UnsupportedError("MatMul batch broadcasting beyond a shared B is not supported");
            Shape out_shape = a.shape();
            out_shape.back() = n;
            Tensor out = Tensor::zeros(DType::f32, out_shape);
            for (int64_t i = 0; i < batch_a; ++i) {
                gemm_reference(m, n, k, a.f32() + i * m * k, k, b.f32() + (batch_b == 1 ? 0 : i * k * n), n,
                               out.mutable_f32() + i * m * n, n, nullptr);
            }
            return std::vector<Tensor>{out};
        };
    } else if (type == "MaxPool" || type == "AveragePool" || type == "LpPool") {
        if (type == "LpPool") throw UnsupportedError("LpPool is not supported");
        if (layer.outputs.size() > 1 && !layer.outputs[1].empty()) throw UnsupportedError("MaxPool indices output is not supported");
        std::vector<int64_t> kernel = layer.attribute_ints("kernel_shape", {});
        size_t spatial = kernel.size();
        if (spatial != 1 && spatial != 2) throw UnsupportedError(concat(spatial, "-D pooling is not supported"));
        bool one_d = spatial == 1;
        kernel = two_d(kernel, spatial, 1);
        std::vector<int64_t> strides = two_d(layer.attribute_ints("strides", {}), spatial, 1);
        std::vector<int64_t> dilations = two_d(layer.attribute_ints("dilations", {}), spatial, 1);
        NchwPoolStep step;
        step.one_dimensional = one_d;
        step.kind = type == "MaxPool" ? PoolKind::max : PoolKind::average;
        step.geometry.kernel_h = kernel[0]; step.geometry.kernel_w = kernel[1];
        step.geometry.stride_h = strides[0]; step.geometry.stride_w = strides[1];
        step.geometry.dilation_h = dilations[0]; step.geometry.dilation_w = dilations[1];
        step.geometry.ceil_mode = layer.attribute_int("ceil_mode", 0) != 0;
        step.geometry.count_include_pad = layer.attribute_int("count_include_pad", 0) != 0;
        step.padding = onnx_padding(layer, spatial);
        op = step.kind == PoolKind::max ? OpKind::max_pool2d : OpKind::avg_pool2d;
        compiled.algorithm = "nchw-pool";
        function = [step](const std::vector<const Tensor*>& in) {
            return std::vector<Tensor>{step.run(input_at(in, 0, "pool"))};
        };
    } else if (type == "GlobalAveragePool" || type == "GlobalMaxPool") {
        ReduceKind kind = type == "GlobalMaxPool" ? ReduceKind::max : ReduceKind::mean;
        op = kind == ReduceKind::max ? OpKind::global_max_pool : OpKind::global_avg_pool;
        compiled.algorithm = "nchw-global-pool";
        function = [kind](const std::vector<const Tensor*>& in) {
            Tensor x = input_at(in, 0, "global pool").to_float32();
            if (x.rank() < 3) throw UnsupportedError(concat("global pooling: expected N, C and spatial axes, got ", shape_to_string(x.shape())));
            // [N, C, spatial...] -> [N, C, 1, ...]: each (n, c) plane reduced on its own.
            Shape out_shape = x.shape();
            int64_t pixels = 1;
            for (int a = 2; a < x.rank(); ++a) { pixels *= out_shape[a]; out_shape[a] = 1; }
            if (pixels == 0) throw UnsupportedError(concat("global pooling over an empty input ", shape_to_string(x.shape())));
            Tensor out = Tensor::uninitialized(DType::f32, out_shape);
            if (out.element_count()) {
                global_pool_nchw(kind == ReduceKind::max ? PoolKind::max : PoolKind::average, x.f32(),
                                 static_cast<int64_t>(out.element_count()), pixels, out.mutable_f32());
            }
            return std::vector<Tensor>{out};
        };
    } else if (type == "BatchNormalization") {
        for (size_t i = 1; i < 5; ++i) if (!constant_at(i)) throw UnsupportedError("batch normalization parameters must be initializers");
        std::vector<float> scale = constant_at(1)->to_float_vector(), bias = constant_at(2)->to_float_vector();
        std::vector<float> mean = constant_at(3)->to_float_vector(), variance = constant_at(4)->to_float_vector();
        float epsilon = static_cast<float>(layer.attribute_float("epsilon", 1e-5));
        std::vector<float> multiplier(mean.size()), shift(mean.size());
        if (scale.size() != mean.size() || bias.size() != mean.size() || variance.size() != mean.size()) throw UnsupportedError("parameter sizes differ");
        for (size_t i = 0; i < mean.size(); ++i) {
            multiplier[i] = scale[i] / std::sqrt(variance[i] + epsilon);
            shift[i] = bias[i] - mean[i] * multiplier[i];
        }
        op = OpKind::batch_norm;
        function = [multiplier, shift](const std::vector<const Tensor*>& in) {
            Tensor x = input_at(in, 0, "BatchNormalization").to_float32();
            if (x.rank() < 2 || x.shape()[1] != static_cast<int64_t>(multiplier.size())) {
                throw UnsupportedError(concat("expected ", multiplier.size(), " channels, got ", shape_to_string(x.shape())));
            }
            int64_t channels = x.shape()[1];
            int64_t inner = static_cast<int64_t>(x.element_count()) / std::max<int64_t>(x.shape()[0] * channels, 1);
            Tensor out = Tensor::uninitialized(DType::f32, x.shape());
            if (out.element_count()) channel_affine(x.f32(), out.mutable_f32(), x.shape()[0], channels, inner, multiplier.data(), shift.data());
            return std::vector<Tensor>{out};
        };
        // channel_affine reads each element before writing the same one.
        consuming = [function, multiplier, shift](Tensor& x, const std::vector<const Tensor*>& in) {
            if (x.rank() < 2 || x.shape()[1] != static_cast<int64_t>(multiplier.size())) return function(in)[0];
            int64_t channels = x.shape()[1];
            int64_t inner = static_cast<int64_t>(x.element_count()) / std::max<int64_t>(x.shape()[0] * channels, 1);
            channel_affine(x.f32(), x.mutable_f32(), x.shape()[0], channels, inner, multiplier.data(), shift.data());
            return std::move(x);
        };
    } else if (type == "LayerNormalization") {
        int64_t axis = layer.attribute_int("axis", -1);
        float epsilon = static_cast<float>(layer.attribute_float("epsilon", 1e-5));
        std::vector<float> gamma = constant_at(1) ? constant_at(1)->to_float_vector() : std::vector<float>{};
        std::vector<float> beta = layer.inputs.size() > 2 && constant_at(2) ? constant_at(2)->to_float_vector() : std::vector<float>{};
        op = OpKind::layer_norm;
        function = [axis, epsilon, gamma, beta](const std::vector<const Tensor*>& in) {
            Tensor x = input_at(in, 0, "LayerNormalization").to_float32();
            int a = normalize_axis(axis, x.rank(), "LayerNormalization");
            int64_t inner = 1;
            for (int i = a; i < x.rank(); ++i) inner *= x.shape()[i];
            if ((!gamma.empty() && static_cast<int64_t>(gamma.size()) != inner) || (!beta.empty() && static_cast<int64_t>(beta.size()) != inner)) {
                throw UnsupportedError("scale/bias must cover the normalized axes exactly (no broadcasting)");
            }
            Tensor out = Tensor::zeros(DType::f32, x.shape());
            if (inner) layer_norm(x.f32(), out.mutable_f32(), static_cast<int64_t>(x.element_count()) / inner, inner, epsilon,
                                  gamma.empty() ? nullptr : gamma.data(), beta.empty() ? nullptr : beta.data());
            return std::vector<Tensor>{out};
        };
    } else if (type == "Relu") { activation_step(make(ActivationKind::relu, std::numeric_limits<float>::infinity()));
    } else if (type == "Sigmoid") { activation_step(make(ActivationKind::sigmoid));
    } else if (type == "Tanh") { activation_step(make(ActivationKind::tanh));
    } else if (type == "LeakyRelu") { activation_step(make(ActivationKind::leaky_relu, static_cast<float>(layer.attribute_float("alpha", 0.01))));
    } else if (type == "Elu") { activation_step(make(ActivationKind::elu, static_cast<float>(layer.attribute_float("alpha", 1.0))));
    } else if (type == "Selu") {
        if (layer.attribute("alpha") || layer.attribute("gamma")) throw UnsupportedError("Selu with non-default alpha/gamma is not supported");
        activation_step(make(ActivationKind::selu));
    } else if (type == "HardSigmoid") { activation_step(make(ActivationKind::hard_sigmoid, static_cast<float>(layer.attribute_float("alpha", 0.2)), static_cast<float>(layer.attribute_float("beta", 0.5))));
    } else if (type == "HardSwish") { activation_step(make(ActivationKind::hard_swish));
    } else if (type == "Softplus") { activation_step(make(ActivationKind::softplus));
    } else if (type == "Softsign") { activation_step(make(ActivationKind::softsign));
    } else if (type == "Gelu") { activation_step(make(layer.attribute_string("approximate", "none") == "tanh" ? ActivationKind::gelu_tanh : ActivationKind::gelu));
    } else if (type == "Exp") { activation_step(make(ActivationKind::exponential));
    } else if (type == "Log") { activation_step(make(ActivationKind::log));
    } else if (type == "Sqrt") { activation_step(make(ActivationKind::sqrt));
    } else if (type == "Neg") { activation_step(make(ActivationKind::negate));
    } else if (type == "Abs") { activation_step(make(ActivationKind::absolute));
    } else if (type == "Reciprocal") { activation_step(make(ActivationKind::reciprocal));
    } else if (type == "Erf") { activation_step(make(ActivationKind::erf));
    } else if (type == "Floor") { activation_step(make(ActivationKind::floor));
    } else if (type == "Ceil") { activation_step(make(ActivationKind::ceil));
    } else if (type == "Clip") {
        op = OpKind::activation;
        float low = static_cast<float>(layer.attribute_float("min", -std::numeric_limits<float>::infinity()));
        float high = static_cast<float>(layer.attribute_float("max", std::numeric_limits<float>::infinity()));
        auto bounds = [low, high](const std::vector<const Tensor*>& in) {
            Activation a = make(ActivationKind::clip, low, high);
            if (has_input(in, 1) && in[1]->element_count()) a.alpha = static_cast<float>(in[1]->value_at(0));
            if (has_input(in, 2) && in[2]->element_count()) a.beta = static_cast<float>(in[2]->value_at(0));
            return a;
        };
        function = [bounds](const std::vector<const Tensor*>& in) {
            return std::vector<Tensor>{activated(bounds(in), input_at(in, 0, "Clip"))};
        };
        consuming = [bounds](Tensor& x, const std::vector<const Tensor*>& in) {
            return unary_consuming(bounds(in))(x, in);
        };
    } else if (type == "PRelu") {
        op = OpKind::prelu;
        function = [](const std::vector<const Tensor*>& in) {
            Tensor x = input_at(in, 0, "PRelu").to_float32(), slope = input_at(in, 1, "PRelu").to_float32();
            Tensor zero = Tensor::from_floats({}, {0.0f});
            return std::vector<Tensor>{binary_op(BinaryKind::add, binary_op(BinaryKind::maximum, x, zero),
                                                 binary_op(BinaryKind::multiply, slope, binary_op(BinaryKind::minimum, x, zero)))};
        };
    } else if (type == "Softmax" || type == "LogSoftmax") {
        op = OpKind::softmax;
        bool log = type == "LogSoftmax";
        int64_t axis = layer.attribute_int("axis", opset >= 13 ? -1 : 1);
        bool coerce_2d = opset < 13;
        function = [axis, log, coerce_2d](const std::vector<const Tensor*>& in) {
            Tensor x = input_at(in, 0, "Softmax").to_float32();
            int a = normalize_axis(axis, x.rank(), "Softmax");
            int64_t outer = 1, length = 1, inner = 1;
            for (int i = 0; i < a; ++i) outer *= x.shape()[i];
            if (coerce_2d) {
                for (int i = a; i < x.rank(); ++i) length *= x.shape()[i];
            } else {
                length = x.shape()[a];
                for (int i = a + 1; i < x.rank(); ++i) inner *= x.shape()[i];
            }
            Tensor out = Tensor::uninitialized(DType::f32, x.shape());
            if (out.element_count()) softmax(x.f32(), out.mutable_f32(), outer, length, inner, log);
            return std::vector<Tensor>{out};
        };
    } else if (type == "Dropout" || type == "Identity") {
        op = OpKind::identity;
        function = [](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{input_at(in, 0, "Identity")}; };
    } else if (type == "Flatten") {
        op = OpKind::flatten;
        int64_t axis = layer.attribute_int("axis", 1);
        function = [axis](const std::vector<const Tensor*>& in) {
            const Tensor& x = input_at(in, 0, "Flatten");
            int a = axis == x.rank() ? x.rank() : normalize_axis(axis, x.rank(), "Flatten");
            int64_t outer = 1;
            for (int i = 0; i < a; ++i) outer *= x.shape()[i];
            return std::vector<Tensor>{x.reshaped({outer, static_cast<int64_t>(x.element_count()) / std::max<int64_t>(outer, 1)})};
        };
    } else if (type == "Reshape") {
        op = OpKind::reshape;
        std::vector<int64_t> attribute_shape = layer.attribute_ints("shape", {});
        bool allow_zero = layer.attribute_int("allowzero", 0) != 0;
        function = [attribute_shape, allow_zero](const std::vector<const Tensor*>& in) {
            const Tensor& x = input_at(in, 0, "Reshape");
            std::vector<int64_t> target = has_input(in, 1) ? ints_of(*in[1]) : attribute_shape;
            Shape shape(target.size());
            int64_t known = 1, unknown_at = -1;
            for (size_t i = 0; i < target.size(); ++i) {
                int64_t d = target[i];
                if (d == 0 && !allow_zero) {
                    if (static_cast<int>(i) >= x.rank()) throw UnsupportedError("Reshape: 0 refers to a missing input dimension");
                    d = x.shape()[i];
                }
                if (d == -1) {
                    if (unknown_at >= 0) throw UnsupportedError("Reshape: more than one -1");
                    unknown_at = static_cast<int64_t>(i);
                } else {
                    known *= d;
                }
                shape[i] = d;
            }
            if (unknown_at >= 0) shape[unknown_at] = known ? static_cast<int64_t>(x.element_count()) / known : 0;
            return std::vector<Tensor>{x.reshaped(shape)};
        };
    } else if (type == "Transpose") {
        op = OpKind::transpose;
        std::vector<int64_t> perm = layer.attribute_ints("perm", {});
        function = [perm](const std::vector<const Tensor*>& in) {
            const Tensor& x = input_at(in, 0, "Transpose");
            std::vector<int64_t> p = perm;
            if (p.empty()) for (int i = x.rank(); i-- > 0;) p.push_back(i);
            return std::vector<Tensor>{transpose(x, p)};
        };
    } else if (type == "Add" || type == "Sub" || type == "Mul" || type == "Div" || type == "Pow") {
        op = OpKind::binary;
        BinaryKind kind = type == "Add" ? BinaryKind::add : type == "Sub" ? BinaryKind::subtract : type == "Mul" ? BinaryKind::multiply
                        : type == "Div" ? BinaryKind::divide : BinaryKind::power;
        function = [kind](const std::vector<const Tensor*>& in) {
            return std::vector<Tensor>{binary_any(kind, input_at(in, 0, "binary"), input_at(in, 1, "binary"))};
        };
        consuming = [kind, function](Tensor& a, const std::vector<const Tensor*>& in) {
            const Tensor& b = input_at(in, 1, "binary");
            // In place only when a float a already has the result's shape.
            if (kind == BinaryKind::power || b.dtype() != DType::f32 ||
                broadcast_shapes(a.shape(), b.shape(), binary_kind_name(kind)) != a.shape()) {
                return function(in)[0];
            }
            binary_op_into(kind, a, b, a);
            return std::move(a);
        };
    } else if (type == "Sum" || type == "Mean" || type == "Max" || type == "Min") {
        op = OpKind::variadic;
        BinaryKind kind = type == "Max" ? BinaryKind::maximum : type == "Min" ? BinaryKind::minimum : BinaryKind::add;
        bool mean = type == "Mean";
        function = [kind, mean](const std::vector<const Tensor*>& in) {
            Tensor result = input_at(in, 0, "variadic");
            for (size_t i = 1; i < in.size(); ++i) result = binary_any(kind, result, input_at(in, i, "variadic"));
            if (mean) result = binary_op(BinaryKind::divide, result.to_float32(), Tensor::from_floats({}, {static_cast<float>(in.size())}));
            return std::vector<Tensor>{result};
        };
    } else if (type == "Concat") {
        op = OpKind::concat;
        int64_t axis = layer.attribute_int("axis", 0);
        function = [axis](const std::vector<const Tensor*>& in) {
            bool all_integer = true;
            for (const Tensor* t : in) if (t && !is_integer(t->dtype())) all_integer = false;
            std::vector<Tensor> converted;
            for (const Tensor* t : in) if (t) converted.push_back(all_integer ? to_int64(*t) : t->to_float32());
            std::vector<const Tensor*> pointers;
            for (const Tensor& t : converted) pointers.push_back(&t);
            return std::vector<Tensor>{concat(pointers, axis)};
        };
    } else if (type == "Pad") {
        op = OpKind::pad;
        std::string mode_name = layer.attribute_string("mode", "constant");
        PadMode mode = mode_name == "reflect" ? PadMode::reflect : mode_name == "edge" ? PadMode::edge : PadMode::constant;
        if (mode_name != "constant" && mode_name != "reflect" && mode_name != "edge") throw UnsupportedError(concat("pad mode '", mode_name, "'"));
        std::vector<int64_t> attribute_pads = layer.attribute_ints("pads", {});
        float attribute_value = static_cast<float>(layer.attribute_float("value", 0.0));
        if (layer.inputs.size() > 3 && !layer.inputs[3].empty()) throw UnsupportedError("Pad with axes is not supported");
        function = [mode, attribute_pads, attribute_value](const std::vector<const Tensor*>& in) {
            std::vector<int64_t> pads = has_input(in, 1) ? ints_of(*in[1]) : attribute_pads;
            float value = has_input(in, 2) && in[2]->element_count() ? static_cast<float>(in[2]->value_at(0)) : attribute_value;
            return std::vector<Tensor>{pad(input_at(in, 0, "Pad"), pads, mode, value)};
        };
    } else if (type == "Resize" || type == "Upsample") {
        op = OpKind::resize;
        std::string mode = layer.attribute_string("mode", "nearest");
        ResizeOptions options;
        if (mode == "linear" || mode == "bilinear") options.mode = ResizeMode::bilinear;
        else if (mode != "nearest") throw UnsupportedError(concat("resize mode '", mode, "' is not supported"));
        std::string coordinates = layer.attribute_string("coordinate_transformation_mode", type == "Resize" && opset >= 11 ? "half_pixel" : "asymmetric");
        if (coordinates == "half_pixel") options.coordinates = CoordinateMode::half_pixel;
        else if (coordinates == "pytorch_half_pixel") options.coordinates = CoordinateMode::pytorch_half_pixel;
        else if (coordinates == "align_corners") options.coordinates = CoordinateMode::align_corners;
        else if (coordinates == "asymmetric") options.coordinates = CoordinateMode::asymmetric;
        else if (coordinates == "tf_half_pixel_for_nn") options.coordinates = CoordinateMode::tf_half_pixel_for_nn;
        else throw UnsupportedError(concat("coordinate_transformation_mode '", coordinates, "' is not supported"));
        std::string rounding = layer.attribute_string("nearest_mode", type == "Resize" && opset >= 11 ? "round_prefer_floor" : "floor");
        options.rounding = rounding == "floor" ? NearestRounding::floor : rounding == "ceil" ? NearestRounding::ceil
                         : rounding == "round_prefer_ceil" ? NearestRounding::round_prefer_ceil : NearestRounding::round_prefer_floor;
        std::vector<double> attribute_scales;
        if (auto v = layer.attribute("scales")) if (auto d = std::get_if<std::vector<double>>(v)) attribute_scales = *d;
        bool upsample = type == "Upsample";
        int opset_copy = opset;
        function = [options, attribute_scales, upsample, opset_copy](const std::vector<const Tensor*>& in) {
            const Tensor& x = input_at(in, 0, "Resize");
            if (x.rank() != 4) throw UnsupportedError("only 4-D NCHW resize is supported");
            std::vector<double> scales = attribute_scales;
            size_t scales_index = upsample || opset_copy < 11 ? 1 : 2;
            if (has_input(in, scales_index) && in[scales_index]->element_count()) {
                scales.clear();
                for (uint64_t i = 0; i < in[scales_index]->element_count(); ++i) scales.push_back(in[scales_index]->value_at(i));
            }
            int64_t out_h, out_w;
            if (!upsample && has_input(in, 3) && in[3]->element_count() == 4) {
                std::vector<int64_t> sizes = ints_of(*in[3]);
                if (sizes[0] != x.shape()[0] || sizes[1] != x.shape()[1]) throw UnsupportedError("resizing batch or channels is not supported");
                out_h = sizes[2];
                out_w = sizes[3];
            } else if (scales.size() == 4) {
                if (scales[0] != 1.0 || scales[1] != 1.0) throw UnsupportedError("scaling batch or channels is not supported");
                out_h = static_cast<int64_t>(std::floor(x.shape()[2] * scales[2]));
                out_w = static_cast<int64_t>(std::floor(x.shape()[3] * scales[3]));
            } else {
                throw UnsupportedError("Resize needs 4 scales or sizes");
            }
            return std::vector<Tensor>{resize2d(x.to_float32(), false, out_h, out_w, options)};
        };
    } else if (type == "Shape") {
        op = OpKind::shape;
        int64_t start = layer.attribute_int("start", 0), end_value = layer.attribute_int("end", std::numeric_limits<int64_t>::max());
        function = [start, end_value](const std::vector<const Tensor*>& in) {
            const Shape& s = input_at(in, 0, "Shape").shape();
            int64_t rank = static_cast<int64_t>(s.size());
            int64_t b = start < 0 ? std::max<int64_t>(0, start + rank) : std::min(start, rank);
            int64_t e = end_value < 0 ? std::max<int64_t>(0, end_value + rank) : std::min(end_value, rank);
            return std::vector<Tensor>{int64_tensor(std::vector<int64_t>(s.begin() + b, s.begin() + std::max(b, e)))};
        };
    } else if (type == "Gather") {
        op = OpKind::gather;
        int64_t axis = layer.attribute_int("axis", 0);
        function = [axis](const std::vector<const Tensor*>& in) {
            return std::vector<Tensor>{gather(input_at(in, 0, "Gather"), input_at(in, 1, "Gather"), axis)};
        };
    } else if (type == "Unsqueeze" || type == "Squeeze") {
        op = type == "Squeeze" ? OpKind::squeeze : OpKind::unsqueeze;
        bool squeeze = type == "Squeeze";
        Layer copy_for_axes;
        copy_for_axes.attributes = layer.attributes;
        function = [squeeze, copy_for_axes](const std::vector<const Tensor*>& in) {
            const Tensor& x = input_at(in, 0, "Squeeze");
            std::vector<int64_t> axes = squeeze_axes(copy_for_axes, in);
            Shape shape = x.shape();
            if (squeeze) {
                std::vector<bool> drop(shape.size(), axes.empty());
                for (int64_t a : axes) drop[normalize_axis(a, x.rank(), "Squeeze")] = true;
                Shape out;
                for (size_t i = 0; i < shape.size(); ++i) {
                    if (drop[i] && shape[i] != 1 && !axes.empty()) throw UnsupportedError(concat("Squeeze: axis ", i, " has size ", shape[i]));
                    if (!(drop[i] && shape[i] == 1)) out.push_back(shape[i]);
                }
                return std::vector<Tensor>{x.reshaped(out)};
            }
            int out_rank = x.rank() + static_cast<int>(axes.size());
            std::vector<bool> inserted(out_rank, false);
            for (int64_t a : axes) inserted[normalize_axis(a, out_rank, "Unsqueeze")] = true;
            Shape out;
            size_t next = 0;
            for (int i = 0; i < out_rank; ++i) out.push_back(inserted[i] ? 1 : shape[next++]);
            return std::vector<Tensor>{x.reshaped(out)};
        };
    } else if (type == "Constant") {
        op = OpKind::constant;
        Tensor value;
        // Which attribute held the value; a `value` of another type (a file
        // may say FLOATS and carry nothing) must not become an empty tensor.
        bool have_value = false;
        if (auto v = layer.attribute("value")) {
            if (auto t = std::get_if<Tensor>(v)) {
                value = is_integer(t->dtype()) ? to_int64(*t) : t->to_float32();
                have_value = true;
            }
        }
        if (!have_value && layer.attribute("value_float")) {
            value = Tensor::from_floats({}, {static_cast<float>(layer.attribute_float("value_float", 0))});
            have_value = true;
        }
        if (!have_value && layer.attribute("value_floats")) {
            std::vector<float> f;
            if (auto d = std::get_if<std::vector<double>>(layer.attribute("value_floats"))) for (double x : *d) f.push_back(static_cast<float>(x));
            value = Tensor::from_floats({static_cast<int64_t>(f.size())}, f);
            have_value = true;
        }
        if (!have_value && layer.attribute("value_int")) {
            value = int64_tensor({layer.attribute_int("value_int", 0)}).reshaped({});
            have_value = true;
        }
        if (!have_value && layer.attribute("value_ints")) {
            value = int64_tensor(layer.attribute_ints("value_ints", {}));
            have_value = true;
        }
        if (!have_value) throw UnsupportedError("Constant without a supported value attribute (a TENSOR 'value', or value_float(s)/value_int(s))");
        function = [value](const std::vector<const Tensor*>&) { return std::vector<Tensor>{value}; };
    } else if (type == "ConstantOfShape") {
        op = OpKind::constant;
        Tensor fill = Tensor::from_floats({}, {0.0f});
        if (auto v = layer.attribute("value")) {
            if (auto t = std::get_if<Tensor>(v)) fill = is_integer(t->dtype()) ? to_int64(*t) : t->to_float32();
        }
        if (fill.element_count() != 1) throw UnsupportedError("ConstantOfShape value must hold one element");
        function = [fill](const std::vector<const Tensor*>& in) {
            std::vector<int64_t> shape = ints_of(input_at(in, 0, "ConstantOfShape"));
            Tensor out = Tensor::zeros(fill.dtype(), shape);
            size_t element = dtype_size(fill.dtype());
            for (uint64_t i = 0; i < out.element_count(); ++i) std::memcpy(out.mutable_raw() + i * element, fill.raw(), element);
            return std::vector<Tensor>{out};
        };
    } else if (type == "Slice") {
        op = OpKind::slice;
        std::vector<int64_t> a_starts = layer.attribute_ints("starts", {}), a_ends = layer.attribute_ints("ends", {}), a_axes = layer.attribute_ints("axes", {});
        function = [a_starts, a_ends, a_axes](const std::vector<const Tensor*>& in) {
            const Tensor& x = input_at(in, 0, "Slice");
            std::vector<int64_t> starts = has_input(in, 1) ? ints_of(*in[1]) : a_starts;
            std::vector<int64_t> ends = has_input(in, 2) ? ints_of(*in[2]) : a_ends;
            std::vector<int64_t> axes = has_input(in, 3) ? ints_of(*in[3]) : a_axes;
            std::vector<int64_t> steps = has_input(in, 4) ? ints_of(*in[4]) : std::vector<int64_t>(starts.size(), 1);
            if (axes.empty()) for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
            if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size()) throw UnsupportedError("Slice: starts/ends/axes/steps lengths differ");
            std::vector<int64_t> s(x.rank(), 0), e = x.shape(), st(x.rank(), 1);
            for (size_t i = 0; i < axes.size(); ++i) {
                int a = normalize_axis(axes[i], x.rank(), "Slice");
                int64_t dim = x.shape()[a], step = steps[i];
                if (step == 0) throw UnsupportedError("Slice: step 0");
                int64_t b = starts[i] < 0 ? starts[i] + dim : starts[i], f = ends[i] < 0 ? ends[i] + dim : ends[i];
                if (step > 0) { b = std::clamp<int64_t>(b, 0, dim); f = std::clamp<int64_t>(f, 0, dim); }
                else { b = std::clamp<int64_t>(b, 0, dim - 1); f = std::clamp<int64_t>(f, -1, dim - 1); }
                s[a] = b; e[a] = f; st[a] = step;
            }
            return std::vector<Tensor>{slice(x, s, e, st)};
        };
    } else if (type == "ReduceMean" || type == "ReduceSum" || type == "ReduceMax" || type == "ReduceMin") {
        op = OpKind::reduce;
        ReduceKind kind = type == "ReduceMean" ? ReduceKind::mean : type == "ReduceSum" ? ReduceKind::sum : type == "ReduceMax" ? ReduceKind::max : ReduceKind::min;
        std::vector<int64_t> attribute_axes = layer.attribute_ints("axes", {});
        bool keep = layer.attribute_int("keepdims", 1) != 0;
        bool noop_with_empty = layer.attribute_int("noop_with_empty_axes", 0) != 0;
        function = [kind, attribute_axes, keep, noop_with_empty](const std::vector<const Tensor*>& in) {
            std::vector<int64_t> axes = has_input(in, 1) ? ints_of(*in[1]) : attribute_axes;
            if (axes.empty() && noop_with_empty) return std::vector<Tensor>{input_at(in, 0, "Reduce")};
            return std::vector<Tensor>{reduce(input_at(in, 0, "Reduce"), axes, kind, keep)};
        };
    } else if (type == "Cast") {
        op = OpKind::cast;
        int64_t to = layer.attribute_int("to", 1);
        bool to_float = to == 1 || to == 10 || to == 11;
        bool to_int = to == 6 || to == 7 || to == 9 || to == 2 || to == 3 || to == 4 || to == 5 || to == 12 || to == 13;
        if (!to_float && !to_int) throw UnsupportedError(concat("Cast to ONNX type ", to, " is not supported"));
        function = [to_float](const std::vector<const Tensor*>& in) {
            const Tensor& x = input_at(in, 0, "Cast");
            return std::vector<Tensor>{to_float ? x.to_float32() : to_int64(x)};
        };
    } else {
        throw UnsupportedError(concat("ONNX operator '", type, "' is not supported"));
    }

    compiled.op = op;
    auto resolve_inputs = [constants, runtime_position, baked](const StepInputs& runtime) {
        std::vector<const Tensor*> all(constants.size(), nullptr);
        for (size_t i = 0; i < constants.size(); ++i) {
            if (constants[i]) all[i] = &(*baked)[i];
            else if (runtime_position[i] >= 0 && static_cast<size_t>(runtime_position[i]) < runtime.size()) {
                all[i] = runtime[static_cast<size_t>(runtime_position[i])];
            }
        }
        return all;
    };
    compiled.run = [function, resolve_inputs](const StepInputs& runtime) { return function(resolve_inputs(runtime)); };
    // The engine's input 0 is the first runtime input: consuming it in place
    // is only right when that is also the op's input 0.
    if (consuming && !runtime_position.empty() && runtime_position[0] == 0) {
        compiled.run_consuming = [consuming, resolve_inputs](Tensor& consumed, const StepInputs& runtime) {
            return consuming(consumed, resolve_inputs(runtime));
        };
    }
    return compiled;
}

}  // namespace convscope
