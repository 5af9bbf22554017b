// ONNX compile functions: convolution, dense (Gemm/MatMul), pooling and
// normalisation. One function per op; each resolves its attributes once into
// the typed parameters it returns with the step (core/model/layer_params.h).
#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/engine/builders.h"
#include "core/engine/compile_onnx_internal.h"
#include "core/ops/elementwise.h"
#include "core/ops/gemm.h"
#include "core/ops/pool.h"
#include "core/ops/tensor_ops.h"

namespace convscope::onnx_compile {

namespace {

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


// Conv and ConvTranspose attributes, resolved against the weights' shape.
ConvParams conv_params(const OnnxNode& n, const Tensor& weight, bool transposed) {
    size_t spatial = static_cast<size_t>(weight.rank() - 2);
    if (spatial != 1 && spatial != 2) throw UnsupportedError(concat(spatial, "-D convolution is not supported"));
    const Shape& ws = weight.shape();
    ConvParams p;
    p.spatial = static_cast<int>(spatial);
    p.transposed = transposed;
    p.channels_first = true;
    p.kernel_h = spatial == 1 ? 1 : ws[2];
    p.kernel_w = ws[spatial == 1 ? 2 : 3];
    std::vector<int64_t> kernel = two_d(n.layer.attribute_ints("kernel_shape", {}), spatial, 0);
    if ((kernel[0] && kernel[0] != p.kernel_h) || (kernel[1] && kernel[1] != p.kernel_w)) throw UnsupportedError("kernel_shape does not match the weights");
    std::vector<int64_t> strides = two_d(n.layer.attribute_ints("strides", {}), spatial, 1);
    std::vector<int64_t> dilations = two_d(n.layer.attribute_ints("dilations", {}), spatial, 1);
    p.stride_h = strides[0]; p.stride_w = strides[1];
    p.dilation_h = dilations[0]; p.dilation_w = dilations[1];
    p.groups = n.layer.attribute_int("group", 1);
    p.padding = onnx_padding(n.layer, spatial);
    // Conv weights are [O][I/g][k...]; ConvTranspose weights [I][O/g][k...].
    p.in_channels = transposed ? ws[0] : ws[1] * p.groups;
    p.out_channels = transposed ? ws[1] * p.groups : ws[0];
    return p;
}

Conv2DGeometry conv_geometry(const ConvParams& p) {
    Conv2DGeometry g;
    g.kernel_h = p.kernel_h; g.kernel_w = p.kernel_w;
    g.stride_h = p.stride_h; g.stride_w = p.stride_w;
    g.dilation_h = p.dilation_h; g.dilation_w = p.dilation_w;
    g.groups = p.groups;
    g.in_channels = p.in_channels;
    g.out_channels = p.out_channels;
    return g;
}

// The bias input (2), baked; a runtime bias is not supported.
std::vector<float> conv_bias(const OnnxNode& n) {
    const Tensor* bias = n.constant_at(2);
    if (n.input_listed(2) && !bias) throw UnsupportedError("runtime bias is not supported");
    return bias ? bias->to_float_vector() : std::vector<float>{};
}

const Tensor& conv_weight(const OnnxNode& n) {
    const Tensor* weight = n.constant_at(1);
    if (!weight) throw UnsupportedError("weights that are not initializers are not supported");
    return *weight;
}

OnnxStep compile_conv(const OnnxNode& n) {
    OnnxStep s;
    const Tensor& weight = conv_weight(n);
    ConvParams p = conv_params(n, weight, false);
    std::vector<float> bias = conv_bias(n);
    p.has_bias = !bias.empty();
    // to_float32 shares a float32 tensor's bytes: no transient copy.
    const Tensor w = weight.to_float32();
    NchwConvStep step;
    step.kernel = std::make_shared<Conv2DNchwKernel>(conv_geometry(p), w.f32(), bias.empty() ? nullptr : bias.data());
    step.padding = p.padding;
    step.one_dimensional = p.spatial == 1;
    s.algorithm = step.kernel->algorithm();
    s.op = OpKind::conv2d;
    s.function = [step](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{step.run(input_at(in, 0, "Conv"))};
    };
    s.params = p;
    return s;
}

OnnxStep compile_conv_transpose(const OnnxNode& n) {
    OnnxStep s;
    const Tensor& weight = conv_weight(n);
    ConvParams p = conv_params(n, weight, true);
    std::vector<float> bias = conv_bias(n);
    p.has_bias = !bias.empty();
    const size_t spatial = static_cast<size_t>(p.spatial);
    const bool one_d = p.spatial == 1;
    const Tensor w = weight.to_float32();
    // [I][O/g][kh][kw] -> [I][kh][kw][O/g]
    const int64_t in_channels = p.in_channels, cog = p.out_channels / p.groups, taps = p.kernel_h * p.kernel_w;
    std::vector<float> canonical(static_cast<size_t>(w.element_count()));
    const float* source = w.f32();
    for (int64_t i = 0; i < in_channels; ++i)
        for (int64_t o = 0; o < cog; ++o)
            for (int64_t t = 0; t < taps; ++t) canonical[(i * taps + t) * cog + o] = source[(i * cog + o) * taps + t];
    ConvTranspose2DGeometry geometry;
    geometry.conv = conv_geometry(p);
    ConvTransposeStep step;
    step.kernel = std::make_shared<ConvTranspose2DKernel>(geometry, canonical.data(), bias.empty() ? nullptr : bias.data());
    step.size_rule = ConvTransposeStep::SizeRule::onnx;
    const PaddingRule& pads = p.padding;
    std::vector<int64_t> output_padding = two_d(n.layer.attribute_ints("output_padding", {}), spatial, 0);
    std::vector<int64_t> output_shape = n.layer.attribute_ints("output_shape", {});
    if (!output_shape.empty()) output_shape = two_d(output_shape, spatial, -1);
    step.pad_top = pads.top; step.pad_left = pads.left; step.pad_bottom = pads.bottom; step.pad_right = pads.right;
    step.output_padding_h = output_padding[0];
    step.output_padding_w = output_padding[1];
    if (pads.kind != PaddingRule::Kind::explicit_pads && output_shape.empty()) output_shape = {-2, -2};
    step.auto_pad_upper = pads.kind == PaddingRule::Kind::same_upper;
    step.output_shape_h = output_shape.empty() ? -1 : output_shape[0];
    step.output_shape_w = output_shape.empty() ? -1 : output_shape[1];
    s.algorithm = "gemm + col2im";
    s.op = OpKind::conv_transpose2d;
    s.function = [step, one_d](const std::vector<const Tensor*>& in) {
        ConvTransposeStep sized = step;
        const Tensor& x = input_at(in, 0, "ConvTranspose");
        // SAME_*: output = input * stride.
        if (sized.output_shape_h == -2 && x.rank() >= 3) {
            sized.output_shape_h = one_d ? 1 : x.shape()[2] * sized.kernel->geometry().conv.stride_h;
            sized.output_shape_w = x.shape().back() * sized.kernel->geometry().conv.stride_w;
        }
        return std::vector<Tensor>{via_nhwc(x, one_d, [&](const Tensor& t) { return sized.run(t); })};
    };
    s.params = p;
    return s;
}

OnnxStep compile_gemm(const OnnxNode& n) {
    OnnxStep s;
    const Tensor* b = n.constant_at(1);
    if (!b || b->rank() != 2) throw UnsupportedError("B must be a 2-D initializer");
    bool trans_a = n.layer.attribute_int("transA", 0) != 0, trans_b = n.layer.attribute_int("transB", 0) != 0;
    float alpha = static_cast<float>(n.layer.attribute_float("alpha", 1.0)), beta = static_cast<float>(n.layer.attribute_float("beta", 1.0));
    if (n.layer.type == "MatMul") trans_a = trans_b = false, alpha = 1.0f;
    int64_t columns = trans_b ? b->shape()[0] : b->shape()[1];
    // In place from a float32 view of the file when alpha is 1 (the
    // usual export); transA transposes the input, not the weights.
    DenseStep step = make_dense_step(*b, trans_b, alpha);
    Tensor c_tensor;
    if (n.layer.type == "Gemm" && n.layer.inputs.size() > 2 && !n.layer.inputs[2].empty()) {
        const Tensor* c = n.constant_at(2);
        if (!c) throw UnsupportedError("runtime C is not supported");
        if (c->element_count() == static_cast<uint64_t>(columns) || c->element_count() == 1) {
            std::vector<float> cv = c->to_float_vector();
            step.bias.assign(static_cast<size_t>(columns), 0.0f);
            for (int64_t j = 0; j < columns; ++j) step.bias[j] = beta * cv[cv.size() == 1 ? 0 : j];
        } else {
            c_tensor = binary_op(BinaryKind::multiply, c->to_float32(), Tensor::from_floats({}, {beta}));
        }
    }
    s.op = n.layer.type == "Gemm" ? OpKind::dense : OpKind::matmul;
    s.algorithm = step.runs_in_place() ? "gemv-in-place" : "packed-gemm";
    s.function = [step, trans_a, c_tensor](const std::vector<const Tensor*>& in) {
        Tensor a = input_at(in, 0, "Gemm").to_float32();
        if (trans_a) {
            if (a.rank() != 2) throw UnsupportedError("transA needs a 2-D A");
            a = transpose(a, {1, 0});
        }
        Tensor out = step.run(a);
        if (!c_tensor.empty()) out = binary_op(BinaryKind::add, out, c_tensor);
        return std::vector<Tensor>{out};
    };
    DenseParams params;
    params.in_features = trans_b ? b->shape()[1] : b->shape()[0];
    params.out_features = columns;
    params.transposed_weights = trans_b;
    params.alpha = alpha;
    params.beta = beta;
    params.has_bias = !step.bias.empty() || !c_tensor.empty();
    s.params = params;
    return s;
}

OnnxStep compile_matmul_runtime(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::matmul;
    s.function = [](const std::vector<const Tensor*>& in) {
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
    return s;
}

// MatMul by a 2-D initializer is a dense layer (packed weights, gemv);
// anything else multiplies two runtime values.
OnnxStep compile_matmul(const OnnxNode& n) {
    const Tensor* b = n.constant_at(1);
    if (b && b->rank() == 2) return compile_gemm(n);
    return compile_matmul_runtime(n);
}

OnnxStep compile_pool(const OnnxNode& n) {
    OnnxStep s;
    if (n.layer.outputs.size() > 1 && !n.layer.outputs[1].empty()) throw UnsupportedError("MaxPool indices output is not supported");
    std::vector<int64_t> kernel = n.layer.attribute_ints("kernel_shape", {});
    size_t spatial = kernel.size();
    if (spatial != 1 && spatial != 2) throw UnsupportedError(concat(spatial, "-D pooling is not supported"));
    bool one_d = spatial == 1;
    kernel = two_d(kernel, spatial, 1);
    std::vector<int64_t> strides = two_d(n.layer.attribute_ints("strides", {}), spatial, 1);
    std::vector<int64_t> dilations = two_d(n.layer.attribute_ints("dilations", {}), spatial, 1);
    NchwPoolStep step;
    step.one_dimensional = one_d;
    step.kind = n.layer.type == "MaxPool" ? PoolKind::max : PoolKind::average;
    step.geometry.kernel_h = kernel[0]; step.geometry.kernel_w = kernel[1];
    step.geometry.stride_h = strides[0]; step.geometry.stride_w = strides[1];
    step.geometry.dilation_h = dilations[0]; step.geometry.dilation_w = dilations[1];
    step.geometry.ceil_mode = n.layer.attribute_int("ceil_mode", 0) != 0;
    step.geometry.count_include_pad = n.layer.attribute_int("count_include_pad", 0) != 0;
    step.padding = onnx_padding(n.layer, spatial);
    s.op = step.kind == PoolKind::max ? OpKind::max_pool2d : OpKind::avg_pool2d;
    s.algorithm = "nchw-pool";
    s.function = [step](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{step.run(input_at(in, 0, "pool"))};
    };
    PoolParams params;
    params.kind = step.kind;
    params.spatial = static_cast<int>(spatial);
    params.geometry = step.geometry;
    params.padding = step.padding;
    params.channels_first = true;
    s.params = params;
    return s;
}

OnnxStep compile_global_pool(const OnnxNode& n) {
    OnnxStep s;
    ReduceKind kind = n.layer.type == "GlobalMaxPool" ? ReduceKind::max : ReduceKind::mean;
    s.op = kind == ReduceKind::max ? OpKind::global_max_pool : OpKind::global_avg_pool;
    s.algorithm = "nchw-global-pool";
    s.function = [kind](const std::vector<const Tensor*>& in) {
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
    PoolParams params;
    params.kind = kind == ReduceKind::max ? PoolKind::max : PoolKind::average;
    params.global = true;
    params.keep_dims = true;
    params.channels_first = true;
    s.params = params;
    return s;
}

OnnxStep compile_batch_norm(const OnnxNode& n) {
    OnnxStep s;
    for (size_t i = 1; i < 5; ++i) if (!n.constant_at(i)) throw UnsupportedError("batch normalization parameters must be initializers");
    std::vector<float> scale = n.constant_at(1)->to_float_vector(), bias = n.constant_at(2)->to_float_vector();
    std::vector<float> mean = n.constant_at(3)->to_float_vector(), variance = n.constant_at(4)->to_float_vector();
    float epsilon = static_cast<float>(n.layer.attribute_float("epsilon", 1e-5));
    std::vector<float> multiplier(mean.size()), shift(mean.size());
    if (scale.size() != mean.size() || bias.size() != mean.size() || variance.size() != mean.size()) throw UnsupportedError("parameter sizes differ");
    for (size_t i = 0; i < mean.size(); ++i) {
        multiplier[i] = scale[i] / std::sqrt(variance[i] + epsilon);
        shift[i] = bias[i] - mean[i] * multiplier[i];
    }
    s.op = OpKind::batch_norm;
    s.function = [multiplier, shift](const std::vector<const Tensor*>& in) {
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
    s.consuming = [function = s.function, multiplier, shift](Tensor& x, const std::vector<const Tensor*>& in) {
        if (x.rank() < 2 || x.shape()[1] != static_cast<int64_t>(multiplier.size())) return function(in)[0];
        int64_t channels = x.shape()[1];
        int64_t inner = static_cast<int64_t>(x.element_count()) / std::max<int64_t>(x.shape()[0] * channels, 1);
        channel_affine(x.f32(), x.mutable_f32(), x.shape()[0], channels, inner, multiplier.data(), shift.data());
        return std::move(x);
    };
    NormParams params;
    params.kind = NormParams::Kind::batch;
    params.epsilon = epsilon;
    params.axes = {1};
    s.params = params;
    return s;
}

OnnxStep compile_layer_norm(const OnnxNode& n) {
    OnnxStep s;
    int64_t axis = n.layer.attribute_int("axis", -1);
    float epsilon = static_cast<float>(n.layer.attribute_float("epsilon", 1e-5));
    std::vector<float> gamma = n.constant_at(1) ? n.constant_at(1)->to_float_vector() : std::vector<float>{};
    std::vector<float> beta = n.layer.inputs.size() > 2 && n.constant_at(2) ? n.constant_at(2)->to_float_vector() : std::vector<float>{};
    s.op = OpKind::layer_norm;
    s.function = [axis, epsilon, gamma, beta](const std::vector<const Tensor*>& in) {
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
    NormParams params;
    params.kind = NormParams::Kind::layer;
    params.epsilon = epsilon;
    params.axes = {axis};
    params.scale = !gamma.empty();
    params.center = !beta.empty();
    s.params = params;
    return s;
}

}  // namespace

std::vector<OnnxOpEntry> onnx_nn_ops() {
    return {
        {"Conv", "", 1, any_opset, compile_conv},
        {"ConvTranspose", "", 1, any_opset, compile_conv_transpose},
        {"Gemm", "", 1, any_opset, compile_gemm},
        {"MatMul", "", 1, any_opset, compile_matmul},
        {"MaxPool", "", 1, any_opset, compile_pool},
        {"AveragePool", "", 1, any_opset, compile_pool},
        {"GlobalAveragePool", "", 1, any_opset, compile_global_pool},
        {"GlobalMaxPool", "", 1, any_opset, compile_global_pool},
        {"BatchNormalization", "", 1, any_opset, compile_batch_norm},
        {"LayerNormalization", "", 17, any_opset, compile_layer_norm},
    };
}

}  // namespace convscope::onnx_compile
