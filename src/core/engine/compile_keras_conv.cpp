// Keras convolutions (Conv1D/2D, depthwise, separable, transposed) and
// pooling -> plan steps. Each compile function resolves the layer's config
// once into a typed struct (the resolve_* functions), then builds from it.
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

// A Conv1D/2D, DepthwiseConv1D/2D or SeparableConv1D/2D config, resolved.
struct KerasConvConfig {
    ConvVariant variant = ConvVariant::regular;
    bool one_dimensional = false;
    Conv2DGeometry geometry;  // kernel, strides, dilations; channels come from the weights
    int64_t groups = 1;       // regular convolutions only
    PaddingRule padding;
    bool use_bias = true;
    OutputActivation activation;
};

KerasConvConfig resolve_conv(const KerasContext& c, ConvVariant variant, bool one_dimensional) {
    const Layer& layer = c.layer;
    require_channels_last(layer);
    KerasConvConfig config;
    config.variant = variant;
    config.one_dimensional = one_dimensional;
    apply_window(resolve_window(layer, one_dimensional), config.geometry);
    config.groups = layer.attribute_int("groups", 1);
    config.padding = keras_padding(layer);
    config.use_bias = layer.attribute_int("use_bias", 1) != 0;
    config.activation = keras_activation(c, layer.attribute_string("activation", "linear"));
    return config;
}

CompiledLayer depthwise_or_separable(const KerasContext& c, const KerasConvConfig& config, const Tensor* bias,
                                     const std::vector<float>& bias_values) {
    const bool separable = config.variant == ConvVariant::separable;
    Conv2DGeometry g = config.geometry;
    ConvStep step;
    step.padding = config.padding;
    step.one_dimensional = config.one_dimensional;
    step.activation = config.activation;
    const int64_t taps = g.kernel_h * g.kernel_w;
    const Tensor& kernel = *find_weight(c, "depthwise_kernel", 0);
    if (kernel.rank() < 3) throw UnsupportedError(concat("depthwise kernel has shape ", shape_to_string(kernel.shape())));
    int64_t in_channels = kernel.shape()[kernel.rank() - 2], multiplier = kernel.shape().back();
    if (static_cast<int64_t>(kernel.element_count()) != taps * in_channels * multiplier) {
        throw UnsupportedError(concat("depthwise kernel shape ", shape_to_string(kernel.shape()), " does not match kernel_size"));
    }
    g.in_channels = in_channels;
    g.out_channels = in_channels * multiplier;
    g.groups = in_channels;
    // to_float32 shares a float32 tensor's bytes: no transient copy.
    const Tensor weights = kernel.to_float32();
    if (!separable) {
        if (bias && static_cast<int64_t>(bias_values.size()) != g.out_channels) throw UnsupportedError("bias size does not match");
        step.kernel = std::make_shared<Conv2DKernel>(g, weights.f32(), bias ? bias_values.data() : nullptr);
        return single(c, OpKind::conv2d, [step](const Tensor& x) { return step.run(x); }, step.kernel->algorithm());
    }
    ConvStep depth_step = step;
    depth_step.activation = OutputActivation{};
    depth_step.kernel = std::make_shared<Conv2DKernel>(g, weights.f32(), nullptr);
    const Tensor& pointwise = *find_weight(c, "pointwise_kernel", 1);
    Conv2DGeometry pg;
    pg.in_channels = g.out_channels;
    pg.out_channels = pointwise.shape().empty() ? 0 : pointwise.shape().back();
    if (static_cast<int64_t>(pointwise.element_count()) != pg.in_channels * pg.out_channels) {
        throw UnsupportedError(concat("pointwise kernel shape ", shape_to_string(pointwise.shape()), " does not match"));
    }
    const Tensor pointwise_values = pointwise.to_float32();
    ConvStep point_step;
    point_step.one_dimensional = config.one_dimensional;
    point_step.activation = step.activation;
    point_step.kernel = std::make_shared<Conv2DKernel>(pg, pointwise_values.f32(), bias ? bias_values.data() : nullptr);
    return single(c, OpKind::separable_conv2d, [depth_step, point_step](const Tensor& x) {
        return point_step.run(depth_step.run(x));
    }, "depthwise + pointwise-gemm");
}

// A MaxPooling / AveragePooling 1-D or 2-D config, resolved.
struct KerasPoolConfig {
    Pool2DGeometry geometry;
    PaddingRule padding;
    bool one_dimensional = false;
};

KerasPoolConfig resolve_pool(const Layer& layer, bool one_dimensional) {
    require_channels_last(layer);
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
    KerasPoolConfig config;
    config.geometry.kernel_h = pool[0];
    config.geometry.kernel_w = pool[1];
    config.geometry.stride_h = strides[0];
    config.geometry.stride_w = strides[1];
    config.geometry.count_include_pad = false;
    config.padding = keras_padding(layer);
    config.one_dimensional = one_dimensional;
    return config;
}

}  // namespace

CompiledLayer compile_conv(const KerasContext& c, ConvVariant variant, bool one_dimensional) {
    const KerasConvConfig config = resolve_conv(c, variant, one_dimensional);
    const Tensor* bias = config.use_bias ? find_weight(c, "bias", variant == ConvVariant::separable ? 2 : 1) : nullptr;
    std::vector<float> bias_values = bias ? floats_of(*bias) : std::vector<float>{};
    if (variant != ConvVariant::regular) return depthwise_or_separable(c, config, bias, bias_values);

    const size_t rank = one_dimensional ? 1 : 2;
    const Tensor& kernel = *find_weight(c, "kernel", 0);
    if (kernel.rank() != static_cast<int>(rank) + 2) {
        throw UnsupportedError(concat("kernel has shape ", shape_to_string(kernel.shape()), ", expected rank ", rank + 2));
    }
    Conv2DGeometry g = config.geometry;
    g.groups = config.groups;
    g.in_channels = kernel.shape()[kernel.rank() - 2] * config.groups;
    g.out_channels = kernel.shape().back();
    if (bias && static_cast<int64_t>(bias_values.size()) != g.out_channels) throw UnsupportedError("bias size does not match");
    ConvStep step;
    step.padding = config.padding;
    step.one_dimensional = one_dimensional;
    step.activation = config.activation;
    const Tensor weights = kernel.to_float32();
    step.kernel = std::make_shared<Conv2DKernel>(g, weights.f32(), bias ? bias_values.data() : nullptr);
    return single(c, OpKind::conv2d, [step](const Tensor& x) { return step.run(x); }, step.kernel->algorithm());
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
    return single(c, OpKind::conv_transpose2d, [step](const Tensor& x) { return step.run(x); }, "gemm + col2im");
}

CompiledLayer compile_pool(const KerasContext& c, PoolKind kind, bool one_dimensional) {
    const KerasPoolConfig config = resolve_pool(c.layer, one_dimensional);
    PoolStep step;
    step.kind = kind;
    step.geometry = config.geometry;
    step.padding = config.padding;
    step.one_dimensional = config.one_dimensional;
    return single(c, kind == PoolKind::max ? OpKind::max_pool2d : OpKind::avg_pool2d,
                  [step](const Tensor& x) { return step.run(x); });
}

CompiledLayer compile_global_pool(const KerasContext& c, PoolKind kind) {
    require_channels_last(c.layer);
    bool keep_dims = c.layer.attribute_int("keepdims", 0) != 0;
    return single(c, kind == PoolKind::max ? OpKind::global_max_pool : OpKind::global_avg_pool, [kind, keep_dims](const Tensor& input) {
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
    });
}

}  // namespace keras_compile
}  // namespace convscope
