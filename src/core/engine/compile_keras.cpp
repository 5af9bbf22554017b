// Keras layer classes -> plan steps. Tensors are channels_last (NHWC) with
// the batch axis first; attributes are the layer config entries by name.
//
// One compile function per layer class, found through a table keyed on the
// class name (Keras 1, 2 and 3 spellings). Each function reads the layer's
// config once, into typed values, and builds the step from those.
//
// [SECTION] index
//   context and helpers (weights, spatial attributes, activation, padding)
//   dense, normalisation, activation layers, softmax
//   merges, reshaping, padding and cropping, resizing, rescaling
//   the class-name table and compile_keras_layer
// Convolutions and pooling: compile_keras_conv.cpp.
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/base/error.h"
#include "core/engine/compile_keras_internal.h"
#include "core/ops/elementwise.h"
#include "core/ops/tensor_ops.h"

namespace convscope {
namespace keras_compile {

// [SECTION] context and helpers ----------------------------------------------------

const Tensor* find_weight(const KerasContext& c, const std::string& suffix, int position, bool required) {
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
    if (!keras_activation_from_name(name, c.keras3, out.activation)) {
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

CompiledLayer single(const KerasContext& c, OpKind op, std::function<Tensor(const Tensor&)> function, std::string algorithm) {
    CompiledLayer compiled;
    compiled.op = op;
    compiled.algorithm = std::move(algorithm);
    compiled.inputs = c.layer.inputs;
    compiled.run = [function](const StepInputs& inputs) {
        return std::vector<Tensor>{function(require_input(inputs, 0, "layer"))};
    };
    return compiled;
}

CompiledLayer with_params(CompiledLayer compiled, LayerParams params) {
    compiled.params = std::move(params);
    return compiled;
}

namespace {

const Layer& weight_owner_of(const Model& model, const Layer& layer) {
    std::string shared = layer.attribute_string("shares_weights_with", "");
    if (!shared.empty() && layer.weights.empty()) {
        if (const Layer* owner = model.find_layer(shared)) return *owner;
        throw UnsupportedError(concat("shares weights with '", shared, "', which is not in the model"));
    }
    return layer;
}

}  // namespace

KerasContext make_context(const Model& model, const Layer& layer) {
    bool keras3 = model.is_keras3();
    return KerasContext{model, layer, weight_owner_of(model, layer), keras3};
}

namespace {

std::vector<float> floats_of(const Tensor& tensor) { return tensor.to_float_vector(); }

int64_t single_axis(const Layer& layer, int64_t fallback) {
    std::vector<int64_t> axes = layer.attribute_ints("axis", {fallback});
    if (axes.size() != 1) throw UnsupportedError(concat("normalizing over ", axes.size(), " axes is not supported"));
    return axes[0];
}

// [SECTION] dense, normalisation, activation layers, softmax -------------------------

KerasDenseParams resolve_dense_params(const KerasContext& c) {
    KerasDenseParams p;
    const bool use_bias = c.layer.attribute_int("use_bias", 1) != 0;
    p.activation = keras_activation(c, c.layer.attribute_string("activation", "linear"));
    p.kernel = find_weight(c, "kernel", 0);
    if (p.kernel->rank() != 2) throw UnsupportedError(concat("kernel has shape ", shape_to_string(p.kernel->shape())));
    p.bias = use_bias ? find_weight(c, "bias", 1) : nullptr;
    if (p.bias && p.bias->element_count() != 0 && static_cast<int64_t>(p.bias->element_count()) != p.kernel->shape()[1]) {
        throw UnsupportedError("bias size does not match");
    }
    return p;
}

CompiledLayer compile_dense(const KerasContext& c) {
    const KerasDenseParams p = resolve_dense_params(c);
    DenseStep step = make_dense_step(*p.kernel, false);
    if (p.bias) step.bias = floats_of(*p.bias);
    step.activation = p.activation;
    DenseParams params;
    params.in_features = p.kernel->shape()[0];
    params.out_features = p.kernel->shape()[1];
    params.has_bias = p.bias != nullptr;
    params.activation = p.activation;
    return with_params(single(c, OpKind::dense, [step](const Tensor& x) { return step.run(x); },
                              step.runs_in_place() ? "gemv-in-place" : "packed-gemm"), params);
}

// Per-channel y = x * scale + shift along `axis` (Keras BatchNormalization).
CompiledLayer affine_on_axis(const KerasContext& c, OpKind op, int64_t axis, std::vector<float> scale, std::vector<float> shift) {
    return single(c, op, [axis, scale, shift](const Tensor& input) {
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
    NormParams params;
    params.kind = NormParams::Kind::batch;
    params.epsilon = epsilon;
    params.axes = {axis};
    params.scale = scale;
    params.center = center;
    return with_params(affine_on_axis(c, OpKind::batch_norm, axis, multiplier, shift), params);
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
    NormParams params;
    params.kind = NormParams::Kind::layer;
    params.epsilon = epsilon;
    params.axes = axes;
    params.scale = scale;
    params.center = center;
    return with_params(single(c, OpKind::layer_norm, [axes, epsilon, gamma_values, beta_values](const Tensor& input) {
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
    }), params);
}

// Activation (not softmax), ReLU, LeakyReLU, ELU.
Activation resolve_activation_layer(const KerasContext& c) {
    const Layer& layer = c.layer;
    const std::string& type = layer.type;
    Activation a;
    if (type == "Activation") {
        OutputActivation named = keras_activation(c, layer.attribute_string("activation", "linear"));
        if (named.softmax) throw UnsupportedError("Activation('softmax') is a softmax layer");
        return named.activation;
    }
    if (type == "ReLU") {
        a.kind = ActivationKind::relu;
        const AttributeValue* max_value = layer.attribute("max_value");
        a.alpha = max_value && !std::holds_alternative<std::string>(*max_value) ? static_cast<float>(layer.attribute_float("max_value", 0))
                                                                               : std::numeric_limits<float>::infinity();
        a.beta = static_cast<float>(layer.attribute_float("negative_slope", 0.0));
        a.gamma = static_cast<float>(layer.attribute_float("threshold", 0.0));
    } else if (type == "LeakyReLU") {
        a.kind = ActivationKind::leaky_relu;
        // Keras 2 calls the slope alpha, Keras 3 negative_slope.
        a.alpha = static_cast<float>(layer.attribute_float("alpha", layer.attribute_float("negative_slope", 0.3)));
    } else if (type == "ELU") {
        a.kind = ActivationKind::elu;
        a.alpha = static_cast<float>(layer.attribute_float("alpha", 1.0));
    } else {
        throw UnsupportedError(concat("'", type, "' is not a Keras activation layer"));
    }
    return a;
}

CompiledLayer activation_step(const KerasContext& c, OutputActivation activation) {
    LayerParams params = ActivationParams{activation.activation};
    return with_params(single(c, OpKind::activation, [activation](const Tensor& input) {
        Tensor out = Tensor::zeros(DType::f32, input.shape());
        Tensor x = input.to_float32();
        if (out.element_count()) std::memcpy(out.mutable_f32(), x.f32(), out.byte_size());
        apply_output_activation(activation, out);
        return out;
    }), params);
}

CompiledLayer compile_softmax(const KerasContext& c) {
    int64_t axis = single_axis(c.layer, -1);
    SoftmaxParams params;
    params.axis = axis;
    return with_params(single(c, OpKind::softmax, [axis](const Tensor& input) {
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
    }), params);
}

// Activation(name): "softmax" is the softmax layer over the last axis.
CompiledLayer compile_activation(const KerasContext& c) {
    if (c.layer.attribute_string("activation", "linear") == "softmax") return compile_softmax(c);
    return activation_step(c, OutputActivation{false, resolve_activation_layer(c)});
}

CompiledLayer compile_prelu(const KerasContext& c) {
    Tensor alpha = find_weight(c, "alpha", 0)->to_float32();
    Shape with_batch = alpha.shape();
    with_batch.insert(with_batch.begin(), 1);
    alpha = alpha.reshaped(with_batch);
    return single(c, OpKind::prelu, [alpha](const Tensor& input) {
        Tensor x = input.to_float32();
        Tensor zero = Tensor::from_floats({}, {0.0f});
        return binary_op(BinaryKind::add, binary_op(BinaryKind::maximum, x, zero),
                         binary_op(BinaryKind::multiply, alpha, binary_op(BinaryKind::minimum, x, zero)));
    });
}

// Dropout, noise and regularisation layers: identity at inference.
CompiledLayer compile_identity(const KerasContext& c) {
    return single(c, OpKind::identity, [](const Tensor& x) { return x; });
}

// [SECTION] merges, reshaping, padding and cropping, resizing, rescaling ------------

const std::unordered_map<std::string, KerasMergeParams>& merge_classes() {
    static const std::unordered_map<std::string, KerasMergeParams> classes = {
        {"Add", {BinaryKind::add, false}},           {"Subtract", {BinaryKind::subtract, false}},
        {"Multiply", {BinaryKind::multiply, false}}, {"Average", {BinaryKind::add, true}},
        {"Maximum", {BinaryKind::maximum, false}},   {"Minimum", {BinaryKind::minimum, false}},
    };
    return classes;
}

CompiledLayer compile_merge(const KerasContext& c) {
    const KerasMergeParams p = keras_merge_params(c.layer);
    CompiledLayer compiled;
    compiled.op = OpKind::variadic;
    compiled.inputs = c.layer.inputs;
    if (c.layer.inputs.size() < 1) throw UnsupportedError("merge layer without inputs");
    if (p.kind == BinaryKind::subtract && c.layer.inputs.size() != 2) throw UnsupportedError("Subtract needs exactly 2 inputs");
    compiled.run = [p](const StepInputs& inputs) {
        Tensor result = require_input(inputs, 0, "merge").to_float32();
        for (size_t i = 1; i < inputs.size(); ++i) result = binary_op(p.kind, result, require_input(inputs, i, "merge").to_float32());
        if (p.average) result = binary_op(BinaryKind::multiply, result, Tensor::from_floats({}, {1.0f / inputs.size()}));
        else if (inputs.size() == 1) result = Tensor(result);
        return std::vector<Tensor>{result};
    };
    return compiled;
}

CompiledLayer compile_concatenate(const KerasContext& c) {
    int64_t axis = c.layer.attribute_int("axis", -1);
    CompiledLayer compiled;
    compiled.op = OpKind::concat;
    compiled.inputs = c.layer.inputs;
    compiled.run = [axis](const StepInputs& inputs) {
        std::vector<Tensor> floats;
        for (size_t i = 0; i < inputs.size(); ++i) floats.push_back(require_input(inputs, i, "concatenate").to_float32());
        std::vector<const Tensor*> pointers;
        for (const Tensor& t : floats) pointers.push_back(&t);
        return std::vector<Tensor>{concat(pointers, axis)};
    };
    compiled.params = AxisParams{{axis}, true};
    return compiled;
}

CompiledLayer compile_flatten(const KerasContext& c) {
    require_channels_last(c.layer);
    return single(c, OpKind::flatten, [](const Tensor& x) {
        int64_t n = x.rank() ? x.shape()[0] : 1;
        return x.reshaped({n, static_cast<int64_t>(x.element_count()) / std::max<int64_t>(n, 1)});
    });
}

CompiledLayer compile_reshape(const KerasContext& c) {
    std::vector<int64_t> target = c.layer.attribute_ints("target_shape", {});
    return single(c, OpKind::reshape, [target](const Tensor& x) {
        Shape shape{x.rank() ? x.shape()[0] : 1};
        int64_t known = shape[0], unknown_at = -1;
        for (int64_t d : target) {
            if (d < 0) unknown_at = static_cast<int64_t>(shape.size());
            else known *= d;
            shape.push_back(d);
        }
        if (unknown_at >= 0 && known > 0) shape[unknown_at] = static_cast<int64_t>(x.element_count()) / known;
        return x.reshaped(shape);
    });
}

CompiledLayer compile_permute(const KerasContext& c) {
    std::vector<int64_t> dims = c.layer.attribute_ints("dims", {});
    std::vector<int64_t> perm{0};
    perm.insert(perm.end(), dims.begin(), dims.end());
    return single(c, OpKind::transpose, [perm](const Tensor& x) { return transpose(x, perm); });
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

CompiledLayer compile_zero_padding(const KerasContext& c, bool one_d) {
    require_channels_last(c.layer);
    std::vector<int64_t> sides = one_d ? two_sides(c.layer, "padding", 1) : four_sides(c.layer, "padding", 1);
    std::vector<int64_t> pads = one_d ? std::vector<int64_t>{0, sides[0], 0, 0, sides[1], 0}
                                      : std::vector<int64_t>{0, sides[0], sides[2], 0, 0, sides[1], sides[3], 0};
    PadParams params;
    params.pads = pads;
    return with_params(single(c, OpKind::pad, [pads](const Tensor& x) { return pad(x, pads, PadMode::constant, 0.0f); }), params);
}

CompiledLayer compile_cropping(const KerasContext& c, bool one_d) {
    require_channels_last(c.layer);
    std::vector<int64_t> sides = one_d ? two_sides(c.layer, "cropping", 1) : four_sides(c.layer, "cropping", 0);
    // Cropping is padding by negative amounts (ONNX Pad's convention), in
    // PadParams' order: begin values for every axis, then end values.
    PadParams params;
    params.pads = one_d ? std::vector<int64_t>{0, -sides[0], 0, 0, -sides[1], 0}
                        : std::vector<int64_t>{0, -sides[0], -sides[2], 0, 0, -sides[1], -sides[3], 0};
    return with_params(single(c, OpKind::crop, [sides, one_d](const Tensor& x) {
        std::vector<int64_t> starts(x.rank(), 0), ends = x.shape(), steps(x.rank(), 1);
        int spatial_axes = one_d ? 1 : 2;
        if (x.rank() != spatial_axes + 2) throw UnsupportedError(concat("cropping expects rank ", spatial_axes + 2));
        for (int a = 0; a < spatial_axes; ++a) {
            starts[1 + a] = sides[2 * a];
            ends[1 + a] = x.shape()[1 + a] - sides[2 * a + 1];
            if (ends[1 + a] < starts[1 + a]) throw UnsupportedError("cropping removes more than the input has");
        }
        return slice(x, starts, ends, steps);
    }), params);
}

CompiledLayer compile_upsampling2d(const KerasContext& c) {
    require_channels_last(c.layer);
    std::vector<int64_t> size = spatial(c.layer, "size", 2, {2});
    std::string interpolation = c.layer.attribute_string("interpolation", "nearest");
    ResizeOptions options;
    if (interpolation == "bilinear") {
        options.mode = ResizeMode::bilinear;
        options.coordinates = CoordinateMode::half_pixel;
    } else if (interpolation != "nearest") {
        throw UnsupportedError(concat("interpolation '", interpolation, "' is not supported"));
    }
    ResizeParams params;
    params.options = options;
    params.scale_h = static_cast<double>(size[0]);
    params.scale_w = static_cast<double>(size[1]);
    return with_params(single(c, OpKind::resize, [size, options](const Tensor& x) {
        if (x.rank() != 4) throw UnsupportedError("UpSampling2D expects a rank-4 input");
        return resize2d(x.to_float32(), true, x.shape()[1] * size[0], x.shape()[2] * size[1], options);
    }), params);
}

CompiledLayer compile_upsampling1d(const KerasContext& c) {
    int64_t size = c.layer.attribute_int("size", 2);
    ResizeParams params;
    params.scale_w = static_cast<double>(size);  // the length axis, as a 1-D layer's width
    return with_params(single(c, OpKind::resize, [size](const Tensor& x) {
        if (x.rank() != 3) throw UnsupportedError("UpSampling1D expects a rank-3 input");
        Tensor image = x.to_float32().reshaped({x.shape()[0], x.shape()[1], 1, x.shape()[2]});
        Tensor out = resize2d(image, true, x.shape()[1] * size, 1, ResizeOptions{});
        return out.reshaped({x.shape()[0], x.shape()[1] * size, x.shape()[2]});
    }), params);
}

CompiledLayer compile_rescaling(const KerasContext& c) {
    float scale = static_cast<float>(c.layer.attribute_float("scale", 1.0));
    float offset = static_cast<float>(c.layer.attribute_float("offset", 0.0));
    return single(c, OpKind::normalization, [scale, offset](const Tensor& x) {
        return binary_op(BinaryKind::add, binary_op(BinaryKind::multiply, x.to_float32(), Tensor::from_floats({}, {scale})),
                         Tensor::from_floats({}, {offset}));
    });
}

CompiledLayer compile_normalization(const KerasContext& c) {
    if (c.layer.attribute_int("invert", 0)) throw UnsupportedError("inverted Normalization is not supported");
    Tensor mean = find_weight(c, "mean", 0)->to_float32();
    Tensor variance = find_weight(c, "variance", 1)->to_float32();
    std::vector<float> deviation = variance.to_float_vector();
    for (float& v : deviation) v = std::max(std::sqrt(v), 1e-7f);
    Tensor divisor = Tensor::from_floats(variance.shape(), deviation);
    return single(c, OpKind::normalization, [mean, divisor](const Tensor& x) {
        return binary_op(BinaryKind::divide, binary_op(BinaryKind::subtract, x.to_float32(), mean), divisor);
    });
}

// [SECTION] the class-name table -------------------------------------------------------

const std::unordered_map<std::string, KerasCompileFunction>& keras_compilers() {
    static const std::unordered_map<std::string, KerasCompileFunction> table = [] {
        std::unordered_map<std::string, KerasCompileFunction> t;
        auto add = [&t](std::initializer_list<const char*> names, KerasCompileFunction function) {
            for (const char* name : names) t.emplace(name, function);
        };
        // Keras 1 spellings (Convolution2D, Deconvolution2D) and Keras 2/3 aliases (MaxPool2D) share entries.
        add({"Conv2D", "Convolution2D", "Conv1D", "Convolution1D", "DepthwiseConv2D", "DepthwiseConv1D", "SeparableConv2D",
             "SeparableConvolution2D", "SeparableConv1D", "SeparableConvolution1D"}, compile_conv);
        add({"Conv2DTranspose", "Convolution2DTranspose", "Deconvolution2D"}, [](const KerasContext& c) { return compile_conv_transpose(c, false); });
        add({"Conv1DTranspose", "Convolution1DTranspose"}, [](const KerasContext& c) { return compile_conv_transpose(c, true); });
        add({"Dense"}, compile_dense);
        add({"MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D", "MaxPooling1D", "MaxPool1D", "AveragePooling1D",
             "AvgPool1D"}, compile_pool);
        add({"GlobalAveragePooling2D", "GlobalAveragePooling1D", "GlobalAvgPool2D", "GlobalAvgPool1D"},
            [](const KerasContext& c) { return compile_global_pool(c, PoolKind::average); });
        add({"GlobalMaxPooling2D", "GlobalMaxPooling1D", "GlobalMaxPool2D", "GlobalMaxPool1D"},
            [](const KerasContext& c) { return compile_global_pool(c, PoolKind::max); });
        add({"BatchNormalization"}, compile_batch_norm);
        add({"LayerNormalization"}, compile_layer_norm);
        add({"Activation"}, compile_activation);
        add({"ReLU", "LeakyReLU", "ELU"}, [](const KerasContext& c) { return activation_step(c, OutputActivation{false, resolve_activation_layer(c)}); });
        add({"Softmax"}, compile_softmax);
        add({"PReLU"}, compile_prelu);
        add({"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
             "AlphaDropout", "ActivityRegularization", "Identity", "Masking"}, compile_identity);
        add({"Flatten"}, compile_flatten);
        add({"Reshape"}, compile_reshape);
        add({"Permute"}, compile_permute);
        add({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}, compile_merge);
        add({"Concatenate"}, compile_concatenate);
        add({"ZeroPadding2D"}, [](const KerasContext& c) { return compile_zero_padding(c, false); });
        add({"ZeroPadding1D"}, [](const KerasContext& c) { return compile_zero_padding(c, true); });
        add({"Cropping2D"}, [](const KerasContext& c) { return compile_cropping(c, false); });
        add({"Cropping1D"}, [](const KerasContext& c) { return compile_cropping(c, true); });
        add({"UpSampling2D"}, compile_upsampling2d);
        add({"UpSampling1D"}, compile_upsampling1d);
        add({"Rescaling"}, compile_rescaling);
        add({"Normalization"}, compile_normalization);
        return t;
    }();
    return table;
}

}  // namespace
}  // namespace keras_compile

bool keras_activation_from_name(const std::string& name, bool keras3, Activation& out) {
    out = Activation{};
    if (name == "linear" || name.empty()) out.kind = ActivationKind::linear;
    else if (name == "relu") { out.kind = ActivationKind::relu; out.alpha = std::numeric_limits<float>::infinity(); }
    else if (name == "relu6") { out.kind = ActivationKind::clip; out.alpha = 0.0f; out.beta = 6.0f; }
    else if (name == "leaky_relu") { out.kind = ActivationKind::leaky_relu; out.alpha = 0.2f; }
    else if (name == "elu") { out.kind = ActivationKind::elu; out.alpha = 1.0f; }
    else if (name == "selu") out.kind = ActivationKind::selu;
    else if (name == "sigmoid") out.kind = ActivationKind::sigmoid;
    else if (name == "hard_sigmoid") {
        out.kind = ActivationKind::hard_sigmoid;
        out.alpha = keras3 ? 1.0f / 6.0f : 0.2f;
        out.beta = 0.5f;
    }
    else if (name == "hard_silu" || name == "hard_swish") out.kind = ActivationKind::hard_swish;
    else if (name == "tanh") out.kind = ActivationKind::tanh;
    else if (name == "softplus") out.kind = ActivationKind::softplus;
    else if (name == "softsign") out.kind = ActivationKind::softsign;
    else if (name == "swish" || name == "silu") out.kind = ActivationKind::swish;
    else if (name == "gelu") out.kind = ActivationKind::gelu;
    else if (name == "exponential") out.kind = ActivationKind::exponential;
    else return false;
    return true;
}

CompiledLayer compile_keras_layer(const Model& model, const Layer& layer) {
    using namespace keras_compile;
    const KerasContext c = make_context(model, layer);
    const auto& table = keras_compilers();
    auto found = table.find(layer.type);
    if (found == table.end()) throw UnsupportedError(concat("Keras layer class '", layer.type, "' is not supported"));
    return found->second(c);
}

KerasDenseParams keras_dense_params(const Model& model, const Layer& layer) {
    if (layer.type != "Dense") throw UnsupportedError(concat("'", layer.type, "' is not a Dense layer"));
    return keras_compile::resolve_dense_params(keras_compile::make_context(model, layer));
}

KerasMergeParams keras_merge_params(const Layer& layer) {
    auto found = keras_compile::merge_classes().find(layer.type);
    if (found == keras_compile::merge_classes().end()) throw UnsupportedError(concat("'", layer.type, "' is not a Keras merge layer"));
    return found->second;
}

}  // namespace convscope
