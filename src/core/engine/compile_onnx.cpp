// ONNX nodes -> plan steps, through one table of small compile functions
// (compile_onnx_ops_*.cpp). Activations are NCHW; convolution and pooling
// transpose to NHWC around the shared kernels. Initializers (Layer.weights)
// are baked into the step; only runtime values flow through the plan.
//
// [SECTION] helpers shared by the op families
// [SECTION] the op table and the dispatch (compile_onnx_node)
#include <cmath>
#include <cstring>
#include <limits>

#include "core/base/error.h"
#include "core/engine/builders.h"
#include "core/engine/compile_onnx_internal.h"
#include "core/engine/plan.h"

namespace convscope {

namespace onnx_compile {

// [SECTION] helpers shared by the op families

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


OnnxConsumingFunction unary_consuming(Activation a) {
    return [a](Tensor& x, const std::vector<const Tensor*>&) {
        apply_activation(a, x.f32(), x.mutable_f32(), static_cast<int64_t>(x.element_count()));
        return std::move(x);
    };
}

Activation make_activation(ActivationKind kind, float alpha, float beta) {
    Activation a;
    a.kind = kind;
    a.alpha = alpha;
    a.beta = beta;
    return a;
}

AxesSource axes_source(const OnnxNode& n, int64_t input_from_opset, size_t index) {
    AxesSource source;
    source.from_input = n.opset >= input_from_opset;
    const bool has_attribute = n.layer.attribute("axes") != nullptr;
    if (source.from_input && has_attribute) {
        throw UnsupportedError(concat(n.layer.type, " at opset ", n.opset, " takes axes as input ", index,
                                      ", but the node has an 'axes' attribute (an opset-", input_from_opset - 1, " form)"));
    }
    if (!source.from_input && n.input_listed(index)) {
        throw UnsupportedError(concat(n.layer.type, " at opset ", n.opset, " takes axes as an attribute; input ", index,
                                      " is an opset-", input_from_opset, " form"));
    }
    if (!source.from_input) source.attribute_axes = n.layer.attribute_ints("axes", {});
    return source;
}

std::vector<int64_t> resolve_axes(const AxesSource& source, const std::vector<const Tensor*>& in, size_t index) {
    if (!source.from_input) return source.attribute_axes;
    return has_input(in, index) ? ints_of(*in[index]) : std::vector<int64_t>{};
}

}  // namespace onnx_compile

// [SECTION] the op table and the dispatch (compile_onnx_node)

namespace {

using namespace onnx_compile;

const std::vector<OnnxOpEntry>& onnx_op_table() {
    static const std::vector<OnnxOpEntry> table = [] {
        std::vector<OnnxOpEntry> rows;
        for (auto family : {onnx_nn_ops, onnx_math_ops, onnx_tensor_ops}) {
            for (const OnnxOpEntry& row : family()) rows.push_back(row);
        }
        return rows;
    }();
    return table;
}

std::string domain_label(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

std::string opset_range(const OnnxOpEntry& row) {
    if (row.max_opset == any_opset) return concat(row.min_opset, "+");
    return row.min_opset == row.max_opset ? concat(row.min_opset) : concat(row.min_opset, "-", row.max_opset);
}

// The row for the node's op at its domain's opset; an op the table does not
// know, or knows only at other opsets, is named with its domain and opset.
OnnxCompileFunction find_compile_function(const std::string& op_type, const std::string& domain, int64_t opset) {
    std::string known_opsets;
    for (const OnnxOpEntry& row : onnx_op_table()) {
        if (op_type != row.op_type || domain != row.domain) continue;
        if (opset >= row.min_opset && opset <= row.max_opset) return row.compile;
        known_opsets += concat(known_opsets.empty() ? "" : ", ", opset_range(row));
    }
    if (!known_opsets.empty()) {
        throw UnsupportedError(concat("ONNX operator '", op_type, "' (", domain_label(domain), " opset ", opset,
                                      ") is supported at opsets ", known_opsets, " only"));
    }
    throw UnsupportedError(concat("ONNX operator '", op_type, "' (", domain_label(domain), " opset ", opset, ") is not supported"));
}

}  // namespace

std::vector<std::string> onnx_supported_ops() {
    std::vector<std::string> names;
    for (const OnnxOpEntry& row : onnx_op_table()) {
        names.push_back(concat(domain_label(row.domain), "::", row.op_type, " ", opset_range(row)));
    }
    return names;
}

CompiledLayer compile_onnx_node(const Model& model, const Layer& layer) {
    std::string domain = layer.attribute_string("domain", "");
    if (domain == "ai.onnx") domain.clear();
    // A file that imports no opset for the default domain (not valid ONNX,
    // but written by some old exporters) is read with opset-13 semantics.
    int64_t opset = model.onnx_opset(domain);
    if (opset <= 0 && domain.empty()) opset = 13;
    OnnxCompileFunction compile = find_compile_function(layer.type, domain, opset);

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

    OnnxNode node{model, layer, opset, domain, [&](size_t i) -> const Tensor* {
        return i < constants.size() && constants[i] ? &(*baked)[i] : nullptr;
    }};
    OnnxStep step = compile(node);

    CompiledLayer compiled;
    compiled.inputs = runtime_names;
    compiled.op = step.op;
    compiled.algorithm = step.algorithm;
    compiled.params = std::move(step.params);
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
    OnnxFunction function = std::move(step.function);
    compiled.run = [function, resolve_inputs](const StepInputs& runtime) { return function(resolve_inputs(runtime)); };
    // The engine's input 0 is the first runtime input: consuming it in place
    // is only right when that is also the op's input 0.
    OnnxConsumingFunction consuming = std::move(step.consuming);
    if (consuming && !runtime_position.empty() && runtime_position[0] == 0) {
        compiled.run_consuming = [consuming, resolve_inputs](Tensor& consumed, const StepInputs& runtime) {
            return consuming(consumed, resolve_inputs(runtime));
        };
    }
    return compiled;
}

}  // namespace convscope
