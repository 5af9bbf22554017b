// Ranking pictures by a channel's activation: the first entry really has the
// largest activation of the set (checked against the channel read from a
// full captured run, not through top_activating's own path), the order is
// descending, and the maps are that picture's channel.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/explain/top_activating.h"
#include "core/formats/registry.h"
#include "core/inspect/preprocess.h"
#include "core/inspect/samples.h"

using namespace convscope;

TEST_CASE("top activating pictures are ranked by the channel's activation", "[explain][top-activating]") {
    const std::string path = CONVSCOPE_SOURCE_DIR "/assets/models/fashion_small.onnx";
    Model model = open_model(read_file_bytes(path), path);
    Engine engine = Engine::build(model);
    SampleSet samples = load_sample_set_file(CONVSCOPE_SOURCE_DIR "/assets/images/fashion_samples.json");
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    std::vector<Tensor> inputs;
    for (int64_t i = 0; i < 60; ++i) inputs.push_back(preprocess_image(samples.tile(i * 13), settings));

    const std::string layer = "/net/Relu_1";
    for (ActivationStatistic statistic : {ActivationStatistic::mean, ActivationStatistic::max}) {
        for (int64_t channel : {2, 11}) {
            INFO("channel " << channel << (statistic == ActivationStatistic::mean ? " mean" : " max"));
            std::vector<ActivatingImage> top = top_activating(engine, inputs, layer, channel, 5, statistic);
            REQUIRE(top.size() == 5u);
            // Every picture's value from a run that captures everything,
            // NCHW [1, 15, 24, 24] read directly.
            std::vector<float> expected(inputs.size());
            for (size_t i = 0; i < inputs.size(); ++i) {
                RunOptions options;
                options.capture_all = true;
                RunResult run = engine.run(inputs[i], options);
                auto found = run.activations.find("/net/Relu_1_output_0");
                if (found == run.activations.end()) found = run.activations.find(layer);
                REQUIRE(found != run.activations.end());
                REQUIRE(found->second.shape() == Shape{1, 15, 24, 24});
                const float* v = found->second.to_float32().f32() + channel * 576;
                double sum = 0.0, high = -INFINITY;
                for (int p = 0; p < 576; ++p) { sum += v[p]; high = std::max<double>(high, v[p]); }
                expected[i] = static_cast<float>(statistic == ActivationStatistic::mean ? sum / 576.0 : high);
            }
            const float best = *std::max_element(expected.begin(), expected.end());
            CHECK(std::fabs(top[0].value - best) <= 1e-5f * std::max(1.0f, best));
            CHECK(expected[top[0].index] == Approx(best));
            for (size_t k = 0; k < top.size(); ++k) {
                CHECK(top[k].value == Approx(expected[top[k].index]));
                if (k > 0) CHECK(top[k - 1].value >= top[k].value);
                CHECK(top[k].map.shape() == Shape{24, 24});
            }
            // Not a degenerate set: the pictures differ for this channel.
            CHECK(best > *std::min_element(expected.begin(), expected.end()));
        }
    }
    CHECK_THROWS_AS(top_activating(engine, inputs, layer, 15, 3), Error);
}
