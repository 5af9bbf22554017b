// TensorFlow Lite operators -> plan steps, float32 only. Tensors are NHWC;
// the reader (core/formats/tflite.h) gives each layer its builtin options by
// schema field name and its constant inputs as weights in the stored layout
// (CONV_2D OHWI, DEPTHWISE_CONV_2D 1HWC, FULLY_CONNECTED units x inputs).
// Constant inputs are baked into the step; only runtime tensors are step
// inputs. Quantized (int8/uint8) tensors are refused with a reason.
//
// [SECTION] operands and attributes
// [SECTION] convolution, pooling, dense
// [SECTION] element-wise and shape ops
// [SECTION] dispatch
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "core/base/error.h"
#include "core/engine/builders.h"
#include "core/engine/plan.h"
#include "core/ops/elementwise.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

namespace {

// [SECTION] operands and attributes

constexpr const char* int8_not_implemented = "int8 execution is not implemented yet";

// One input of the operator: a baked constant or a runtime value (its
// position among the step's inputs). The constant is held by value (a
// Tensor copy shares its storage): steps outlive the Layer they came from.
struct Operand {
    std::optional<Tensor> constant;
    int runtime_index = -1;
    bool absent = false;
};

struct TfliteContext {
    const Layer& layer;
    std::vector<Operand> operands;
    std::vector<std::string> runtime_inputs;
};

const Weight* weight_named(const Layer& layer, const std::string& name) {
    for (const Weight& w : layer.weights) if (w.name == name) return &w;
    return nullptr;
}

bool is_float_dtype(DType dtype) { return dtype == DType::f16 || dtype == DType::f32 || dtype == DType::f64; }

TfliteContext make_context(const Layer& layer) {
    TfliteContext c{layer, {}, {}};
    for (const std::string& name : layer.inputs) {
        Operand operand;
        if (name.empty()) {
            operand.absent = true;
        } else if (const Weight* w = weight_named(layer, name)) {
            operand.constant = w->tensor;
        } else {
            operand.runtime_index = static_cast<int>(c.runtime_inputs.size());
            c.runtime_inputs.push_back(name);
        }
        c.operands.push_back(operand);
    }
    return c;
}

// Quantized tensors: integer weights with a scale, or a quantized output.
void refuse_quantized(const TfliteContext& c) {
    if (c.layer.attributes.count("output_scale")) {
        throw UnsupportedError(concat("the output tensor is quantized; ", int8_not_implemented));
    }
    for (const auto& [name, quantization] : c.layer.weight_quantization) {
        (void)quantization;
        throw UnsupportedError(concat("constant '", name, "' is quantized; ", int8_not_implemented));
    }
}

const Operand& operand(const TfliteContext& c, size_t index) {
    if (index >= c.operands.size() || c.operands[index].absent) {
        throw UnsupportedError(concat(c.layer.type, " has no input ", index));
    }
    return c.operands[index];
}

// A float constant input (filter, bias) as float32.
Tensor float_constant(const TfliteContext& c, size_t index, const char* what) {
    const Operand& o = operand(c, index);
    if (!o.constant) throw UnsupportedError(concat(what, " (input ", index, ") is not a constant; only constant ", what, "s are supported"));
    if (!is_float_dtype(o.constant->dtype())) {
        throw UnsupportedError(concat(what, " has type ", dtype_name(o.constant->dtype()), "; ", int8_not_implemented));
    }
    return o.constant->to_float32();
}

// An integer constant input (shape, axes, paddings) as int64 values.
std::vector<int64_t> integer_constant(const TfliteContext& c, size_t index, const char* what) {
    const Operand& o = operand(c, index);
    if (!o.constant) throw UnsupportedError(concat(what, " (input ", index, ") is computed at run time; only a constant ", what, " is supported"));
    std::vector<int64_t> values;
    for (uint64_t i = 0; i < o.constant->element_count(); ++i) values.push_back(static_cast<int64_t>(o.constant->value_at(i)));
    return values;
}

// The step's runtime inputs and baked constants, in the operator's input order.
std::vector<Tensor> gather_operands(const std::vector<Operand>& operands, const StepInputs& inputs, const char* op) {
    std::vector<Tensor> all;
    for (const Operand& o : operands) {
        if (o.absent) continue;
        all.push_back(o.constant ? o.constant->to_float32()
                                 : require_input(inputs, static_cast<size_t>(o.runtime_index), op).to_float32());
    }
    return all;
}

// fused_activation_function -> a post-op. SIGN_BIT and unknown names refuse.
OutputActivation fused_activation(const Layer& layer) {
    std::string name = layer.attribute_string("fused_activation_function", "NONE");
    OutputActivation out;
    Activation& a = out.activation;
    if (name == "NONE") return out;
    if (name == "RELU") {
        a.kind = ActivationKind::clip;
        a.alpha = 0.0f;
        a.beta = std::numeric_limits<float>::infinity();
    } else if (name == "RELU6") {
        a.kind = ActivationKind::clip;
        a.alpha = 0.0f;
        a.beta = 6.0f;
    } else if (name == "RELU_N1_TO_1") {
        a.kind = ActivationKind::clip;
        a.alpha = -1.0f;
        a.beta = 1.0f;
    } else if (name == "TANH") {
        a.kind = ActivationKind::tanh;
    } else {
        throw UnsupportedError(concat("fused activation '", name, "' is not supported"));
    }
    return out;
}

PaddingRule tflite_padding(const Layer& layer) {
    std::string padding = layer.attribute_string("padding", "VALID");
    PaddingRule rule;
    // TFLite's SAME is TensorFlow's: the odd extra pad at the bottom/right.
    if (padding == "SAME") rule.kind = PaddingRule::Kind::same_upper;
    else if (padding != "VALID") throw UnsupportedError(concat("padding '", padding, "' is not supported"));
    return rule;
}

CompiledLayer unary_step(const TfliteContext& c, OpKind op, std::function<Tensor(const Tensor&)> function,
                         std::string algorithm = "") {
    if (c.operands.empty() || c.operands[0].runtime_index != 0) {
        throw UnsupportedError(concat(c.layer.type, " of a constant (or of no input) is not supported"));
    }
    CompiledLayer compiled;
    compiled.op = op;
    compiled.algorithm = std::move(algorithm);
    compiled.inputs = {c.runtime_inputs[0]};
    compiled.run = [function](const StepInputs& inputs) {
        return std::vector<Tensor>{function(require_input(inputs, 0, "layer").to_float32())};
    };
    return compiled;
}

// [SECTION] convolution, pooling, dense

Conv2DGeometry conv_geometry(const Layer& layer, int64_t kernel_h, int64_t kernel_w) {
    Conv2DGeometry g;
    g.kernel_h = kernel_h;
    g.kernel_w = kernel_w;
    g.stride_h = layer.attribute_int("stride_h", 1);
    g.stride_w = layer.attribute_int("stride_w", 1);
    g.dilation_h = layer.attribute_int("dilation_h_factor", 1);
    g.dilation_w = layer.attribute_int("dilation_w_factor", 1);
    return g;
}

std::vector<float> bias_of(const TfliteContext& c, size_t index, int64_t channels) {
    if (index >= c.operands.size() || c.operands[index].absent) return {};
    std::vector<float> bias = float_constant(c, index, "bias").to_float_vector();
    if (static_cast<int64_t>(bias.size()) != channels) {
        throw UnsupportedError(concat("bias has ", bias.size(), " values for ", channels, " output channels"));
    }
    return bias;
}

CompiledLayer conv_step(const TfliteContext& c, ConvStep step) {
    return unary_step(c, OpKind::conv2d, [step](const Tensor& x) { return step.run(x); }, step.kernel->algorithm());
}

CompiledLayer compile_conv(const TfliteContext& c) {
    Tensor filter = float_constant(c, 1, "filter");  // OHWI
    if (filter.rank() != 4) throw UnsupportedError(concat("filter has shape ", shape_to_string(filter.shape()), ", expected OHWI"));
    const int64_t out = filter.shape()[0], kh = filter.shape()[1], kw = filter.shape()[2], in = filter.shape()[3];
    Conv2DGeometry g = conv_geometry(c.layer, kh, kw);
    g.in_channels = in;
    g.out_channels = out;
    // OHWI -> HWIO, the layout Conv2DKernel takes (Keras's).
    const float* source = filter.f32();
    const int64_t taps = kh * kw;
    std::vector<float> hwio(static_cast<size_t>(filter.element_count()));
    for (int64_t o = 0; o < out; ++o)
        for (int64_t t = 0; t < taps; ++t)
            for (int64_t i = 0; i < in; ++i) hwio[(t * in + i) * out + o] = source[(o * taps + t) * in + i];
    std::vector<float> bias = bias_of(c, 2, out);
    ConvStep step;
    step.padding = tflite_padding(c.layer);
    step.activation = fused_activation(c.layer);
    step.kernel = std::make_shared<Conv2DKernel>(g, hwio.data(), bias.empty() ? nullptr : bias.data());
    return conv_step(c, step);
}

CompiledLayer compile_depthwise(const TfliteContext& c) {
    Tensor filter = float_constant(c, 1, "filter");  // 1HWC, C = input channels x depth_multiplier
    if (filter.rank() != 4 || filter.shape()[0] != 1) {
        throw UnsupportedError(concat("depthwise filter has shape ", shape_to_string(filter.shape()), ", expected 1HWC"));
    }
    const int64_t kh = filter.shape()[1], kw = filter.shape()[2], out = filter.shape()[3];
    const int64_t multiplier = std::max<int64_t>(c.layer.attribute_int("depth_multiplier", 1), 1);
    if (out % multiplier != 0) throw UnsupportedError(concat(out, " filter channels are not a multiple of depth_multiplier ", multiplier));
    Conv2DGeometry g = conv_geometry(c.layer, kh, kw);
    g.in_channels = out / multiplier;
    g.out_channels = out;
    g.groups = g.in_channels;
    std::vector<float> bias = bias_of(c, 2, out);
    ConvStep step;
    step.padding = tflite_padding(c.layer);
    step.activation = fused_activation(c.layer);
    // Output channel c * multiplier + m at each tap: 1HWC is already the
    // H x W x C x multiplier layout Conv2DKernel takes for depthwise.
    step.kernel = std::make_shared<Conv2DKernel>(g, filter.f32(), bias.empty() ? nullptr : bias.data());
    return conv_step(c, step);
}

CompiledLayer compile_pool(const TfliteContext& c, PoolKind kind) {
    PoolStep step;
    step.kind = kind;
    step.geometry.kernel_h = c.layer.attribute_int("filter_height", 1);
    step.geometry.kernel_w = c.layer.attribute_int("filter_width", 1);
    step.geometry.stride_h = c.layer.attribute_int("stride_h", 1);
    step.geometry.stride_w = c.layer.attribute_int("stride_w", 1);
    step.geometry.count_include_pad = false;  // TFLite averages over the window's valid pixels
    step.geometry.validate(c.layer.type);
    step.padding = tflite_padding(c.layer);
    OutputActivation activation = fused_activation(c.layer);
    return unary_step(c, kind == PoolKind::max ? OpKind::max_pool2d : OpKind::avg_pool2d, [step, activation](const Tensor& x) {
        Tensor y = step.run(x);
        apply_output_activation(activation, y);
        return y;
    });
}

CompiledLayer compile_fully_connected(const TfliteContext& c) {
    if (c.layer.attribute_int("keep_num_dims", 0) != 0) throw UnsupportedError("keep_num_dims true is not supported");
    std::string format = c.layer.attribute_string("weights_format", "DEFAULT");
    if (format != "DEFAULT") throw UnsupportedError(concat("weights_format ", format, " is not supported"));
    const Operand& weights = operand(c, 1);
    if (!weights.constant) throw UnsupportedError("weights computed at run time are not supported");
    if (!is_float_dtype(weights.constant->dtype())) {
        throw UnsupportedError(concat("weights have type ", dtype_name(weights.constant->dtype()), "; ", int8_not_implemented));
    }
    if (weights.constant->rank() != 2) throw UnsupportedError(concat("weights have shape ", shape_to_string(weights.constant->shape())));
    // units x inputs: the transposed (n x k) form of a dense matrix.
    DenseStep step = make_dense_step(*weights.constant, true);
    step.bias = bias_of(c, 2, weights.constant->shape()[0]);
    step.activation = fused_activation(c.layer);
    const int64_t k = step.input_size();
    return unary_step(c, OpKind::dense, [step, k](const Tensor& x) {
        if (k <= 0 || x.element_count() % static_cast<uint64_t>(k) != 0) {
            throw UnsupportedError(concat("input of shape ", shape_to_string(x.shape()), " does not split into rows of ", k));
        }
        // keep_num_dims false: every leading dimension folds into the batch.
        return step.run(x.reshaped({static_cast<int64_t>(x.element_count()) / k, k}));
    }, step.runs_in_place() ? "gemv-in-place" : "packed-gemm");
}

// [SECTION] element-wise and shape ops

CompiledLayer compile_binary(const TfliteContext& c, BinaryKind kind) {
    if (c.operands.size() != 2) throw UnsupportedError(concat(c.layer.type, " needs 2 inputs, has ", c.operands.size()));
    OutputActivation activation = fused_activation(c.layer);
    CompiledLayer compiled;
    compiled.op = OpKind::binary;
    compiled.inputs = c.runtime_inputs;
    std::vector<Operand> operands = c.operands;
    compiled.run = [operands, kind, activation](const StepInputs& inputs) {
        std::vector<Tensor> values = gather_operands(operands, inputs, "binary");
        Tensor y = binary_op(kind, values.at(0), values.at(1));
        apply_output_activation(activation, y);
        return std::vector<Tensor>{y};
    };
    return compiled;
}

CompiledLayer compile_concatenation(const TfliteContext& c) {
    const int64_t axis = c.layer.attribute_int("axis", 0);
    OutputActivation activation = fused_activation(c.layer);
    CompiledLayer compiled;
    compiled.op = OpKind::concat;
    compiled.inputs = c.runtime_inputs;
    std::vector<Operand> operands = c.operands;
    compiled.run = [operands, axis, activation](const StepInputs& inputs) {
        std::vector<Tensor> values = gather_operands(operands, inputs, "concatenation");
        std::vector<const Tensor*> pointers;
        for (const Tensor& t : values) pointers.push_back(&t);
        Tensor y = concat(pointers, axis);
        apply_output_activation(activation, y);
        return std::vector<Tensor>{y};
    };
    return compiled;
}

// The target shape: the shape input when it is a constant 1-D tensor, else
// new_shape. One -1 takes the remaining size.
CompiledLayer compile_reshape(const TfliteContext& c) {
    std::vector<int64_t> target;
    if (c.operands.size() >= 2 && !c.operands[1].absent) target = integer_constant(c, 1, "shape");
    else target = c.layer.attribute_ints("new_shape", {});
    return unary_step(c, OpKind::reshape, [target](const Tensor& x) {
        Shape shape = target;
        int64_t known = 1, unknown_at = -1;
        for (size_t d = 0; d < shape.size(); ++d) {
            if (shape[d] == -1 && unknown_at < 0) unknown_at = static_cast<int64_t>(d);
            else if (shape[d] < 0 || shape[d] > static_cast<int64_t>(x.element_count())) {
                throw UnsupportedError(concat("cannot reshape ", shape_to_string(x.shape()), " to ", shape_to_string(target)));
            } else {
                known *= std::max<int64_t>(shape[d], 1);  // a 0 dimension is caught by the element count below
            }
        }
        if (unknown_at >= 0) {
            if (known <= 0 || x.element_count() % static_cast<uint64_t>(known) != 0) {
                throw UnsupportedError(concat("cannot reshape ", shape_to_string(x.shape()), " to ", shape_to_string(target)));
            }
            shape[unknown_at] = static_cast<int64_t>(x.element_count()) / known;
        }
        if (shape_element_count(shape) != x.element_count()) {
            throw UnsupportedError(concat("cannot reshape ", shape_to_string(x.shape()), " to ", shape_to_string(target)));
        }
        return x.reshaped(shape);
    });
}

CompiledLayer compile_softmax(const TfliteContext& c) {
    const float beta = static_cast<float>(c.layer.attribute_float("beta", 1.0));
    return unary_step(c, OpKind::softmax, [beta](const Tensor& input) {
        Tensor x = beta == 1.0f ? input : binary_op(BinaryKind::multiply, input, Tensor::from_floats({}, {beta}));
        if (x.rank() < 1) throw UnsupportedError("softmax of a scalar");
        const int64_t length = x.shape().back();
        Tensor out = Tensor::zeros(DType::f32, x.shape());
        if (out.element_count() && length > 0) {
            softmax(x.f32(), out.mutable_f32(), static_cast<int64_t>(x.element_count()) / length, length, 1);
        }
        return out;
    });
}

CompiledLayer compile_activation(const TfliteContext& c, Activation activation) {
    return unary_step(c, OpKind::activation, [activation](const Tensor& x) {
        Tensor out = Tensor::zeros(DType::f32, x.shape());
        if (out.element_count()) apply_activation(activation, x.f32(), out.mutable_f32(), static_cast<int64_t>(x.element_count()));
        return out;
    });
}

Activation clip(float low, float high) {
    Activation a;
    a.kind = ActivationKind::clip;
    a.alpha = low;
    a.beta = high;
    return a;
}

CompiledLayer compile_mean(const TfliteContext& c) {
    std::vector<int64_t> axes = integer_constant(c, 1, "axes");
    const bool keep_dims = c.layer.attribute_int("keep_dims", 0) != 0;
    return unary_step(c, OpKind::reduce, [axes, keep_dims](const Tensor& x) {
        return reduce(x, axes, ReduceKind::mean, keep_dims);
    });
}

// paddings: a constant [rank, 2] of (before, after) per axis.
CompiledLayer compile_pad(const TfliteContext& c) {
    std::vector<int64_t> paddings = integer_constant(c, 1, "paddings");
    if (paddings.size() % 2 != 0) throw UnsupportedError(concat("paddings has ", paddings.size(), " values"));
    const size_t rank = paddings.size() / 2;
    std::vector<int64_t> pads(paddings.size());
    for (size_t a = 0; a < rank; ++a) {
        pads[a] = paddings[2 * a];
        pads[rank + a] = paddings[2 * a + 1];
    }
    return unary_step(c, OpKind::pad, [pads, rank](const Tensor& x) {
        if (static_cast<size_t>(x.rank()) != rank) {
            throw UnsupportedError(concat("paddings are for rank ", rank, ", input has shape ", shape_to_string(x.shape())));
        }
        return pad(x, pads, PadMode::constant, 0.0f);
    });
}

// real = scale * (q - zero_point), per index of `axis` or one pair.
Tensor dequantized(const Tensor& stored, const WeightQuantization& q) {
    const Shape& shape = stored.shape();
    const bool per_axis = q.axis >= 0;
    if (per_axis && q.axis >= static_cast<int>(shape.size())) throw UnsupportedError("quantization axis is past the tensor's rank");
    const int64_t channels = per_axis ? shape[q.axis] : 1;
    if (q.scale.size() != static_cast<size_t>(channels) || q.zero_point.size() != q.scale.size()) {
        throw UnsupportedError(concat("quantization has ", q.scale.size(), " scales for ", channels, " channels"));
    }
    int64_t inner = 1;
    for (size_t d = per_axis ? q.axis + 1 : shape.size(); d < shape.size(); ++d) inner *= shape[d];
    std::vector<float> values = stored.to_float_vector();
    for (size_t i = 0; i < values.size(); ++i) {
        const size_t channel = per_axis ? (i / static_cast<size_t>(inner)) % static_cast<size_t>(channels) : 0;
        values[i] = q.scale[channel] * (values[i] - static_cast<float>(q.zero_point[channel]));
    }
    return Tensor::from_floats(shape, values);
}

// DEQUANTIZE of a constant (float16 weights, int4/int8 hybrid weights): the
// reader already hands consumers the float32 copy, so this step only
// publishes that value. Of a runtime tensor it is int8 execution.
CompiledLayer compile_dequantize(const TfliteContext& c) {
    const Operand& source = operand(c, 0);
    if (!source.constant) throw UnsupportedError(concat("dequantizing a runtime tensor: ", int8_not_implemented));
    Tensor value = source.constant->to_float32();
    auto found = c.layer.weight_quantization.find(c.layer.inputs[0]);
    if (found != c.layer.weight_quantization.end()) value = dequantized(value, found->second);
    CompiledLayer compiled;
    compiled.op = OpKind::constant;
    compiled.run = [value](const StepInputs&) { return std::vector<Tensor>{value}; };
    return compiled;
}

}  // namespace

// [SECTION] dispatch

CompiledLayer compile_tflite_operator(const Model& model, const Layer& layer) {
    (void)model;
    TfliteContext c = make_context(layer);
    const std::string& type = layer.type;
    if (type == "DEQUANTIZE") return compile_dequantize(c);
    if (type == "QUANTIZE") throw UnsupportedError(concat("quantizing float32 to an integer type: ", int8_not_implemented));
    refuse_quantized(c);
    if (type == "CONV_2D") return compile_conv(c);
    if (type == "DEPTHWISE_CONV_2D") return compile_depthwise(c);
    if (type == "FULLY_CONNECTED") return compile_fully_connected(c);
    if (type == "AVERAGE_POOL_2D") return compile_pool(c, PoolKind::average);
    if (type == "MAX_POOL_2D") return compile_pool(c, PoolKind::max);
    if (type == "ADD") return compile_binary(c, BinaryKind::add);
    if (type == "SUB") return compile_binary(c, BinaryKind::subtract);
    if (type == "MUL") return compile_binary(c, BinaryKind::multiply);
    if (type == "CONCATENATION") return compile_concatenation(c);
    if (type == "RESHAPE") return compile_reshape(c);
    if (type == "SOFTMAX") return compile_softmax(c);
    if (type == "MEAN") return compile_mean(c);
    if (type == "PAD") return compile_pad(c);
    if (type == "LOGISTIC") return compile_activation(c, Activation{ActivationKind::sigmoid});
    if (type == "TANH") return compile_activation(c, Activation{ActivationKind::tanh});
    if (type == "RELU") return compile_activation(c, clip(0.0f, std::numeric_limits<float>::infinity()));
    if (type == "RELU6") return compile_activation(c, clip(0.0f, 6.0f));
    if (type == "RELU_N1_TO_1") return compile_activation(c, clip(-1.0f, 1.0f));
    throw UnsupportedError(concat("TFLite operator ", type, " is not implemented yet"));
}

}  // namespace convscope
