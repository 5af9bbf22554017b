#include "core/engine/engine.h"

#include <algorithm>
#include <set>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/engine/plan.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

const Tensor& require_input(const StepInputs& inputs, size_t index, const char* op) {
    if (index >= inputs.size() || !inputs[index]) {
        throw UnsupportedError(concat(op, ": input ", index, " is missing"));
    }
    return *inputs[index];
}

Tensor to_nhwc(const Tensor& nchw) { return transpose(nchw, {0, 2, 3, 1}); }
Tensor to_nchw(const Tensor& nhwc) { return transpose(nhwc, {0, 3, 1, 2}); }

Engine::Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

namespace {

bool is_onnx(const Model& model) { return model.is_onnx(); }

// Ops whose ONNX steps always return a tensor they just allocated (only
// ONNX steps have in-place forms, so only their producers matter).
bool allocates_fresh_output(OpKind op) {
    switch (op) {
        case OpKind::conv2d:
        case OpKind::dense:
        case OpKind::matmul:
        case OpKind::activation:
        case OpKind::binary:
        case OpKind::max_pool2d:
        case OpKind::avg_pool2d:
        case OpKind::global_avg_pool:
        case OpKind::global_max_pool:
        case OpKind::batch_norm:
            return true;
        default:
            return false;
    }
}

bool is_integer_dtype(DType dtype) { return dtype != DType::f16 && dtype != DType::f32 && dtype != DType::f64; }

Tensor to_int64_tensor(const Tensor& tensor) {
    if (tensor.dtype() == DType::i64) return tensor;
    Tensor out = Tensor::zeros(DType::i64, tensor.shape());
    int64_t* values = reinterpret_cast<int64_t*>(out.mutable_raw());
    for (uint64_t i = 0; i < tensor.element_count(); ++i) values[i] = static_cast<int64_t>(tensor.value_at(i));
    return out;
}

// Keras input shape of an InputLayer from its config, batch included.
Shape keras_input_shape(const Layer& layer) {
    for (const char* key : {"batch_input_shape", "batch_shape"}) {
        std::vector<int64_t> shape = layer.attribute_ints(key, {});
        if (!shape.empty()) return shape;
    }
    return layer.output_shape;
}

}  // namespace

Engine Engine::build(const Model& model) {
    Engine engine;
    engine.layout_ = model.layout;
    const bool onnx = is_onnx(model);
    if (!model.has_architecture) {
        throw UnsupportedError("the file holds weights only (no architecture), so there is nothing to run");
    }
    if (model.layers.size() > limits::max_layers) {
        throw_limit_error("model has ", model.layers.size(), " layers; the limit is ", limits::max_layers);
    }
    // Activations the file's declared shapes imply (batch 1) must fit the
    // tensor limit: refusing here is cheaper and clearer than an
    // out-of-memory halfway through a run.
    for (const Layer& layer : model.layers) {
        Shape shape = layer.output_shape;
        bool known = !shape.empty();
        for (size_t d = 0; d < shape.size(); ++d) {
            if (shape[d] < 0 && d == 0) shape[d] = 1;
            else if (shape[d] < 0) known = false;
        }
        if (!known) continue;
        try {
            shape_element_count(shape);
        } catch (const LimitError& error) {
            throw_limit_error("layer '", layer.name, "' (", layer.type, ") declares an output of shape ",
                              shape_to_string(layer.output_shape), ", more than one activation may hold: ", error.what());
        }
    }
    std::map<std::string, int> value_by_name;
    auto add_value = [&](const std::string& name, const std::string& producer) {
        int index = static_cast<int>(engine.values_.size());
        engine.values_.push_back(PlanValue{name, producer});
        value_by_name[name] = index;
        return index;
    };

    std::set<std::string> weight_names;
    for (const Layer& layer : model.layers) for (const Weight& w : layer.weights) weight_names.insert(w.name);
    for (const ValueInfo& input : model.inputs) {
        if (onnx && weight_names.count(input.name)) continue;  // old exports list initializers as inputs
        engine.inputs_.push_back(input);
        engine.input_values_.push_back(add_value(input.name, ""));
    }
    if (!onnx) {
        for (const Layer& layer : model.layers) {
            if (layer.type == "InputLayer" && !value_by_name.count(layer.name)) {
                ValueInfo info{layer.name, keras_input_shape(layer), DType::f32};
                engine.inputs_.push_back(info);
                engine.input_values_.push_back(add_value(layer.name, ""));
            }
        }
    }

    std::vector<std::string> problems;
    std::map<std::string, Tensor> folded;
    for (const Layer& layer : model.layers) {
        if (!onnx && layer.type == "InputLayer") continue;
        std::string label = concat("'", layer.name, "' (", layer.type, ")");
        auto register_outputs_only = [&]() {
            // Later layers then report their own problems, not a missing input.
            for (const std::string& name : layer.outputs.empty() ? std::vector<std::string>{layer.name} : layer.outputs) {
                if (!name.empty()) add_value(name, layer.name);
            }
        };
        if (!layer.unsupported_reason.empty()) {
            problems.push_back(concat(label, ": ", layer.unsupported_reason));
            register_outputs_only();
            continue;
        }
        // ONNX: values computed from initializers alone (Constant, Identity
        // of a weight, ...) are folded now and handed to their consumers as
        // initializers, so e.g. BatchNormalization can pre-compute its scale.
        Layer effective = layer;
        if (onnx) {
            for (const std::string& name : layer.inputs) {
                auto found = folded.find(name);
                if (found == folded.end()) continue;
                bool present = false;
                for (const Weight& w : effective.weights) present = present || w.name == name;
                if (!present) effective.weights.push_back(Weight{name, found->second});
            }
        }
        CompiledLayer compiled;
        try {
            compiled = onnx ? compile_onnx_node(model, effective)
                       : model.format == ModelFormat::tflite ? compile_tflite_operator(model, effective)
                                                  : compile_keras_layer(model, effective);
            if (onnx && compiled.inputs.empty()) {
                std::vector<Tensor> constant_outputs = compiled.run({});
                for (size_t o = 0; o < layer.outputs.size() && o < constant_outputs.size(); ++o) {
                    folded[layer.outputs[o]] = constant_outputs[o];
                }
            }
        } catch (const Error& error) {
            problems.push_back(concat(label, ": ", error.what()));
            register_outputs_only();
            continue;
        }
        PlanStep step;
        step.layer_name = layer.name;
        step.layer_type = layer.type;
        step.op = compiled.op;
        step.algorithm = compiled.algorithm;
        step.run = std::move(compiled.run);
        step.run_consuming = std::move(compiled.run_consuming);
        step.params = std::move(compiled.params);
        std::vector<std::string> input_names = compiled.inputs;
        // A Keras Sequential model without an InputLayer feeds its first layer.
        if (!onnx && input_names.empty() && !engine.input_values_.empty() && step.op != OpKind::constant) {
            input_names.push_back(engine.values_[engine.input_values_[0]].name);
        }
        bool inputs_ok = true;
        for (const std::string& name : input_names) {
            if (name.empty()) {
                step.inputs.push_back(-1);
                continue;
            }
            auto found = value_by_name.find(name);
            if (found == value_by_name.end()) {
                problems.push_back(concat(label, ": input '", name, "' is not produced by any earlier layer"));
                inputs_ok = false;
                break;
            }
            step.inputs.push_back(found->second);
        }
        if (!inputs_ok) continue;
        std::vector<std::string> outputs = layer.outputs;
        if (outputs.empty()) outputs.push_back(layer.name);
        for (const std::string& name : outputs) step.outputs.push_back(name.empty() ? -1 : add_value(name, layer.name));
        engine.steps_.push_back(std::move(step));
    }
    if (!problems.empty()) {
        std::string message = concat(problems.size(), " layer", problems.size() == 1 ? "" : "s",
                                     " cannot be run by this engine:");
        for (const std::string& problem : problems) message += "\n  " + problem;
        throw UnsupportedError(message);
    }

    for (const ValueInfo& output : model.outputs) {
        auto found = value_by_name.find(output.name);
        if (found == value_by_name.end()) {
            throw UnsupportedError(concat("model output '", output.name, "' is not produced by any layer"));
        }
        engine.output_names_.push_back(output.name);
        engine.output_values_.push_back(found->second);
    }
    if (engine.output_values_.empty() && !engine.steps_.empty()) {
        const PlanStep& last = engine.steps_.back();
        engine.output_names_.push_back(engine.values_[last.outputs[0]].name);
        engine.output_values_.push_back(last.outputs[0]);
    }
    if (engine.input_values_.empty()) throw UnsupportedError("the model declares no input");
    return engine;
}

Shape Engine::input_shape() const {
    if (inputs_.empty()) return {};
    Shape shape = inputs_[0].shape;
    if (!shape.empty() && shape[0] < 0) shape[0] = 1;
    return shape;
}

int Engine::find_value(const std::string& name) const {
    for (size_t i = 0; i < values_.size(); ++i) if (values_[i].name == name) return static_cast<int>(i);
    for (const PlanStep& step : steps_) {
        if (step.layer_name == name && !step.outputs.empty()) return step.outputs[0];
    }
    return -1;
}

RunResult Engine::run(const Tensor& input, const RunOptions& options) const {
    if (inputs_.size() != 1) {
        throw Error(concat("the model has ", inputs_.size(), " inputs; pass them by name"));
    }
    return run(std::map<std::string, Tensor>{{inputs_[0].name, input}}, options);
}

RunResult Engine::run(const std::map<std::string, Tensor>& feeds, const RunOptions& options) const {
    std::vector<Tensor> slots(values_.size());
    std::vector<bool> filled(values_.size(), false);
    for (size_t i = 0; i < inputs_.size(); ++i) {
        auto found = feeds.find(inputs_[i].name);
        if (found == feeds.end()) throw Error(concat("no tensor given for model input '", inputs_[i].name, "'"));
        // The engine holds floats as float32 and integers as int64 (as the
        // ONNX compiler bakes initializers), so an integer or bool input the
        // model declares as such (indices, masks) stays exact.
        Tensor tensor = is_integer_dtype(inputs_[i].dtype) ? to_int64_tensor(found->second) : found->second.to_float32();
        const Shape& expected = inputs_[i].shape;
        if (!expected.empty() && tensor.rank() + 1 == static_cast<int>(expected.size())) {
            Shape with_batch = tensor.shape();
            with_batch.insert(with_batch.begin(), 1);
            tensor = tensor.reshaped(with_batch);
        }
        bool matches = expected.empty() || tensor.rank() == static_cast<int>(expected.size());
        for (size_t d = 0; matches && d < expected.size(); ++d) {
            if (expected[d] > 0 && expected[d] != tensor.shape()[d]) matches = false;
        }
        if (!matches) {
            throw Error(concat("input '", inputs_[i].name, "': expected shape ", shape_to_string(expected),
                               ", got ", shape_to_string(tensor.shape())));
        }
        slots[input_values_[i]] = tensor;
        filled[input_values_[i]] = true;
    }

    // Which values to keep and when each can be released.
    std::vector<bool> keep(values_.size(), options.capture_all);
    for (int v : output_values_) keep[v] = true;
    for (const std::string& name : options.capture) {
        int v = find_value(name);
        if (v < 0) throw Error(concat("no layer or value named '", name, "' to capture"));
        keep[v] = true;
    }
    int stop_value = -1;
    if (!options.stop_after.empty()) {
        stop_value = find_value(options.stop_after);
        if (stop_value < 0) throw Error(concat("no layer or value named '", options.stop_after, "'"));
        keep[stop_value] = true;
    }
    std::vector<int> last_use(values_.size(), -1);
    for (size_t s = 0; s < steps_.size(); ++s) {
        for (int v : steps_[s].inputs) if (v >= 0) last_use[v] = static_cast<int>(s);
    }

    // Values whose producer always returns a tensor it just allocated (never
    // its input, a view of it, or a baked constant): only these may be
    // handed to a consuming step.
    std::vector<bool> fresh(values_.size(), false);
    for (const PlanStep& step : steps_) {
        for (int v : step.outputs) if (v >= 0) fresh[v] = allocates_fresh_output(step.op);
    }
    auto can_consume = [&](const PlanStep& step, size_t s) {
        if (!step.run_consuming || step.inputs.empty() || step.outputs.size() != 1) return false;
        int v = step.inputs[0];
        if (v < 0 || !fresh[v] || keep[v] || last_use[v] != static_cast<int>(s)) return false;
        if (std::count(step.inputs.begin(), step.inputs.end(), v) != 1) return false;
        const Tensor& t = slots[v];
        if (!t.owns_data() || t.dtype() != DType::f32 || t.element_count() == 0) return false;
        // A Reshape/Flatten/Identity view of this buffer may still be live.
        for (size_t u = 0; u < slots.size(); ++u) {
            if (static_cast<int>(u) != v && filled[u] && slots[u].raw() == t.raw()) return false;
        }
        return true;
    };

    bool stopped = stop_value >= 0 && filled[stop_value];
    for (size_t s = 0; s < steps_.size() && !stopped; ++s) {
        const PlanStep& step = steps_[s];
        StepInputs inputs;
        for (int v : step.inputs) {
            if (v >= 0 && !filled[v]) {
                throw Error(concat("layer '", step.layer_name, "': input '", values_[v].name, "' was not computed"));
            }
            // A step fed a tensor whose data does not cover its shape (a
            // default Tensor from a malformed constant) would read past it.
            if (v >= 0 && shape_element_count(slots[v].shape()) != slots[v].element_count()) {
                throw UnsupportedError(concat("layer '", step.layer_name, "': input '", values_[v].name, "' has shape ",
                                              shape_to_string(slots[v].shape()), " but ", slots[v].element_count(),
                                              " elements"));
            }
            inputs.push_back(v >= 0 ? &slots[v] : nullptr);
        }
        std::vector<Tensor> outputs;
        try {
            if (can_consume(step, s)) {
                Tensor& consumed = slots[step.inputs[0]];
                outputs.push_back(step.run_consuming(consumed, inputs));
                consumed = Tensor();
                filled[step.inputs[0]] = false;
            } else {
                outputs = step.run(inputs);
            }
        } catch (const LimitError& error) {
            // Stays a LimitError: the model is fine, it is just too big to run here.
            throw LimitError(concat("layer '", step.layer_name, "' (", step.layer_type, "): ", error.what()));
        } catch (const Error& error) {
            throw UnsupportedError(concat("layer '", step.layer_name, "' (", step.layer_type, "): ", error.what()));
        }
        for (size_t o = 0; o < step.outputs.size(); ++o) {
            int v = step.outputs[o];
            if (v < 0) continue;
            if (o >= outputs.size()) {
                throw UnsupportedError(concat("layer '", step.layer_name, "' produced ", outputs.size(),
                                              " outputs; the graph uses output ", o));
            }
            slots[v] = std::move(outputs[o]);
            filled[v] = true;
            if (v == stop_value) stopped = true;
        }
        for (int v : step.inputs) {
            if (v >= 0 && last_use[v] == static_cast<int>(s) && !keep[v]) {
                slots[v] = Tensor();
                filled[v] = false;
            }
        }
    }

    RunResult result;
    auto publish = [&](std::map<std::string, Tensor>& into, int v) {
        into[values_[v].name] = slots[v];
        // ONNX: the node name also finds its first output.
        for (const PlanStep& step : steps_) {
            if (!step.outputs.empty() && step.outputs[0] == v && step.layer_name != values_[v].name) {
                into[step.layer_name] = slots[v];
            }
        }
    };
    for (size_t v = 0; v < values_.size(); ++v) {
        if (filled[v] && keep[v] && (options.capture_all || static_cast<int>(v) == stop_value ||
                                     std::find(options.capture.begin(), options.capture.end(), values_[v].name) != options.capture.end())) {
            publish(result.activations, static_cast<int>(v));
        }
    }
    for (const std::string& name : options.capture) {
        int v = find_value(name);
        if (v >= 0 && filled[v]) result.activations[name] = slots[v];
    }
    if (stop_value < 0) {
        for (int v : output_values_) if (filled[v]) publish(result.outputs, v);
    }
    return result;
}

Tensor Engine::run_until(const Tensor& input, const std::string& layer_name) const {
    RunOptions options;
    options.stop_after = layer_name;
    RunResult result = run(input, options);
    int v = find_value(layer_name);
    auto found = result.activations.find(values_[v].name);
    if (found == result.activations.end()) throw Error(concat("layer '", layer_name, "' produced no output"));
    return found->second;
}

std::vector<std::string> Engine::describe() const {
    std::vector<std::string> lines;
    for (const PlanStep& step : steps_) {
        lines.push_back(concat(step.layer_name, "  ", step.layer_type, " -> ", op_name(step.op),
                               step.algorithm.empty() ? "" : " [" + step.algorithm + "]"));
    }
    return lines;
}

}  // namespace convscope
