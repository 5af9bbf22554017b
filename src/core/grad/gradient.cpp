// Reverse-mode gradients over the engine's plan (gradient.h). Each plan
// step's backward comes from select_backward (backward_select.cpp); this file
// seeds the target and walks the plan in reverse.
//
// [SECTION] index
//   building the backward steps
//   seeding a target (class score, channel mean)
//   the reverse sweep
//   scores without a backward pass
#include "core/grad/gradient.h"

#include <algorithm>

#include "core/base/error.h"
#include "core/grad/backward_steps.h"

namespace convscope {

// [SECTION] building the backward steps ---------------------------------------------

GradientEngine::GradientEngine() = default;
GradientEngine::GradientEngine(GradientEngine&&) noexcept = default;
GradientEngine& GradientEngine::operator=(GradientEngine&&) noexcept = default;
GradientEngine::~GradientEngine() = default;

GradientEngine GradientEngine::build(const Model& model, const Engine& engine) {
    GradientEngine result;
    result.engine_ = &engine;
    for (const PlanStep& plan : engine.plan_steps()) {
        try {
            result.steps_.push_back(std::make_shared<BackwardStep>(select_backward(model, engine, plan)));
        } catch (const Error& error) {
            result.steps_.push_back(nullptr);
            result.unsupported_.push_back(concat(plan.layer_name, " (", plan.layer_type, "): ", error.what()));
        }
    }
    return result;
}

int GradientEngine::find_value(const std::string& name) const {
    const auto& values = engine_->plan_values();
    for (size_t v = 0; v < values.size(); ++v) if (values[v].name == name) return static_cast<int>(v);
    for (const PlanStep& step : engine_->plan_steps()) if (step.layer_name == name && !step.outputs.empty()) return step.outputs[0];
    return -1;
}

// [SECTION] seeding a target ----------------------------------------------------------

namespace {

int producer_of(const std::vector<PlanStep>& steps, int value) {
    for (size_t s = 0; s < steps.size(); ++s) {
        for (int v : steps[s].outputs) if (v == value) return static_cast<int>(s);
    }
    return -1;
}

// Where the sweep starts: the step whose output holds the seed, and whether
// that step's fused softmax is skipped (the seed is on its logits).
struct SweepStart {
    int first_step = -1;
    bool skip_activation = false;
};

// A class target: the logits value (before a trailing softmax step), the
// logits of a step with a fused softmax, or the output itself.
SweepStart seed_class_score(const Engine& engine, const std::vector<std::shared_ptr<BackwardStep>>& steps,
                            const std::vector<const Tensor*>& tensor_of, const Target& target, int64_t batch,
                            Gradients& result, std::vector<Tensor>& grads) {
    const std::vector<PlanStep>& plan = engine.plan_steps();
    if (engine.plan_output_values().empty()) throw Error("gradient: the model has no output");
    int output_value = engine.plan_output_values()[0];
    if (!tensor_of[static_cast<size_t>(output_value)]) throw Error("gradient: the output was not computed");
    result.output = *tensor_of[static_cast<size_t>(output_value)];
    int seed_value = output_value;
    int producer = producer_of(plan, output_value);
    SweepStart start{producer, false};
    Tensor scores = result.output.to_float32();
    if (!target.probability && producer >= 0) {
        const PlanStep& last = plan[static_cast<size_t>(producer)];
        const BackwardStep* backward = steps[static_cast<size_t>(producer)].get();
        if (last.op == OpKind::softmax && !last.inputs.empty() && last.inputs[0] >= 0) {
            seed_value = last.inputs[0];
            start.first_step = producer - 1;
            scores = tensor_of[static_cast<size_t>(seed_value)]->to_float32();
        } else if (backward && backward->fused_softmax) {
            start.skip_activation = true;
            std::vector<const Tensor*> inputs;
            for (int v : last.inputs) inputs.push_back(v >= 0 ? tensor_of[static_cast<size_t>(v)] : nullptr);
            scores = backward->logits(inputs);
        }
    }
    const int64_t per_item = static_cast<int64_t>(scores.element_count()) / std::max<int64_t>(batch, 1);
    int64_t class_index = target.class_index;
    if (class_index < 0) {
        class_index = 0;
        for (int64_t i = 1; i < per_item; ++i) if (scores.f32()[i] > scores.f32()[class_index]) class_index = i;
    }
    if (class_index >= per_item) throw Error(concat("class ", class_index, " is out of range: the model scores ", per_item, " classes"));
    result.class_index = class_index;
    Tensor seed = Tensor::zeros(DType::f32, scores.shape());
    for (int64_t n = 0; n < batch; ++n) {
        seed.mutable_f32()[n * per_item + class_index] = 1.0f;
        result.target_values.push_back(scores.f32()[n * per_item + class_index]);
    }
    grads[static_cast<size_t>(seed_value)] = seed;
    return start;
}

// A channel-mean target: d mean(channel) / d activation = 1 / pixels there.
SweepStart seed_channel_mean(const Engine& engine, int value, const std::vector<const Tensor*>& tensor_of,
                             const Target& target, int64_t batch, Gradients& result, std::vector<Tensor>& grads) {
    if (value < 0 || !tensor_of[static_cast<size_t>(value)]) throw Error(concat("no layer or value named '", target.layer, "'"));
    Tensor activation = tensor_of[static_cast<size_t>(value)]->to_float32();
    if (activation.rank() < 2) throw Error(concat("'", target.layer, "' has no channel axis (shape ", shape_to_string(activation.shape()), ")"));
    const bool channels_first = engine.layout() == DataLayout::channels_first;
    const int axis = channels_first || activation.rank() == 2 ? 1 : activation.rank() - 1;
    const int64_t channels = activation.shape()[axis];
    if (target.channel < 0 || target.channel >= channels) {
        throw Error(concat("channel ", target.channel, " is out of range: '", target.layer, "' has ", channels, " channels"));
    }
    int64_t inner = 1;
    for (int a = axis + 1; a < activation.rank(); ++a) inner *= activation.shape()[a];
    const int64_t per_item = static_cast<int64_t>(activation.element_count()) / std::max<int64_t>(batch, 1);
    const int64_t spatial = per_item / channels;
    Tensor seed = Tensor::zeros(DType::f32, activation.shape());
    for (int64_t n = 0; n < batch; ++n) {
        double sum = 0.0;
        for (int64_t i = 0; i < per_item; ++i) {
            int64_t channel = (i / inner) % channels;
            if (channel != target.channel) continue;
            seed.mutable_f32()[n * per_item + i] = 1.0f / static_cast<float>(spatial);
            sum += activation.f32()[n * per_item + i];
        }
        result.target_values.push_back(static_cast<float>(sum / static_cast<double>(spatial)));
    }
    grads[static_cast<size_t>(value)] = seed;
    return SweepStart{producer_of(engine.plan_steps(), value), false};
}

// [SECTION] the reverse sweep ---------------------------------------------------------

// From start.first_step down to step 0, each step's input gradients from its
// output gradient, summed where a value feeds several steps.
void sweep(const Engine& engine, const std::vector<std::shared_ptr<BackwardStep>>& steps,
           const std::vector<std::string>& unsupported, const std::vector<const Tensor*>& tensor_of, SweepStart start,
           std::vector<Tensor>& grads) {
    const std::vector<PlanStep>& plan = engine.plan_steps();
    for (int s = start.first_step; s >= 0; --s) {
        const PlanStep& step = plan[static_cast<size_t>(s)];
        if (step.outputs.empty() || step.outputs[0] < 0) continue;
        const Tensor& gradient = grads[static_cast<size_t>(step.outputs[0])];
        for (size_t o = 1; o < step.outputs.size(); ++o) {
            if (step.outputs[o] >= 0 && !grads[static_cast<size_t>(step.outputs[o])].empty()) {
                throw UnsupportedError(concat("layer '", step.layer_name, "': gradients through its output ", o, " are not supported"));
            }
        }
        if (gradient.empty()) continue;
        const BackwardStep* backward = steps[static_cast<size_t>(s)].get();
        if (!backward) {
            std::string reason;
            for (const std::string& u : unsupported) if (u.rfind(step.layer_name + " (", 0) == 0) reason = u;
            throw UnsupportedError(concat("no backward pass for ", reason.empty() ? step.layer_name : reason));
        }
        const Tensor* output = tensor_of[static_cast<size_t>(step.outputs[0])];
        std::vector<const Tensor*> inputs;
        for (int v : step.inputs) inputs.push_back(v >= 0 ? tensor_of[static_cast<size_t>(v)] : nullptr);
        Tensor output_gradient = gradient.shape() == output->shape() ? gradient : gradient.reshaped(output->shape());
        BackwardContext context{inputs, *output, output_gradient, s == start.first_step && start.skip_activation};
        std::vector<Tensor> input_grads;
        try {
            input_grads = backward->backward(context);
        } catch (const Error& error) {
            throw UnsupportedError(concat("backward of layer '", step.layer_name, "' (", step.layer_type, "): ", error.what()));
        }
        for (size_t i = 0; i < step.inputs.size() && i < input_grads.size(); ++i) {
            int v = step.inputs[i];
            if (v < 0 || input_grads[i].empty() || !tensor_of[static_cast<size_t>(v)]) continue;
            if (!grad::is_float(tensor_of[static_cast<size_t>(v)]->dtype())) continue;
            Tensor g = input_grads[i].reshaped(tensor_of[static_cast<size_t>(v)]->shape());
            Tensor& slot = grads[static_cast<size_t>(v)];
            slot = slot.empty() ? g : binary_op(BinaryKind::add, slot, g);
        }
    }
}

}  // namespace

Gradients GradientEngine::gradient_of(const Tensor& input, const Target& target, const std::string& activation_layer) const {
    const std::vector<PlanValue>& values = engine_->plan_values();
    RunOptions options;
    options.capture_all = true;
    RunResult run = engine_->run(input, options);
    std::vector<const Tensor*> tensor_of(values.size(), nullptr);
    for (size_t v = 0; v < values.size(); ++v) {
        auto found = run.activations.find(values[v].name);
        if (found != run.activations.end()) tensor_of[v] = &found->second;
    }
    if (engine_->plan_input_values().empty() || !tensor_of[static_cast<size_t>(engine_->plan_input_values()[0])]) {
        throw Error("gradient: the input was not captured");
    }
    const Tensor& fed_input = *tensor_of[static_cast<size_t>(engine_->plan_input_values()[0])];
    const int64_t batch = fed_input.rank() ? fed_input.shape()[0] : 1;

    Gradients result;
    std::vector<Tensor> grads(values.size());
    SweepStart start;
    if (target.kind == Target::Kind::class_score) {
        start = seed_class_score(*engine_, steps_, tensor_of, target, batch, result, grads);
    } else {
        start = seed_channel_mean(*engine_, find_value(target.layer), tensor_of, target, batch, result, grads);
        if (!run.outputs.empty()) result.output = run.outputs.begin()->second;
    }
    sweep(*engine_, steps_, unsupported_, tensor_of, start, grads);

    int input_value = engine_->plan_input_values()[0];
    Tensor input_gradient = grads[static_cast<size_t>(input_value)];
    if (input_gradient.empty()) input_gradient = Tensor::zeros(DType::f32, fed_input.shape());
    result.input_gradient = input_gradient.reshaped(input.rank() == fed_input.rank() ? input.shape() : fed_input.shape());
    if (!activation_layer.empty()) {
        int value = find_value(activation_layer);
        if (value < 0 || !tensor_of[static_cast<size_t>(value)]) throw Error(concat("no layer or value named '", activation_layer, "'"));
        result.activation = *tensor_of[static_cast<size_t>(value)];
        result.activation_gradient = grads[static_cast<size_t>(value)].empty() ? Tensor::zeros(DType::f32, result.activation.shape())
                                                                               : grads[static_cast<size_t>(value)];
    }
    return result;
}

// [SECTION] scores without a backward pass --------------------------------------------

std::vector<float> GradientEngine::scores(const Tensor& input, int64_t class_index, bool probability) const {
    const std::vector<PlanStep>& plan = engine_->plan_steps();
    int output_value = engine_->plan_output_values().at(0);
    int producer = producer_of(plan, output_value);
    RunOptions options;
    std::string logits_name;
    const BackwardStep* fused = nullptr;
    if (!probability && producer >= 0) {
        const PlanStep& last = plan[static_cast<size_t>(producer)];
        if (last.op == OpKind::softmax && !last.inputs.empty() && last.inputs[0] >= 0) {
            logits_name = engine_->plan_values()[static_cast<size_t>(last.inputs[0])].name;
            options.capture.push_back(logits_name);
        } else if (steps_[static_cast<size_t>(producer)] && steps_[static_cast<size_t>(producer)]->fused_softmax) {
            fused = steps_[static_cast<size_t>(producer)].get();
            for (int v : last.inputs) if (v >= 0) options.capture.push_back(engine_->plan_values()[static_cast<size_t>(v)].name);
        }
    }
    RunResult run = engine_->run(input, options);
    Tensor scores;
    if (!logits_name.empty()) {
        scores = run.activations.at(logits_name).to_float32();
    } else if (fused) {
        std::vector<const Tensor*> inputs;
        for (int v : plan[static_cast<size_t>(producer)].inputs) {
            inputs.push_back(v >= 0 ? &run.activations.at(engine_->plan_values()[static_cast<size_t>(v)].name) : nullptr);
        }
        scores = fused->logits(inputs);
    } else {
        scores = run.outputs.at(engine_->output_names().at(0)).to_float32();
    }
    const int64_t batch = scores.rank() ? scores.shape()[0] : 1;
    const int64_t per_item = static_cast<int64_t>(scores.element_count()) / std::max<int64_t>(batch, 1);
    if (class_index < 0 || class_index >= per_item) throw Error(concat("class ", class_index, " is out of range (", per_item, " classes)"));
    std::vector<float> out;
    for (int64_t n = 0; n < batch; ++n) out.push_back(scores.f32()[n * per_item + class_index]);
    return out;
}

}  // namespace convscope