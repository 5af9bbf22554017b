// Activation maximisation must actually maximise: the target at the returned
// picture is far above its value at the grey starting picture, the callback
// sees every step and can stop the ascent, and the picture stays in range.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/explain/filter_visualization.h"
#include "core/explain/top_activating.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"
#include "core/inspect/preprocess.h"
#include "core/inspect/samples.h"

using namespace convscope;

namespace {

const std::string demo_model = CONVSCOPE_SOURCE_DIR "/assets/models/fashion_small.h5";

}  // namespace

TEST_CASE("filter visualisation raises a channel's mean activation many times over", "[explain][visualize]") {
    Model model = open_model(read_file_bytes(demo_model), demo_model);
    Engine engine = Engine::build(model);
    GradientEngine gradients = GradientEngine::build(model, engine);
    // The strongest activation of each channel over 100 real pictures, the
    // bar a picture made for the channel should clear.
    SampleSet samples = load_sample_set_file(CONVSCOPE_SOURCE_DIR "/assets/images/fashion_samples.json");
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    std::vector<Tensor> pictures;
    for (int64_t i = 0; i < 100; ++i) pictures.push_back(preprocess_image(samples.tile(i * 10), settings));
    // 14 is silent on the grey start (the noise-kick path); 6 and 8 are
    // left out because they are dead on every real picture too.
    for (int64_t channel : {0, 7, 11, 14}) {
        INFO("conv2d_1 channel " << channel);
        FilterVisualizationOptions options;
        options.steps = 48;
        int calls = 0;
        options.on_step = [&](int step, float objective, const Tensor& image) {
            ++calls;
            CHECK(step == calls);
            CHECK(std::isfinite(objective));
            CHECK(image.shape() == Shape{1, 28, 28, 1});
            return true;
        };
        FilterVisualization v = visualize_filter(gradients, Target::channel_mean("conv2d_1", channel), options);
        CHECK(calls == 48);
        CHECK(v.objective_per_step.size() == 48u);
        INFO("initial " << v.initial_objective << " final " << v.final_objective);
        // Grey in, a picture made for this channel out: at least 4x the start,
        // and above every real picture of the set.
        const float best_real = top_activating(engine, pictures, "conv2d_1", channel, 1).at(0).value;
        INFO("best of 100 real pictures " << best_real);
        CHECK(v.final_objective >= 4.0f * std::max(v.initial_objective, 0.0f));
        CHECK(v.final_objective > best_real);
        for (float value : v.image.to_float_vector()) REQUIRE((value >= 0.0f && value <= 1.0f));
        // The final value is measured again at the returned picture.
        Gradients check = gradients.gradient_of(v.image, Target::channel_mean("conv2d_1", channel));
        CHECK(std::fabs(check.target_values.at(0) - v.final_objective) <= 1e-5f * std::max(1.0f, v.final_objective));
    }
}

TEST_CASE("filter visualisation of a class raises its logit; the callback can stop it", "[explain][visualize]") {
    Model model = open_model(read_file_bytes(demo_model), demo_model);
    Engine engine = Engine::build(model);
    GradientEngine gradients = GradientEngine::build(model, engine);
    FilterVisualizationOptions options;
    options.steps = 32;
    FilterVisualization v = visualize_filter(gradients, Target::class_score(1), options);
    INFO("initial " << v.initial_objective << " final " << v.final_objective);
    CHECK(v.final_objective >= v.initial_objective + 5.0f);

    options.on_step = [](int step, float, const Tensor&) { return step < 5; };
    FilterVisualization stopped = visualize_filter(gradients, Target::class_score(1), options);
    CHECK(stopped.objective_per_step.size() == 5u);

    CHECK_THROWS_AS(visualize_filter(gradients, Target::class_score(), options), Error);
    options.steps = 0;
    CHECK_THROWS_AS(visualize_filter(gradients, Target::class_score(1), options), Error);
}
