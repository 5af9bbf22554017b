// ONNX compile functions: activations, Clip, PRelu, Softmax/LogSoftmax/
// Hardmax, element-wise binary and variadic ops, Identity, Cast. One small
// function per op; versioned semantics are separate rows of the table
// (Softmax before/from opset 13, Clip attributes/inputs).
#include <cmath>
#include <limits>

#include "core/base/error.h"
#include "core/engine/compile_onnx_internal.h"
#include "core/ops/elementwise.h"
#include "core/ops/tensor_ops.h"

namespace convscope::onnx_compile {

namespace {

// Integer inputs give an integer result (shape arithmetic), else float.
Tensor binary_any(BinaryKind kind, const Tensor& a, const Tensor& b) {
    if (is_integer(a.dtype()) && is_integer(b.dtype())) {
        return to_int64(binary_op(kind, a.to_float32(), b.to_float32()));
    }
    return binary_op(kind, a.to_float32(), b.to_float32());
}

// [activations] one row each; the attribute defaults are ONNX's.
OnnxStep activation_step(const Activation& a) {
    OnnxStep s;
    s.op = OpKind::activation;
    s.function = unary(a);
    s.consuming = unary_consuming(a);
    s.params = ActivationParams{a};
    return s;
}

template <ActivationKind kind>
OnnxStep compile_plain_activation(const OnnxNode&) { return activation_step(make_activation(kind)); }

float float_attribute(const OnnxNode& n, const char* key, double fallback) {
    return static_cast<float>(n.layer.attribute_float(key, fallback));
}

OnnxStep compile_relu(const OnnxNode&) {
    return activation_step(make_activation(ActivationKind::relu, std::numeric_limits<float>::infinity()));
}
OnnxStep compile_leaky_relu(const OnnxNode& n) {
    return activation_step(make_activation(ActivationKind::leaky_relu, float_attribute(n, "alpha", 0.01)));
}
OnnxStep compile_elu(const OnnxNode& n) { return activation_step(make_activation(ActivationKind::elu, float_attribute(n, "alpha", 1.0))); }
OnnxStep compile_selu(const OnnxNode& n) {
    if (n.layer.attribute("alpha") || n.layer.attribute("gamma")) throw UnsupportedError("Selu with non-default alpha/gamma is not supported");
    return activation_step(make_activation(ActivationKind::selu));
}
OnnxStep compile_hard_sigmoid(const OnnxNode& n) {
    return activation_step(make_activation(ActivationKind::hard_sigmoid, float_attribute(n, "alpha", 0.2), float_attribute(n, "beta", 0.5)));
}
OnnxStep compile_gelu(const OnnxNode& n) {
    bool tanh = n.layer.attribute_string("approximate", "none") == "tanh";
    return activation_step(make_activation(tanh ? ActivationKind::gelu_tanh : ActivationKind::gelu));
}

// Clip: bounds as inputs 1 and 2 from opset 11, as attributes before it.
OnnxStep clip_step(std::function<Activation(const std::vector<const Tensor*>&)> bounds, const Activation& static_bounds) {
    OnnxStep s;
    s.op = OpKind::activation;
    s.function = [bounds](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{activated(bounds(in), input_at(in, 0, "Clip"))};
    };
    s.consuming = [bounds](Tensor& x, const std::vector<const Tensor*>& in) {
        return unary_consuming(bounds(in))(x, in);
    };
    s.params = ActivationParams{static_bounds};
    return s;
}

OnnxStep compile_clip_attributes(const OnnxNode& n) {
    if (n.input_listed(1) || n.input_listed(2)) {
        throw UnsupportedError(concat("Clip at opset ", n.opset, " takes min/max as attributes; bounds as inputs are an opset-11 form"));
    }
    Activation a = make_activation(ActivationKind::clip, float_attribute(n, "min", -std::numeric_limits<float>::infinity()),
                                   float_attribute(n, "max", std::numeric_limits<float>::infinity()));
    return clip_step([a](const std::vector<const Tensor*>&) { return a; }, a);
}

OnnxStep compile_clip_inputs(const OnnxNode& n) {
    if (n.layer.attribute("min") || n.layer.attribute("max")) {
        throw UnsupportedError(concat("Clip at opset ", n.opset, " takes min/max as inputs 1 and 2; attributes are an opset-6 form"));
    }
    Activation unbounded = make_activation(ActivationKind::clip, -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity());
    Activation known = unbounded;  // the bounds when both are initializers (or absent)
    if (const Tensor* low = n.constant_at(1); low && low->element_count()) known.alpha = static_cast<float>(low->value_at(0));
    if (const Tensor* high = n.constant_at(2); high && high->element_count()) known.beta = static_cast<float>(high->value_at(0));
    auto bounds = [unbounded](const std::vector<const Tensor*>& in) {
        Activation a = unbounded;
        if (has_input(in, 1) && in[1]->element_count()) a.alpha = static_cast<float>(in[1]->value_at(0));
        if (has_input(in, 2) && in[2]->element_count()) a.beta = static_cast<float>(in[2]->value_at(0));
        return a;
    };
    return clip_step(bounds, known);
}

// [softmax] Softmax, LogSoftmax and Hardmax. Before opset 13 the input is
// coerced to 2-D at `axis` (default 1) and the op runs over all the values
// after it together; from 13 it runs along one axis (default -1).
enum class SoftmaxForm { softmax, log_softmax, hardmax };

// Hardmax: 1 at the first maximum of each run of `length` values spaced `inner` apart.
void hardmax(const float* input, float* output, int64_t outer, int64_t length, int64_t inner) {
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            const int64_t base = o * length * inner + i;
            int64_t best = 0;
            for (int64_t k = 1; k < length; ++k) if (input[base + k * inner] > input[base + best * inner]) best = k;
            for (int64_t k = 0; k < length; ++k) output[base + k * inner] = k == best ? 1.0f : 0.0f;
        }
    }
}

OnnxStep softmax_step(const OnnxNode& n, SoftmaxForm form, bool flatten_to_2d) {
    OnnxStep s;
    s.op = OpKind::softmax;
    SoftmaxParams p;
    p.axis = n.layer.attribute_int("axis", flatten_to_2d ? 1 : -1);
    p.flatten_to_2d = flatten_to_2d;
    p.log = form == SoftmaxForm::log_softmax;
    p.hard = form == SoftmaxForm::hardmax;
    s.function = [p](const std::vector<const Tensor*>& in) {
        Tensor x = input_at(in, 0, "Softmax").to_float32();
        int a = normalize_axis(p.axis, x.rank(), "Softmax");
        int64_t outer = 1, length = 1, inner = 1;
        for (int i = 0; i < a; ++i) outer *= x.shape()[i];
        if (p.flatten_to_2d) {
            for (int i = a; i < x.rank(); ++i) length *= x.shape()[i];
        } else {
            length = x.shape()[a];
            for (int i = a + 1; i < x.rank(); ++i) inner *= x.shape()[i];
        }
        Tensor out = Tensor::uninitialized(DType::f32, x.shape());
        if (!out.element_count()) return std::vector<Tensor>{out};
        if (p.hard) hardmax(x.f32(), out.mutable_f32(), outer, length, inner);
        else softmax(x.f32(), out.mutable_f32(), outer, length, inner, p.log);
        return std::vector<Tensor>{out};
    };
    s.params = p;
    return s;
}

OnnxStep compile_softmax_2d(const OnnxNode& n) { return softmax_step(n, SoftmaxForm::softmax, true); }
OnnxStep compile_softmax(const OnnxNode& n) { return softmax_step(n, SoftmaxForm::softmax, false); }
OnnxStep compile_log_softmax_2d(const OnnxNode& n) { return softmax_step(n, SoftmaxForm::log_softmax, true); }
OnnxStep compile_log_softmax(const OnnxNode& n) { return softmax_step(n, SoftmaxForm::log_softmax, false); }
OnnxStep compile_hardmax_2d(const OnnxNode& n) { return softmax_step(n, SoftmaxForm::hardmax, true); }
OnnxStep compile_hardmax(const OnnxNode& n) { return softmax_step(n, SoftmaxForm::hardmax, false); }

OnnxStep compile_prelu(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::prelu;
    s.function = [](const std::vector<const Tensor*>& in) {
        Tensor x = input_at(in, 0, "PRelu").to_float32(), slope = input_at(in, 1, "PRelu").to_float32();
        Tensor zero = Tensor::from_floats({}, {0.0f});
        return std::vector<Tensor>{binary_op(BinaryKind::add, binary_op(BinaryKind::maximum, x, zero),
                                             binary_op(BinaryKind::multiply, slope, binary_op(BinaryKind::minimum, x, zero)))};
    };
    return s;
}

OnnxStep compile_identity(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::identity;
    s.function = [](const std::vector<const Tensor*>& in) { return std::vector<Tensor>{input_at(in, 0, "Identity")}; };
    return s;
}

OnnxStep compile_binary(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::binary;
    BinaryKind kind = n.layer.type == "Add" ? BinaryKind::add : n.layer.type == "Sub" ? BinaryKind::subtract : n.layer.type == "Mul" ? BinaryKind::multiply
                    : n.layer.type == "Div" ? BinaryKind::divide : BinaryKind::power;
    s.function = [kind](const std::vector<const Tensor*>& in) {
        return std::vector<Tensor>{binary_any(kind, input_at(in, 0, "binary"), input_at(in, 1, "binary"))};
    };
    s.consuming = [kind, function = s.function](Tensor& a, const std::vector<const Tensor*>& in) {
        const Tensor& b = input_at(in, 1, "binary");
        // In place only when a float a already has the result's shape.
        if (kind == BinaryKind::power || b.dtype() != DType::f32 ||
            broadcast_shapes(a.shape(), b.shape(), binary_kind_name(kind)) != a.shape()) {
            return function(in)[0];
        }
        binary_op_into(kind, a, b, a);
        return std::move(a);
    };
    return s;
}

OnnxStep compile_variadic(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::variadic;
    BinaryKind kind = n.layer.type == "Max" ? BinaryKind::maximum : n.layer.type == "Min" ? BinaryKind::minimum : BinaryKind::add;
    bool mean = n.layer.type == "Mean";
    s.function = [kind, mean](const std::vector<const Tensor*>& in) {
        Tensor result = input_at(in, 0, "variadic");
        for (size_t i = 1; i < in.size(); ++i) result = binary_any(kind, result, input_at(in, i, "variadic"));
        if (mean) result = binary_op(BinaryKind::divide, result.to_float32(), Tensor::from_floats({}, {static_cast<float>(in.size())}));
        return std::vector<Tensor>{result};
    };
    return s;
}

OnnxStep compile_cast(const OnnxNode& n) {
    OnnxStep s;
    s.op = OpKind::cast;
    int64_t to = n.layer.attribute_int("to", 1);
    bool to_float = to == 1 || to == 10 || to == 11;
    bool to_int = to == 6 || to == 7 || to == 9 || to == 2 || to == 3 || to == 4 || to == 5 || to == 12 || to == 13;
    if (!to_float && !to_int) throw UnsupportedError(concat("Cast to ONNX type ", to, " is not supported"));
    s.function = [to_float](const std::vector<const Tensor*>& in) {
        const Tensor& x = input_at(in, 0, "Cast");
        return std::vector<Tensor>{to_float ? x.to_float32() : to_int64(x)};
    };
    return s;
}

}  // namespace

std::vector<OnnxOpEntry> onnx_math_ops() {
    using K = ActivationKind;
    return {
        {"Relu", "", 1, any_opset, compile_relu},
        {"Sigmoid", "", 1, any_opset, compile_plain_activation<K::sigmoid>},
        {"Tanh", "", 1, any_opset, compile_plain_activation<K::tanh>},
        {"LeakyRelu", "", 1, any_opset, compile_leaky_relu},
        {"Elu", "", 1, any_opset, compile_elu},
        {"Selu", "", 1, any_opset, compile_selu},
        {"HardSigmoid", "", 1, any_opset, compile_hard_sigmoid},
        {"HardSwish", "", 14, any_opset, compile_plain_activation<K::hard_swish>},
        {"Softplus", "", 1, any_opset, compile_plain_activation<K::softplus>},
        {"Softsign", "", 1, any_opset, compile_plain_activation<K::softsign>},
        {"Gelu", "", 1, any_opset, compile_gelu},
        {"Exp", "", 1, any_opset, compile_plain_activation<K::exponential>},
        {"Log", "", 1, any_opset, compile_plain_activation<K::log>},
        {"Sqrt", "", 1, any_opset, compile_plain_activation<K::sqrt>},
        {"Neg", "", 1, any_opset, compile_plain_activation<K::negate>},
        {"Abs", "", 1, any_opset, compile_plain_activation<K::absolute>},
        {"Reciprocal", "", 1, any_opset, compile_plain_activation<K::reciprocal>},
        {"Erf", "", 1, any_opset, compile_plain_activation<K::erf>},
        {"Floor", "", 1, any_opset, compile_plain_activation<K::floor>},
        {"Ceil", "", 1, any_opset, compile_plain_activation<K::ceil>},
        {"Clip", "", 1, 10, compile_clip_attributes},
        {"Clip", "", 11, any_opset, compile_clip_inputs},
        {"PRelu", "", 1, any_opset, compile_prelu},
        {"Softmax", "", 1, 12, compile_softmax_2d},
        {"Softmax", "", 13, any_opset, compile_softmax},
        {"LogSoftmax", "", 1, 12, compile_log_softmax_2d},
        {"LogSoftmax", "", 13, any_opset, compile_log_softmax},
        {"Hardmax", "", 1, 12, compile_hardmax_2d},
        {"Hardmax", "", 13, any_opset, compile_hardmax},
        {"Identity", "", 1, any_opset, compile_identity},
        {"Dropout", "", 1, any_opset, compile_identity},
        {"Add", "", 1, any_opset, compile_binary},
        {"Sub", "", 1, any_opset, compile_binary},
        {"Mul", "", 1, any_opset, compile_binary},
        {"Div", "", 1, any_opset, compile_binary},
        {"Pow", "", 1, any_opset, compile_binary},
        {"Sum", "", 1, any_opset, compile_variadic},
        {"Mean", "", 1, any_opset, compile_variadic},
        {"Max", "", 1, any_opset, compile_variadic},
        {"Min", "", 1, any_opset, compile_variadic},
        {"Cast", "", 1, any_opset, compile_cast},
    };
}

}  // namespace convscope::onnx_compile
