// Build the engine for a loaded model and run it once on a zero input, but
// only when that run is cheap: a hostile file must not turn one fuzz input
// or one mutated file into seconds of work. Header-only so the libFuzzer
// targets (which link only the core) and the test tools share it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/engine/engine.h"
#include "core/inspect/flops.h"
#include "core/model/model.h"

namespace convscope::testing {

struct RunBounds {
    uint64_t max_input_elements = 1u << 18;        // a 512x512 image, more than any fixture
    uint64_t max_flops = 200ull * 1000 * 1000;      // ~0.1 s on the reference kernels
    uint64_t max_declared_elements = 1u << 22;      // any layer's declared output, per sample
};

enum class RunOutcomeKind { ran, skipped_cost, skipped_unknown_input };

// Throws convscope::Error when the engine refuses the model or the run fails
// cleanly; returns what happened otherwise.
inline RunOutcomeKind build_and_run_bounded(const Model& model, const RunBounds& bounds = {}) {
    Engine engine = Engine::build(model);
    // The declared cost decides whether to run; the engine's own limits catch
    // a file whose declared shapes lie about the real ones.
    ModelCost cost = model_cost(model);
    if (!cost.complete || cost.total_flops > bounds.max_flops) return RunOutcomeKind::skipped_cost;
    for (const Layer& layer : model.layers) {
        uint64_t elements = 1;
        for (size_t d = 0; d < layer.output_shape.size(); ++d) {
            int64_t dim = layer.output_shape[d];
            if (dim < 0) continue;
            if (dim > 0 && elements > bounds.max_declared_elements / static_cast<uint64_t>(dim)) {
                return RunOutcomeKind::skipped_cost;
            }
            elements *= static_cast<uint64_t>(dim);
        }
    }
    std::map<std::string, Tensor> feeds;
    for (const ValueInfo& input : engine.inputs()) {
        Shape shape = input.shape;
        if (shape.empty()) return RunOutcomeKind::skipped_unknown_input;
        uint64_t elements = 1;
        for (size_t d = 0; d < shape.size(); ++d) {
            if (shape[d] < 0) shape[d] = 1;  // batch and symbolic dims
            if (shape[d] > 0 && elements > bounds.max_input_elements / static_cast<uint64_t>(shape[d])) {
                return RunOutcomeKind::skipped_cost;
            }
            elements *= static_cast<uint64_t>(shape[d]);
        }
        feeds[input.name] = Tensor::zeros(DType::f32, shape);
    }
    RunResult result = engine.run(feeds, RunOptions{});
    (void)result.outputs.size();
    return RunOutcomeKind::ran;
}

}  // namespace convscope::testing
