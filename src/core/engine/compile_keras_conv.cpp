// Keras convolutions (Conv1D/2D, depthwise, separable, transposed) and
// pooling -> plan steps. Each compile function resolves the layer's config
// once into a typed struct (the resolve_* functions), then builds from it.
#include <algorithm>
#include <unordered_map>

#include "core/base/error.h"
#include "core/engine/compile_keras_internal.h"

namespace convscope {
namespace keras_compile {

namespace {

std::vector<float> floats_of(const Tensor& tensor) { return tensor.to_float_vector(); }

// Kernel, strides and dilations as 2-D values: 1-D layers get height 1.
struct KerasWindow {
    std::vector<int64_t> kernel, strides, dilations;
};

KerasWindow resolve_window(const Layer& layer, bool one_dimensional) {
    const size_t rank = one_dimensional ? 1 : 2;
    KerasWindow window{spatial(layer, "kernel_size", rank, {}), spatial(layer, "strides", rank, {1}),
                       spatial(layer, "dilation_rate", rank, {1})};
    if (one_dimensional) {
        window.kernel.insert(window.kernel.begin(), 1);
        window.strides.insert(window.strides.begin(), 1);
        window.dilations.insert(window.dilations.begin(), 1);
    }
    return window;
}

void apply_window(const KerasWindow& window, Conv2DGeometry& g) {
    g.kernel_h = window.kernel[0];
    g.kernel_w = window.kernel[1];
    g.stride_h = window.strides[0];
    g.stride_w = window.strides[1];
    g.dilation_h = window.dilations[0];
    g.dilation_w = window.dilations[1];
}

struct ConvClass {
    KerasConvVariant variant;
    bool one_dimensional;
};

// Keras 1 spellings (Convolution2D) next to Keras 2/3 ones.
const std::unordered_map<std::string, ConvClass>& conv_classes() {
    static const std::unordered_map<std::string, ConvClass> classes = {
        {"Conv2D", {KerasConvVariant::regular, false}},
        {"Convolution2D", {KerasConvVariant::regular, false}},
        {"Conv1D", {KerasConvVariant::regular, true}},
        {"Convolution1D", {KerasConvVariant::regular, true}},
        {"DepthwiseConv2D", {KerasConvVariant::depthwise, false}},
        {"DepthwiseConv1D", {KerasConvVariant::depthwise, true}},
        {"SeparableConv2D", {KerasConvVariant::separable, false}},
        {"SeparableConvolution2D", {KerasConvVariant::separable, false}},
        {"SeparableConv1D", {KerasConvVariant::separable, true}},
        {"SeparableConvolution1D", {KerasConvVariant::separable, true}},
    };
    return classes;
}

struct PoolClass {
    PoolKind kind;
    bool one_dimensional;
};

const std::unordered_map<std::string, PoolClass>& pool_classes() {
    static const std::unordered_map<std::string, PoolClass> classes = {
        {"MaxPooling2D", {PoolKind::max, false}},         {"MaxPool2D", {PoolKind::max, false}},
        {"AveragePooling2D", {PoolKind::average, false}}, {"AvgPool2D", {PoolKind::average, false}},
        {"MaxPooling1D", {PoolKind::max, true}},          {"MaxPool1D", {PoolKind::max, true}},
        {"AveragePooling1D", {PoolKind::average, true}},  {"AvgPool1D", {PoolKind::average, true}},
    };
    return classes;
}

// Channels and groups from the depthwise (and pointwise) kernels.
void resolve_depthwise_weights(const KerasContext& c, KerasConvParams& p) {
    Conv2DGeometry& g = p.geometry;
    const int64_t taps = g.kernel_h * g.kernel_w;
    const Tensor& kernel = *find_weight(c, "depthwise_kernel", 0);
    if (kernel.rank() < 3) throw UnsupportedError(concat("depthwise kernel has shape ", shape_to_string(kernel.shape())));
    int64_t in_channels = kernel.shape()[kernel.rank() - 2], multiplier = kernel.shape().back();
    if (static_cast<int64_t>(kernel.element_count()) != taps * in_channels * multiplier) {
        throw UnsupportedError(concat("depthwise kernel shape ", shape_to_string(kernel.shape()), " does not match kernel_size"));
    }
    p.kernel = &kernel;
    g.in_channels = in_channels;
    g.out_channels = in_channels * multiplier;
    g.groups = in_channels;
    if (p.variant != KerasConvVariant::separable) return;
    const Tensor& pointwise = *find_weight(c, "pointwise_kernel", 1);
    Conv2DGeometry& pg = p.pointwise_geometry;
    pg.in_channels = g.out_channels;
    pg.out_channels = pointwise.shape().empty() ? 0 : pointwise.shape().back();
    if (static_cast<int64_t>(pointwise.element_count()) != pg.in_channels * pg.out_channels) {
        throw UnsupportedError(concat("pointwise kernel shape ", shape_to_string(pointwise.shape()), " does not match"));
    }
    p.pointwise = &pointwise;
}

void resolve_regular_weights(const KerasContext& c, KerasConvParams& p, int64_t groups) {
    const size_t rank = p.one_dimensional ? 1 : 2;
    const Tensor& kernel = *find_weight(c, "kernel", 0);
    if (kernel.rank() != static_cast<int>(rank) + 2) {
        throw UnsupportedError(concat("kernel has shape ", shape_to_string(kernel.shape()), ", expected rank ", rank + 2));
    }
    p.kernel = &kernel;
    p.geometry.groups = groups;
    p.geometry.in_channels = kernel.shape()[kernel.rank() - 2] * groups;
    p.geometry.out_channels = kernel.shape().back();
}

CompiledLayer depthwise_or_separable(const KerasContext& c, const KerasConvParams& p, const std::vector<float>& bias_values) {
    ConvStep step;
    step.padding = p.padding;
    step.one_dimensional = p.one_dimensional;
    step.activation = p.activation;
    // to_float32 shares a float32 tensor's bytes: no transient copy.
    const Tensor weights = p.kernel->to_float32();
    if (p.variant != KerasConvVariant::separable) {
        step.kernel = std::make_shared<Conv2DKernel>(p.geometry, weights.f32(), p.bias ? bias_values.data() : nullptr);
        return single(c, OpKind::conv2d, [step](const Tensor& x) { return step.run(x); }, step.kernel->algorithm());
    }
    ConvStep depth_step = step;
    depth_step.activation = OutputActivation{};
    depth_step.kernel = std::make_shared<Conv2DKernel>(p.geometry, weights.f32(), nullptr);
    const Tensor pointwise_values = p.pointwise->to_float32();
    ConvStep point_step;
    point_step.one_dimensional = p.one_dimensional;
    point_step.activation = step.activation;
    point_step.kernel = std::make_shared<Conv2DKernel>(p.pointwise_geometry, pointwise_values.f32(),
                                                       p.bias ? bias_values.data() : nullptr);
    return single(c, OpKind::separable_conv2d, [depth_step, point_step](const Tensor& x) {
        return point_step.run(depth_step.run(x));
    }, "depthwise + pointwise-gemm");
}

// The plan step's view of a resolved Keras convolution.
ConvParams layer_params_of(const KerasConvParams& p) {
    ConvParams out;
    out.spatial = p.one_dimensional ? 1 : 2;
    out.kernel_h = p.geometry.kernel_h;
    out.kernel_w = p.geometry.kernel_w;
    out.stride_h = p.geometry.stride_h;
    out.stride_w = p.geometry.stride_w;
    out.dilation_h = p.geometry.dilation_h;
    out.dilation_w = p.geometry.dilation_w;
    out.padding = p.padding;
    out.groups = p.geometry.groups;
    out.in_channels = p.geometry.in_channels;
    const bool separable = p.variant == KerasConvVariant::separable;
    out.out_channels = separable ? p.pointwise_geometry.out_channels : p.geometry.out_channels;
    if (p.variant != KerasConvVariant::regular) out.depth_multiplier = p.geometry.out_channels / std::max<int64_t>(p.geometry.in_channels, 1);
    out.separable = separable;
    out.has_bias = p.bias != nullptr;
    out.channels_first = p.channels_first;
    out.activation = p.activation;
    return out;
}

}  // namespace

KerasConvParams resolve_conv_params(const KerasContext& c) {
    const Layer& layer = c.layer;
    auto found = conv_classes().find(layer.type);
    if (found == conv_classes().end()) throw UnsupportedError(concat("'", layer.type, "' is not a Keras convolution"));
    KerasConvParams p;
    p.channels_first = layer.attribute_string("data_format", "channels_last") != "channels_last";
    p.variant = found->second.variant;
    p.one_dimensional = found->second.one_dimensional;
    apply_window(resolve_window(layer, p.one_dimensional), p.geometry);
    const int64_t groups = layer.attribute_int("groups", 1);
    p.padding = keras_padding(layer);
    const bool use_bias = layer.attribute_int("use_bias", 1) != 0;
    const std::string activation = layer.attribute_string("activation", "linear");
    try {
        p.activation = keras_activation(c, activation);
    } catch (const UnsupportedError&) {
        p.unsupported_activation = activation;
    }
    p.bias = use_bias ? find_weight(c, "bias", p.variant == KerasConvVariant::separable ? 2 : 1) : nullptr;
    if (p.variant == KerasConvVariant::regular) resolve_regular_weights(c, p, groups);
    else resolve_depthwise_weights(c, p);
    const int64_t bias_length = p.variant == KerasConvVariant::separable ? p.pointwise_geometry.out_channels : p.geometry.out_channels;
    if (p.bias && static_cast<int64_t>(p.bias->element_count()) != bias_length) throw UnsupportedError("bias size does not match");
    return p;
}

CompiledLayer compile_conv(const KerasContext& c) {
    const KerasConvParams p = resolve_conv_params(c);
    if (p.channels_first) require_channels_last(c.layer);
    if (!p.unsupported_activation.empty()) {
        throw UnsupportedError(concat("activation '", p.unsupported_activation, "' is not supported"));
    }
    std::vector<float> bias_values = p.bias ? floats_of(*p.bias) : std::vector<float>{};
    if (p.variant != KerasConvVariant::regular) return with_params(depthwise_or_separable(c, p, bias_values), layer_params_of(p));
    ConvStep step;
    step.padding = p.padding;
    step.one_dimensional = p.one_dimensional;
    step.activation = p.activation;
    const Tensor weights = p.kernel->to_float32();
    step.kernel = std::make_shared<Conv2DKernel>(p.geometry, weights.f32(), p.bias ? bias_values.data() : nullptr);
    return with_params(single(c, OpKind::conv2d, [step](const Tensor& x) { return step.run(x); }, step.kernel->algorithm()),
                       layer_params_of(p));
}

CompiledLayer compile_conv_transpose(const KerasContext& c, bool one_dimensional) {
    const Layer& layer = c.layer;
    require_channels_last(layer);
    // The config, resolved.
    size_t rank = one_dimensional ? 1 : 2;
    KerasWindow window = resolve_window(layer, one_dimensional);
    std::vector<int64_t> output_padding = layer.attribute_ints("output_padding", {});
    if (output_padding.size() == 1) {
        const int64_t value = output_padding[0];  // not a reference into the vector (see spatial())
        output_padding.assign(rank, value);
    }
    if (one_dimensional && !output_padding.empty()) output_padding.insert(output_padding.begin(), 0);
    bool use_bias = layer.attribute_int("use_bias", 1) != 0;
    std::string padding = layer.attribute_string("padding", "valid");
    if (padding != "same" && padding != "valid") throw UnsupportedError(concat("padding '", padding, "' is not supported"));
    OutputActivation activation = keras_activation(c, layer.attribute_string("activation", "linear"));

    const Tensor& kernel = *find_weight(c, "kernel", 0);  // [kh, kw, out, in]
    if (kernel.rank() != static_cast<int>(rank) + 2) throw UnsupportedError("unexpected transposed kernel rank");
    int64_t out_channels = kernel.shape()[kernel.rank() - 2], in_channels = kernel.shape().back();
    int64_t taps = window.kernel[0] * window.kernel[1];
    const Tensor source_tensor = kernel.to_float32();
    const float* source = source_tensor.f32();
    std::vector<float> canonical(static_cast<size_t>(source_tensor.element_count()));
    for (int64_t t = 0; t < taps; ++t)
        for (int64_t o = 0; o < out_channels; ++o)
            for (int64_t i = 0; i < in_channels; ++i)
                canonical[(i * taps + t) * out_channels + o] = source[(t * out_channels + o) * in_channels + i];
    std::vector<float> bias = use_bias ? floats_of(*find_weight(c, "bias", 1)) : std::vector<float>{};
    ConvTranspose2DGeometry geometry;
    Conv2DGeometry& g = geometry.conv;
    g.in_channels = in_channels;
    g.out_channels = out_channels;
    apply_window(window, g);
    ConvTransposeStep step;
    step.kernel = std::make_shared<ConvTranspose2DKernel>(geometry, canonical.data(), bias.empty() ? nullptr : bias.data());
    step.size_rule = padding == "same" ? ConvTransposeStep::SizeRule::keras_same : ConvTransposeStep::SizeRule::keras_valid;
    if (!output_padding.empty()) {
        step.output_padding_h = output_padding[0];
        step.output_padding_w = output_padding[1];
    }
    step.one_dimensional = one_dimensional;
    step.activation = activation;
    ConvParams params;
    params.spatial = one_dimensional ? 1 : 2;
    params.kernel_h = g.kernel_h;
    params.kernel_w = g.kernel_w;
    params.stride_h = g.stride_h;
    params.stride_w = g.stride_w;
    params.dilation_h = g.dilation_h;
    params.dilation_w = g.dilation_w;
    if (padding == "same") params.padding.kind = PaddingRule::Kind::same_upper;
    params.in_channels = in_channels;
    params.out_channels = out_channels;
    params.transposed = true;
    params.has_bias = !bias.empty();
    params.activation = activation;
    return with_params(single(c, OpKind::conv_transpose2d, [step](const Tensor& x) { return step.run(x); }, "gemm + col2im"), params);
}


CompiledLayer compile_pool(const KerasContext& c) {
    const KerasPoolParams p = keras_pool_params(c.layer);
    PoolStep step;
    step.kind = p.kind;
    step.geometry = p.geometry;
    step.padding = p.padding;
    step.one_dimensional = p.one_dimensional;
    PoolParams params;
    params.kind = p.kind;
    params.spatial = p.one_dimensional ? 1 : 2;
    params.geometry = p.geometry;
    params.padding = p.padding;
    return with_params(single(c, p.kind == PoolKind::max ? OpKind::max_pool2d : OpKind::avg_pool2d,
                              [step](const Tensor& x) { return step.run(x); }), params);
}

CompiledLayer compile_global_pool(const KerasContext& c, PoolKind kind) {
    require_channels_last(c.layer);
    bool keep_dims = c.layer.attribute_int("keepdims", 0) != 0;
    PoolParams params;
    params.kind = kind;
    params.global = true;
    params.keep_dims = keep_dims;
    return with_params(single(c, kind == PoolKind::max ? OpKind::global_max_pool : OpKind::global_avg_pool, [kind, keep_dims](const Tensor& input) {
        Tensor x = input.to_float32();
        if (x.rank() < 3) throw UnsupportedError(concat("global pooling expects rank >= 3, got ", shape_to_string(x.shape())));
        int64_t n = x.shape()[0], channels = x.shape().back();
        int64_t pixels = static_cast<int64_t>(x.element_count()) / std::max<int64_t>(n * channels, 1);
        Shape out_shape{n, channels};
        if (keep_dims) {
            out_shape.assign(x.shape().size(), 1);
            out_shape.front() = n;
            out_shape.back() = channels;
        }
        Tensor out = Tensor::zeros(DType::f32, out_shape);
        if (out.element_count()) global_pool(kind, x.f32(), n, pixels, channels, out.mutable_f32());
        return out;
    }), params);
}


}  // namespace keras_compile

bool is_keras_conv_class(const std::string& class_name) { return keras_compile::conv_classes().count(class_name) != 0; }

KerasConvParams keras_conv_params(const Model& model, const Layer& layer) {
    return keras_compile::resolve_conv_params(keras_compile::make_context(model, layer));
}

KerasPoolParams keras_pool_params(const Layer& layer) {
    using namespace keras_compile;
    auto found = pool_classes().find(layer.type);
    if (found == pool_classes().end()) throw UnsupportedError(concat("'", layer.type, "' is not a Keras pooling layer"));
    require_channels_last(layer);
    const bool one_dimensional = found->second.one_dimensional;
    size_t rank = one_dimensional ? 1 : 2;
    std::vector<int64_t> pool = spatial(layer, "pool_size", rank, {2});
    std::vector<int64_t> strides = layer.attribute_ints("strides", {});
    if (strides.empty()) strides = pool;
    if (strides.size() == 1) {
        const int64_t value = strides[0];  // not a reference into the vector (see spatial())
        strides.assign(rank, value);
    }
    if (one_dimensional) {
        pool.insert(pool.begin(), 1);
        strides.insert(strides.begin(), 1);
    }
    KerasPoolParams p;
    p.kind = found->second.kind;
    p.geometry.kernel_h = pool[0];
    p.geometry.kernel_w = pool[1];
    p.geometry.stride_h = strides[0];
    p.geometry.stride_w = strides[1];
    p.geometry.count_include_pad = false;
    p.padding = keras_padding(layer);
    p.one_dimensional = one_dimensional;
    return p;
}

}  // namespace convscope
