// Keras layer classes -> plan steps. Tensors are channels_last (NHWC) with
// the batch axis first; attributes are the layer config entries by name.
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

struct KerasContext {
    const Model& model;
    const Layer& layer;
    const Layer& weight_owner;  // the first call of a shared layer holds the weights
    bool keras3;
};

const Layer& weight_owner_of(const Model& model, const Layer& layer) {
    std::string shared = layer.attribute_string("shares_weights_with", "");
    if (!shared.empty() && layer.weights.empty()) {
        if (const Layer* owner = model.find_layer(shared)) return *owner;
        throw UnsupportedError(concat("shares weights with '", shared, "', which is not in the model"));
    }
    return layer;
}

// A weight by name suffix ("/kernel"), else by get_weights() position.
const Tensor* find_weight(const KerasContext& c, const std::string& suffix, int position, bool required = true) {
    const Layer& owner = c.weight_owner;
    for (const Weight& w : owner.weights) {
        const std::string& n = w.name;
        for (const std::string& ending : {"/" + suffix, "/" + suffix + ":0"}) {
            if (n.size() >= ending.size() && n.compare(n.size() - ending.size(), ending.size(), ending) == 0) return &w.tensor;
        }
        if (n == suffix || n == suffix + ":0") return &w.tensor;
    }
    // Names that carry no recognisable suffix ("0", "1" in some .keras files).
    bool any_named = false;
    for (const Weight& w : owner.weights) {
        if (w.name.find("kernel") != std::string::npos || w.name.find("bias") != std::string::npos ||
            w.name.find("gamma") != std::string::npos || w.name.find("moving") != std::string::npos) {
            any_named = true;
        }
    }
    if (!any_named && position >= 0 && position < static_cast<int>(owner.weights.size())) {
        return &owner.weights[static_cast<size_t>(position)].tensor;
    }
    if (required) {
        throw UnsupportedError(concat("weight '", suffix, "' not found (the layer has ", owner.weights.size(), " weights)"));
    }
    return nullptr;
}

std::vector<float> floats_of(const Tensor& tensor) { return tensor.to_float_vector(); }

// A 1- or 2-element spatial attribute expanded to `rank` values.
std::vector<int64_t> spatial(const Layer& layer, const std::string& key, size_t rank, std::vector<int64_t> fallback) {
    std::vector<int64_t> values = layer.attribute_ints(key, fallback);
    if (values.empty()) values = fallback;
    // assign(n, value) must not be given a reference into the vector itself:
    // libc++ (the WASM build) frees the old buffer before filling the new one,
    // so values[0] would be read from freed memory. Copy it first.
    if (values.size() == 1 && rank > 1) {
        const int64_t value = values[0];
        values.assign(rank, value);
    }
    if (values.size() != rank) {
        throw UnsupportedError(concat("attribute ", key, " has ", values.size(), " values, expected ", rank));
    }
    return values;
}

OutputActivation keras_activation(const KerasContext& c, const std::string& name) {
    OutputActivation out;
    if (name == "softmax") {
        out.softmax = true;
        return out;
    }
    if (!activation_from_keras_name(name, c.keras3, out.activation)) {
        throw UnsupportedError(concat("activation '", name, "' is not supported"));
    }
    return out;
}

void require_channels_last(const Layer& layer) {
    std::string format = layer.attribute_string("data_format", "channels_last");
    if (format != "channels_last") throw UnsupportedError(concat("data_format '", format, "' is not supported"));
}

PaddingRule keras_padding(const Layer& layer) {
    std::string padding = layer.attribute_string("padding", "valid");
    PaddingRule rule;
    if (padding == "same") rule.kind = PaddingRule::Kind::same_upper;
    else if (padding == "causal") rule.kind = PaddingRule::Kind::causal;
    else if (padding != "valid") throw UnsupportedError(concat("padding '", padding, "' is not supported"));
    return rule;
}

CompiledLayer single(OpKind op, std::function<Tensor(const Tensor&)> function, std::string algorithm = "") {
    CompiledLayer compiled;
    compiled.op = op;
    compiled.algorithm = std::move(algorithm);
    compiled.run = [function](const StepInputs& inputs) {
        return std::vector<Tensor>{function(require_input(inputs, 0, "layer"))};
    };
    return compiled;
}

CompiledLayer compile_conv(const KerasContext& c, bool one_dimensional) {
    const Layer& layer = c.layer;
    require_channels_last(layer);
    const std::string& type = layer.type;
    const bool depthwise = type == "DepthwiseConv2D" || type == "DepthwiseConv1D";
    const bool separable = type == "SeparableConv2D" || type == "SeparableConv1D";
    size_t rank = one_dimensional ? 1 : 2;
    std::vector<int64_t> kernel_size = spatial(layer, "kernel_size", rank, {});
    std::vector<int64_t> strides = spatial(layer, "strides", rank, {1});
    std::vector<int64_t> dilations = spatial(layer, "dilation_rate", rank, {1});
    if (one_dimensional) {
        kernel_size.insert(kernel_size.begin(), 1);
        strides.insert(strides.begin(), 1);
        dilations.insert(dilations.begin(), 1);
    }
    bool use_bias = layer.attribute_int("use_bias", 1) != 0;
    Conv2DGeometry g;
    g.kernel_h = kernel_size[0];
    g.kernel_w = kernel_size[1];
    g.stride_h = strides[0];
    g.stride_w = strides[1];
    g.dilation_h = dilations[0];
    g.dilation_w = dilations[1];
    const Tensor* bias = use_bias ? find_weight(c, "bias", separable ? 2 : 1) : nullptr;
    std::vector<float> bias_values = bias ? floats_of(*bias) : std::vector<float>{};

    ConvStep step;
    step.padding = keras_padding(layer);
    step.one_dimensional = one_dimensional;
    step.activation = keras_activation(c, layer.attribute_string("activation", "linear"));
    const int64_t taps = g.kernel_h * g.kernel_w;
    if (depthwise || separable) {
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
            CompiledLayer compiled = single(OpKind::conv2d, [step](const Tensor& x) { return step.run(x); }, step.kernel->algorithm());
            compiled.inputs = layer.inputs;
            return compiled;
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
        point_step.one_dimensional = one_dimensional;
        point_step.activation = step.activation;
        point_step.kernel = std::make_shared<Conv2DKernel>(pg, pointwise_values.f32(), bias ? bias_values.data() : nullptr);
        CompiledLayer compiled = single(OpKind::separable_conv2d, [depth_step, point_step](const Tensor& x) {
            return point_step.run(depth_step.run(x));
        }, "depthwise + pointwise-gemm");
        compiled.inputs = layer.inputs;
        return compiled;
    }
    const Tensor& kernel = *find_weight(c, "kernel", 0);
    if (kernel.rank() != static_cast<int>(rank) + 2) {
        throw UnsupportedError(concat("kernel has shape ", shape_to_string(kernel.shape()), ", expected rank ", rank + 2));
    }
    int64_t groups = layer.attribute_int("groups", 1);
    g.groups = groups;
    g.in_channels = kernel.shape()[kernel.rank() - 2] * groups;
    g.out_channels = kernel.shape().back();
    if (bias && static_cast<int64_t>(bias_values.size()) != g.out_channels) throw UnsupportedError("bias size does not match");
    const Tensor weights = kernel.to_float32();
    step.kernel = std::make_shared<Conv2DKernel>(g, weights.f32(), bias ? bias_values.data() : nullptr);
    CompiledLayer compiled = single(OpKind::conv2d, [step](const Tensor& x) { return step.run(x); }, step.kernel->algorithm());
    compiled.inputs = layer.inputs;
    return compiled;
}

CompiledLayer compile_conv_transpose(const KerasContext& c, bool one_dimensional) {
    const Layer& layer = c.layer;
    require_channels_last(layer);
    size_t rank = one_dimensional ? 1 : 2;
    std::vector<int64_t> kernel_size = spatial(layer, "kernel_size", rank, {});
    std::vector<int64_t> strides = spatial(layer, "strides", rank, {1});
    std::vector<int64_t> dilations = spatial(layer, "dilation_rate", rank, {1});
    std::vector<int64_t> output_padding = layer.attribute_ints("output_padding", {});
    if (output_padding.size() == 1) {
        const int64_t value = output_padding[0];  // not a reference into the vector (see spatial())
        output_padding.assign(rank, value);
    }
    if (one_dimensional) {
        kernel_size.insert(kernel_size.begin(), 1);
        strides.insert(strides.begin(), 1);
        dilations.insert(dilations.begin(), 1);
        if (!output_padding.empty()) output_padding.insert(output_padding.begin(), 0);
    }
    const Tensor& kernel = *find_weight(c, "kernel", 0);  // [kh, kw, out, in]
    if (kernel.rank() != static_cast<int>(rank) + 2) throw UnsupportedError("unexpected transposed kernel rank");
    int64_t out_channels = kernel.shape()[kernel.rank() - 2], in_channels = kernel.shape().back();
    int64_t taps = kernel_size[0] * kernel_size[1];
    const Tensor source_tensor = kernel.to_float32();
    const float* source = source_tensor.f32();
    std::vector<float> canonical(static_cast<size_t>(source_tensor.element_count()));
    for (int64_t t = 0; t < taps; ++t)
        for (int64_t o = 0; o < out_channels; ++o)
            for (int64_t i = 0; i < in_channels; ++i)
                canonical[(i * taps + t) * out_channels + o] = source[(t * out_channels + o) * in_channels + i];
    bool use_bias = layer.attribute_int("use_bias", 1) != 0;
    std::vector<float> bias = use_bias ? floats_of(*find_weight(c, "bias", 1)) : std::vector<float>{};
    ConvTranspose2DGeometry geometry;
    Conv2DGeometry& g = geometry.conv;
    g.in_channels = in_channels;
    g.out_channels = out_channels;
    g.kernel_h = kernel_size[0];
    g.kernel_w = kernel_size[1];
    g.stride_h = strides[0];
    g.stride_w = strides[1];
    g.dilation_h = dilations[0];
    g.dilation_w = dilations[1];
    ConvTransposeStep step;
    step.kernel = std::make_shared<ConvTranspose2DKernel>(geometry, canonical.data(), bias.empty() ? nullptr : bias.data());
    std::string padding = layer.attribute_string("padding", "valid");
    if (padding != "same" && padding != "valid") throw UnsupportedError(concat("padding '", padding, "' is not supported"));
    step.size_rule = padding == "same" ? ConvTransposeStep::SizeRule::keras_same : ConvTransposeStep::SizeRule::keras_valid;
    if (!output_padding.empty()) {
        step.output_padding_h = output_padding[0];
        step.output_padding_w = output_padding[1];
    }
    step.one_dimensional = one_dimensional;
    step.activation = keras_activation(c, layer.attribute_string("activation", "linear"));
    CompiledLayer compiled = single(OpKind::conv_transpose2d, [step](const Tensor& x) { return step.run(x); }, "gemm + col2im");
    compiled.inputs = layer.inputs;
    return compiled;
}

CompiledLayer compile_pool(const KerasContext& c, PoolKind kind, bool one_dimensional) {
    const Layer& layer = c.layer;
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
    PoolStep step;
    step.kind = kind;
    step.geometry.kernel_h = pool[0];
    step.geometry.kernel_w = pool[1];
    step.geometry.stride_h = strides[0];
    step.geometry.stride_w = strides[1];
    step.geometry.count_include_pad = false;
    step.padding = keras_padding(layer);
    step.one_dimensional = one_dimensional;
    CompiledLayer compiled = single(kind == PoolKind::max ? OpKind::max_pool2d : OpKind::avg_pool2d,
                                    [step](const Tensor& x) { return step.run(x); });
    compiled.inputs = layer.inputs;
    return compiled;
}

CompiledLayer compile_global_pool(const KerasContext& c, PoolKind kind) {
    require_channels_last(c.layer);
    bool keep_dims = c.layer.attribute_int("keepdims", 0) != 0;
    CompiledLayer compiled = single(kind == PoolKind::max ? OpKind::global_max_pool : OpKind::global_avg_pool,
                                    [kind, keep_dims](const Tensor& input) {
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
    compiled.inputs = c.layer.inputs;
    return compiled;
}

// Per-channel y = x * scale + shift along `axis` (Keras BatchNormalization).
CompiledLayer affine_on_axis(const Layer& layer, OpKind op, int64_t axis, std::vector<float> scale, std::vector<float> shift) {
    CompiledLayer compiled = single(op, [axis, scale, shift](const Tensor& input) {
        Tensor x = input.to_float32();
        int a = normalize_axis(axis, x.rank(), "normalization");
        int64_t channels = x.shape()[a];
        if (channels != static_cast<int64_t>(scale.size())) {
            throw UnsupportedError(concat("normalization has ", scale.size(), " channels, input ", shape_to_string(x.shape()),
                                          " has ", channels, " on axis ", a));
        }
        int64_t inner = 1;
        for (int i = a + 1; i < x.rank(); ++i) inner *= x.shape()[i];
        int64_t outer = static_cast<int64_t>(x.element_count()) / std::max<int64_t>(channels * inner, 1);
        Tensor out = Tensor::zeros(DType::f32, x.shape());
        if (out.element_count()) channel_affine(x.f32(), out.mutable_f32(), outer, channels, inner, scale.data(), shift.data());
        return out;
    });
    compiled.inputs = layer.inputs;
    return compiled;
}

int64_t single_axis(const Layer& layer, int64_t fallback) {
    std::vector<int64_t> axes = layer.attribute_ints("axis", {fallback});
    if (axes.size() != 1) throw UnsupportedError(concat("normalizing over ", axes.size(), " axes is not supported"));
    return axes[0];
}

CompiledLayer compile_batch_norm(const KerasContext& c) {
    const Layer& layer = c.layer;
    int64_t axis = single_axis(layer, -1);
    bool center = layer.attribute_int("center", 1) != 0, scale = layer.attribute_int("scale", 1) != 0;
    float epsilon = static_cast<float>(layer.attribute_float("epsilon", 1e-3));
    int position = 0;
    const Tensor* gamma = scale ? find_weight(c, "gamma", position++) : nullptr;
    const Tensor* beta = center ? find_weight(c, "beta", position++) : nullptr;
    std::vector<float> mean = floats_of(*find_weight(c, "moving_mean", position++));
    std::vector<float> variance = floats_of(*find_weight(c, "moving_variance", position++));
    std::vector<float> gamma_values = gamma ? floats_of(*gamma) : std::vector<float>(mean.size(), 1.0f);
    std::vector<float> beta_values = beta ? floats_of(*beta) : std::vector<float>(mean.size(), 0.0f);
    if (variance.size() != mean.size() || gamma_values.size() != mean.size() || beta_values.size() != mean.size()) {
        throw UnsupportedError("batch normalization weights have different lengths");
    }
    std::vector<float> multiplier(mean.size()), shift(mean.size());
    for (size_t i = 0; i < mean.size(); ++i) {
        multiplier[i] = gamma_values[i] / std::sqrt(variance[i] + epsilon);
        shift[i] = beta_values[i] - mean[i] * multiplier[i];
    }
    return affine_on_axis(layer, OpKind::batch_norm, axis, multiplier, shift);
}

CompiledLayer compile_layer_norm(const KerasContext& c) {
    const Layer& layer = c.layer;
    std::vector<int64_t> axes = layer.attribute_ints("axis", {-1});
    float epsilon = static_cast<float>(layer.attribute_float("epsilon", 1e-3));
    bool center = layer.attribute_int("center", 1) != 0, scale = layer.attribute_int("scale", 1) != 0;
    int position = 0;
    const Tensor* gamma = scale ? find_weight(c, "gamma", position++) : nullptr;
    const Tensor* beta = center ? find_weight(c, "beta", position++) : nullptr;
    std::vector<float> gamma_values = gamma ? floats_of(*gamma) : std::vector<float>{};
    std::vector<float> beta_values = beta ? floats_of(*beta) : std::vector<float>{};
    CompiledLayer compiled = single(OpKind::layer_norm, [axes, epsilon, gamma_values, beta_values](const Tensor& input) {
        Tensor x = input.to_float32();
        std::vector<bool> normalized(x.rank(), false);
        for (int64_t a : axes) normalized[normalize_axis(a, x.rank(), "layer normalization")] = true;
        int first = x.rank();
        while (first > 0 && normalized[first - 1]) --first;
        for (int i = 0; i < first; ++i) {
            if (normalized[i]) throw UnsupportedError("layer normalization over non-trailing axes is not supported");
        }
        int64_t inner = 1;
        for (int i = first; i < x.rank(); ++i) inner *= x.shape()[i];
        if ((!gamma_values.empty() && static_cast<int64_t>(gamma_values.size()) != inner) ||
            (!beta_values.empty() && static_cast<int64_t>(beta_values.size()) != inner)) {
            throw UnsupportedError("layer normalization weights do not match the normalized size");
        }
        Tensor out = Tensor::zeros(DType::f32, x.shape());
        if (inner > 0) {
            layer_norm(x.f32(), out.mutable_f32(), static_cast<int64_t>(x.element_count()) / inner, inner, epsilon,
                       gamma_values.empty() ? nullptr : gamma_values.data(), beta_values.empty() ? nullptr : beta_values.data());
        }
        return out;
    });
    compiled.inputs = layer.inputs;
    return compiled;
}

CompiledLayer compile_activation_layer(const KerasContext& c, OutputActivation activation, OpKind op = OpKind::activation) {
    CompiledLayer compiled = single(op, [activation](const Tensor& input) {
        Tensor out = Tensor::zeros(DType::f32, input.shape());
        Tensor x = input.to_float32();
        if (out.element_count()) std::memcpy(out.mutable_f32(), x.f32(), out.byte_size());
        apply_output_activation(activation, out);
        return out;
    });
    compiled.inputs = c.layer.inputs;
    return compiled;
}

CompiledLayer compile_softmax(const KerasContext& c) {
    int64_t axis = single_axis(c.layer, -1);
    CompiledLayer compiled = single(OpKind::softmax, [axis](const Tensor& input) {
        Tensor x = input.to_float32();
        int a = normalize_axis(axis, x.rank(), "softmax");
        int64_t inner = 1;
        for (int i = a + 1; i < x.rank(); ++i) inner *= x.shape()[i];
        int64_t length = x.shape()[a];
        Tensor out = Tensor::zeros(DType::f32, x.shape());
        if (out.element_count()) {
            softmax(x.f32(), out.mutable_f32(), static_cast<int64_t>(x.element_count()) / (length * inner), length, inner);
        }
        return out;
    });
    compiled.inputs = c.layer.inputs;
    return compiled;
}

CompiledLayer compile_merge(const KerasContext& c, BinaryKind kind, bool average) {
    CompiledLayer compiled;
    compiled.op = OpKind::variadic;
    compiled.inputs = c.layer.inputs;
    if (c.layer.inputs.size() < 1) throw UnsupportedError("merge layer without inputs");
    if (c.layer.type == "Subtract" && c.layer.inputs.size() != 2) throw UnsupportedError("Subtract needs exactly 2 inputs");
    compiled.run = [kind, average](const StepInputs& inputs) {
        Tensor result = require_input(inputs, 0, "merge").to_float32();
        for (size_t i = 1; i < inputs.size(); ++i) result = binary_op(kind, result, require_input(inputs, i, "merge").to_float32());
        if (average) result = binary_op(BinaryKind::multiply, result, Tensor::from_floats({}, {1.0f / inputs.size()}));
        else if (inputs.size() == 1) result = Tensor(result);
        return std::vector<Tensor>{result};
    };
    return compiled;
}

// [t, b, l, r] from 1, 2 or 4 values (Keras ZeroPadding2D / Cropping2D).
std::vector<int64_t> four_sides(const Layer& layer, const std::string& key, int64_t fallback) {
    std::vector<int64_t> v = layer.attribute_ints(key, {fallback});
    if (v.size() == 1) return {v[0], v[0], v[0], v[0]};
    if (v.size() == 2) return {v[0], v[0], v[1], v[1]};
    if (v.size() == 4) return v;
    throw UnsupportedError(concat(key, " has ", v.size(), " values"));
}

std::vector<int64_t> two_sides(const Layer& layer, const std::string& key, int64_t fallback) {
    std::vector<int64_t> v = layer.attribute_ints(key, {fallback});
    if (v.size() == 1) return {v[0], v[0]};
    if (v.size() == 2) return v;
    throw UnsupportedError(concat(key, " has ", v.size(), " values"));
}

}  // namespace

CompiledLayer compile_keras_layer(const Model& model, const Layer& layer) {
    bool keras3 = model.is_keras3();
    KerasContext c{model, layer, weight_owner_of(model, layer), keras3};
    const std::string& type = layer.type;
    auto with_inputs = [&](CompiledLayer compiled) {
        compiled.inputs = layer.inputs;
        return compiled;
    };

    if (type == "Conv2D" || type == "DepthwiseConv2D" || type == "SeparableConv2D" || type == "Convolution2D")
        return compile_conv(c, false);
    if (type == "Conv1D" || type == "SeparableConv1D" || type == "DepthwiseConv1D" || type == "Convolution1D")
        return compile_conv(c, true);
    if (type == "Conv2DTranspose" || type == "Deconvolution2D") return compile_conv_transpose(c, false);
    if (type == "Conv1DTranspose") return compile_conv_transpose(c, true);
    if (type == "Dense") {
        const Tensor& kernel = *find_weight(c, "kernel", 0);
        if (kernel.rank() != 2) throw UnsupportedError(concat("kernel has shape ", shape_to_string(kernel.shape())));
        DenseStep step = make_dense_step(kernel, false);
        if (layer.attribute_int("use_bias", 1) != 0) step.bias = floats_of(*find_weight(c, "bias", 1));
        if (!step.bias.empty() && static_cast<int64_t>(step.bias.size()) != kernel.shape()[1]) throw UnsupportedError("bias size does not match");
        step.activation = keras_activation(c, layer.attribute_string("activation", "linear"));
        return with_inputs(single(OpKind::dense, [step](const Tensor& x) { return step.run(x); },
                                      step.runs_in_place() ? "gemv-in-place" : "packed-gemm"));
    }
    if (type == "MaxPooling2D" || type == "MaxPool2D") return compile_pool(c, PoolKind::max, false);
    if (type == "AveragePooling2D" || type == "AvgPool2D") return compile_pool(c, PoolKind::average, false);
    if (type == "MaxPooling1D" || type == "MaxPool1D") return compile_pool(c, PoolKind::max, true);
    if (type == "AveragePooling1D" || type == "AvgPool1D") return compile_pool(c, PoolKind::average, true);
    if (type == "GlobalAveragePooling2D" || type == "GlobalAveragePooling1D" || type == "GlobalAvgPool2D")
        return compile_global_pool(c, PoolKind::average);
    if (type == "GlobalMaxPooling2D" || type == "GlobalMaxPooling1D" || type == "GlobalMaxPool2D")
        return compile_global_pool(c, PoolKind::max);
    if (type == "BatchNormalization") return compile_batch_norm(c);
    if (type == "LayerNormalization") return compile_layer_norm(c);
    if (type == "Activation") {
        std::string name = layer.attribute_string("activation", "linear");
        if (name == "softmax") return compile_softmax(c);
        return compile_activation_layer(c, keras_activation(c, name));
    }
    if (type == "ReLU") {
        OutputActivation a;
        a.activation.kind = ActivationKind::relu;
        const AttributeValue* max_value = layer.attribute("max_value");
        a.activation.alpha = max_value && !std::holds_alternative<std::string>(*max_value)
                                 ? static_cast<float>(layer.attribute_float("max_value", 0))
                                 : std::numeric_limits<float>::infinity();
        a.activation.beta = static_cast<float>(layer.attribute_float("negative_slope", 0.0));
        a.activation.gamma = static_cast<float>(layer.attribute_float("threshold", 0.0));
        return compile_activation_layer(c, a);
    }
    if (type == "LeakyReLU") {
        OutputActivation a;
        a.activation.kind = ActivationKind::leaky_relu;
        a.activation.alpha = static_cast<float>(layer.attribute_float("alpha", layer.attribute_float("negative_slope", 0.3)));
        return compile_activation_layer(c, a);
    }
    if (type == "ELU") {
        OutputActivation a;
        a.activation.kind = ActivationKind::elu;
        a.activation.alpha = static_cast<float>(layer.attribute_float("alpha", 1.0));
        return compile_activation_layer(c, a);
    }
    if (type == "Softmax") return compile_softmax(c);
    if (type == "PReLU") {
        Tensor alpha = find_weight(c, "alpha", 0)->to_float32();
        Shape with_batch = alpha.shape();
        with_batch.insert(with_batch.begin(), 1);
        alpha = alpha.reshaped(with_batch);
        return with_inputs(single(OpKind::prelu, [alpha](const Tensor& input) {
            Tensor x = input.to_float32();
            Tensor zero = Tensor::from_floats({}, {0.0f});
            return binary_op(BinaryKind::add, binary_op(BinaryKind::maximum, x, zero),
                             binary_op(BinaryKind::multiply, alpha, binary_op(BinaryKind::minimum, x, zero)));
        }));
    }
    if (type == "Dropout" || type == "SpatialDropout1D" || type == "SpatialDropout2D" || type == "SpatialDropout3D" ||
        type == "GaussianNoise" || type == "GaussianDropout" || type == "AlphaDropout" || type == "ActivityRegularization" ||
        type == "Identity" || type == "Masking") {
        return with_inputs(single(OpKind::identity, [](const Tensor& x) { return x; }));
    }
    if (type == "Flatten") {
        require_channels_last(layer);
        return with_inputs(single(OpKind::flatten, [](const Tensor& x) {
            int64_t n = x.rank() ? x.shape()[0] : 1;
            return x.reshaped({n, static_cast<int64_t>(x.element_count()) / std::max<int64_t>(n, 1)});
        }));
    }
    if (type == "Reshape") {
        std::vector<int64_t> target = layer.attribute_ints("target_shape", {});
        return with_inputs(single(OpKind::reshape, [target](const Tensor& x) {
            Shape shape{x.rank() ? x.shape()[0] : 1};
            int64_t known = shape[0], unknown_at = -1;
            for (int64_t d : target) {
                if (d < 0) unknown_at = static_cast<int64_t>(shape.size());
                else known *= d;
                shape.push_back(d);
            }
            if (unknown_at >= 0 && known > 0) shape[unknown_at] = static_cast<int64_t>(x.element_count()) / known;
            return x.reshaped(shape);
        }));
    }
    if (type == "Permute") {
        std::vector<int64_t> dims = layer.attribute_ints("dims", {});
        std::vector<int64_t> perm{0};
        perm.insert(perm.end(), dims.begin(), dims.end());
        return with_inputs(single(OpKind::transpose, [perm](const Tensor& x) { return transpose(x, perm); }));
    }
    if (type == "Add") return compile_merge(c, BinaryKind::add, false);
    if (type == "Subtract") return compile_merge(c, BinaryKind::subtract, false);
    if (type == "Multiply") return compile_merge(c, BinaryKind::multiply, false);
    if (type == "Average") return compile_merge(c, BinaryKind::add, true);
    if (type == "Maximum") return compile_merge(c, BinaryKind::maximum, false);
    if (type == "Minimum") return compile_merge(c, BinaryKind::minimum, false);
    if (type == "Concatenate") {
        int64_t axis = layer.attribute_int("axis", -1);
        CompiledLayer compiled;
        compiled.op = OpKind::concat;
        compiled.inputs = layer.inputs;
        compiled.run = [axis](const StepInputs& inputs) {
            std::vector<Tensor> floats;
            for (size_t i = 0; i < inputs.size(); ++i) floats.push_back(require_input(inputs, i, "concatenate").to_float32());
            std::vector<const Tensor*> pointers;
            for (const Tensor& t : floats) pointers.push_back(&t);
            return std::vector<Tensor>{concat(pointers, axis)};
        };
        return compiled;
    }
    if (type == "ZeroPadding2D" || type == "ZeroPadding1D") {
        require_channels_last(layer);
        bool one_d = type == "ZeroPadding1D";
        std::vector<int64_t> sides = one_d ? two_sides(layer, "padding", 1) : four_sides(layer, "padding", 1);
        std::vector<int64_t> pads = one_d ? std::vector<int64_t>{0, sides[0], 0, 0, sides[1], 0}
                                          : std::vector<int64_t>{0, sides[0], sides[2], 0, 0, sides[1], sides[3], 0};
        return with_inputs(single(OpKind::pad, [pads](const Tensor& x) { return pad(x, pads, PadMode::constant, 0.0f); }));
    }
    if (type == "Cropping2D" || type == "Cropping1D") {
        require_channels_last(layer);
        bool one_d = type == "Cropping1D";
        std::vector<int64_t> sides = one_d ? two_sides(layer, "cropping", 1) : four_sides(layer, "cropping", 0);
        return with_inputs(single(OpKind::crop, [sides, one_d](const Tensor& x) {
            std::vector<int64_t> starts(x.rank(), 0), ends = x.shape(), steps(x.rank(), 1);
            int spatial_axes = one_d ? 1 : 2;
            if (x.rank() != spatial_axes + 2) throw UnsupportedError(concat("cropping expects rank ", spatial_axes + 2));
            for (int a = 0; a < spatial_axes; ++a) {
                starts[1 + a] = sides[2 * a];
                ends[1 + a] = x.shape()[1 + a] - sides[2 * a + 1];
                if (ends[1 + a] < starts[1 + a]) throw UnsupportedError("cropping removes more than the input has");
            }
            return slice(x, starts, ends, steps);
        }));
    }
    if (type == "UpSampling2D") {
        require_channels_last(layer);
        std::vector<int64_t> size = spatial(layer, "size", 2, {2});
        std::string interpolation = layer.attribute_string("interpolation", "nearest");
        ResizeOptions options;
        if (interpolation == "bilinear") {
            options.mode = ResizeMode::bilinear;
            options.coordinates = CoordinateMode::half_pixel;
        } else if (interpolation != "nearest") {
            throw UnsupportedError(concat("interpolation '", interpolation, "' is not supported"));
        }
        return with_inputs(single(OpKind::resize, [size, options](const Tensor& x) {
            if (x.rank() != 4) throw UnsupportedError("UpSampling2D expects a rank-4 input");
            return resize2d(x.to_float32(), true, x.shape()[1] * size[0], x.shape()[2] * size[1], options);
        }));
    }
    if (type == "UpSampling1D") {
        int64_t size = layer.attribute_int("size", 2);
        return with_inputs(single(OpKind::resize, [size](const Tensor& x) {
            if (x.rank() != 3) throw UnsupportedError("UpSampling1D expects a rank-3 input");
            Tensor image = x.to_float32().reshaped({x.shape()[0], x.shape()[1], 1, x.shape()[2]});
            Tensor out = resize2d(image, true, x.shape()[1] * size, 1, ResizeOptions{});
            return out.reshaped({x.shape()[0], x.shape()[1] * size, x.shape()[2]});
        }));
    }
    if (type == "Rescaling") {
        float scale = static_cast<float>(layer.attribute_float("scale", 1.0));
        float offset = static_cast<float>(layer.attribute_float("offset", 0.0));
        return with_inputs(single(OpKind::normalization, [scale, offset](const Tensor& x) {
            return binary_op(BinaryKind::add, binary_op(BinaryKind::multiply, x.to_float32(), Tensor::from_floats({}, {scale})),
                             Tensor::from_floats({}, {offset}));
        }));
    }
    if (type == "Normalization") {
        if (layer.attribute_int("invert", 0)) throw UnsupportedError("inverted Normalization is not supported");
        Tensor mean = find_weight(c, "mean", 0)->to_float32();
        Tensor variance = find_weight(c, "variance", 1)->to_float32();
        std::vector<float> deviation = variance.to_float_vector();
        for (float& v : deviation) v = std::max(std::sqrt(v), 1e-7f);
        Tensor divisor = Tensor::from_floats(variance.shape(), deviation);
        return with_inputs(single(OpKind::normalization, [mean, divisor](const Tensor& x) {
            return binary_op(BinaryKind::divide, binary_op(BinaryKind::subtract, x.to_float32(), mean), divisor);
        }));
    }
    throw UnsupportedError(concat("Keras layer class '", type, "' is not supported"));
}

}  // namespace convscope
