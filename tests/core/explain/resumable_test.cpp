// The resumable forms of IG, SmoothGrad, occlusion and filter visualisation
// (what the app spreads over frames) give the one-shot functions' results
// (what the CLI and the goldens use) bit for bit, however the work is sliced.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <vector>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/explain/filter_visualization.h"
#include "core/explain/integrated_gradients.h"
#include "core/explain/occlusion.h"
#include "core/explain/saliency.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"

using namespace convscope;

namespace {

struct Loaded {
    Model model;
    Engine engine;
    std::optional<GradientEngine> built;
    const GradientEngine& gradients() const { return *built; }
};

std::unique_ptr<Loaded> load(const std::string& file) {
    const std::string path = CONVSCOPE_SOURCE_DIR "/tests/fixtures/explain/" + file;
    Model model = open_model(read_file_bytes(path), path);
    Engine engine = Engine::build(model);
    auto loaded = std::unique_ptr<Loaded>(new Loaded{std::move(model), std::move(engine), std::nullopt});
    // Built where it stays: the gradient engine keeps a pointer to the engine.
    loaded->built.emplace(GradientEngine::build(loaded->model, loaded->engine));
    return loaded;
}

Tensor input_for(const Loaded& loaded) {
    Tensor nchw = npy::read_file(CONVSCOPE_SOURCE_DIR "/tests/fixtures/explain/input.npy").to_float32();
    if (loaded.gradients().layout() == DataLayout::channels_first) return nchw;
    // NCHW -> NHWC by hand (the Keras copy of the model).
    const Shape& s = nchw.shape();
    std::vector<float> out(nchw.element_count());
    const float* v = nchw.f32();
    for (int64_t c = 0; c < s[1]; ++c)
        for (int64_t y = 0; y < s[2]; ++y)
            for (int64_t x = 0; x < s[3]; ++x) out[static_cast<size_t>((y * s[3] + x) * s[1] + c)] = v[(c * s[2] + y) * s[3] + x];
    return Tensor::from_floats({1, s[2], s[3], s[1]}, out);
}

void require_identical(const Explanation& got, const Explanation& want) {
    REQUIRE(got.raw.shape() == want.raw.shape());
    REQUIRE(got.map.shape() == want.map.shape());
    CHECK(got.raw.to_float_vector() == want.raw.to_float_vector());
    CHECK(got.map.to_float_vector() == want.map.to_float_vector());
    CHECK(got.class_index == want.class_index);
    CHECK(got.score == want.score);
}

// Steps `run` with the slice sizes in turn (cycling) until done; checks the
// progress rises monotonically to exactly 1.
template <typename Run>
void run_in_slices(Run& run, const std::vector<int>& slices) {
    float last = run.progress();
    CHECK(last == 0.0f);
    for (size_t i = 0; !run.done(); ++i) {
        REQUIRE(i < 100000u);
        const int did = run.step(slices[i % slices.size()]);
        REQUIRE(did >= 0);
        REQUIRE(did <= slices[i % slices.size()]);
        CHECK(run.progress() >= last);
        last = run.progress();
    }
    CHECK(run.progress() == 1.0f);
    CHECK(run.units_done() == run.total_units());
    CHECK(run.step(5) == 0);
}

const std::vector<std::vector<int>> slicings = {{1}, {2}, {3}, {7}, {1, 5, 2}, {1000}};

}  // namespace

TEST_CASE("Integrated Gradients stepped in slices equals one-shot bit for bit", "[explain][resumable]") {
    for (const char* file : {"tiny_cnn.onnx", "tiny_cnn.h5"}) {
        INFO(file);
        auto loaded = load(file);
        const Tensor x = input_for(*loaded);
        IntegratedGradientsOptions options;
        options.steps = 13;
        for (const Target& target : {Target::class_score(-1), Target::class_score(2)}) {
            const Explanation once = integrated_gradients(loaded->gradients(), x, target, options);
            for (const std::vector<int>& slices : slicings) {
                IntegratedGradientsRun run(loaded->gradients(), x, target, options);
                CHECK_THROWS_AS(run.result(), Error);
                run_in_slices(run, slices);
                CHECK(run.total_units() == 13);
                require_identical(run.result(), once);
            }
        }
    }
}

TEST_CASE("SmoothGrad stepped in slices equals one-shot bit for bit", "[explain][resumable][smoothgrad]") {
    auto loaded = load("tiny_cnn.onnx");
    const Tensor x = input_for(*loaded);
    SmoothGradOptions options;
    options.samples = 11;
    options.noise_fraction = 0.2f;
    options.seed = 9;
    const Explanation once = smoothgrad(loaded->gradients(), x, Target::class_score(-1), options);
    for (const std::vector<int>& slices : slicings) {
        SmoothGradRun run(loaded->gradients(), x, Target::class_score(-1), options);
        CHECK_THROWS_AS(run.result(), Error);
        run_in_slices(run, slices);
        require_identical(run.result(), once);
    }
    // A different seed really changes it (the comparison above can fail).
    options.seed = 10;
    SmoothGradRun other(loaded->gradients(), x, Target::class_score(-1), options);
    other.step(100);
    CHECK(other.result().raw.to_float_vector() != once.raw.to_float_vector());
}

TEST_CASE("occlusion stepped in slices equals one-shot bit for bit", "[explain][resumable][occlusion]") {
    for (const char* file : {"tiny_cnn.onnx", "tiny_cnn.h5"}) {
        INFO(file);
        auto loaded = load(file);
        const Tensor x = input_for(*loaded);
        for (int batch : {1, 4, 32}) {
            INFO("batch " << batch);
            OcclusionOptions options;
            options.window = 3;
            options.stride = 2;
            options.fill = 0.25f;
            options.batch = batch;
            const Explanation once = occlusion(loaded->gradients(), x, -1, options);
            for (const std::vector<int>& slices : slicings) {
                OcclusionRun run(loaded->gradients(), x, -1, options);
                CHECK_THROWS_AS(run.result(), Error);
                run_in_slices(run, slices);
                require_identical(run.result(), once);
            }
        }
    }
}

TEST_CASE("filter visualisation stepped in slices equals one-shot bit for bit", "[explain][resumable][visualize]") {
    const std::string path = CONVSCOPE_SOURCE_DIR "/assets/models/fashion_small.h5";
    Model model = open_model(read_file_bytes(path), path);
    Engine engine = Engine::build(model);
    GradientEngine gradients = GradientEngine::build(model, engine);
    // Channel 14 is silent on the grey start, so the noise-kick path (more
    // draws from the random stream) is covered too.
    for (int64_t channel : {0, 14}) {
        INFO("channel " << channel);
        FilterVisualizationOptions options;
        options.steps = 21;
        const Target target = Target::channel_mean("conv2d_1", channel);
        const FilterVisualization once = visualize_filter(gradients, target, options);
        for (const std::vector<int>& slices : slicings) {
            FilterVisualizer run(gradients, target, options);
            CHECK(run.initial_objective() == once.initial_objective);
            run_in_slices(run, slices);
            const FilterVisualization stepped = run.result();
            CHECK(stepped.image.to_float_vector() == once.image.to_float_vector());
            CHECK(stepped.objective_per_step == once.objective_per_step);
            CHECK(stepped.final_objective == once.final_objective);
        }
    }
}
