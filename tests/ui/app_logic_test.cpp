// The app logic without a browser: the inspection queue (order, dedupe,
// cancellation), the explanations' scheduling over frames (and that it is
// the core's implementation, bit for bit), and every cache starting over on
// a second model load, also of the same file.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/explain/integrated_gradients.h"
#include "core/explain/occlusion.h"
#include "core/explain/saliency.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"
#include "ui/app_state.h"
#include "ui/explanations_hook.h"
#include "ui/inspection_hook.h"

using namespace convscope;
using namespace convscope::ui;

namespace {

const std::string demo_model = CONVSCOPE_SOURCE_DIR "/assets/models/fashion_small.h5";
const std::string other_model = CONVSCOPE_SOURCE_DIR "/assets/models/fashion_small.onnx";

std::shared_ptr<std::vector<uint8_t>> file_bytes(const std::string& path) {
    return std::make_shared<std::vector<uint8_t>>(*read_file_bytes(path));
}

void load_demo_samples(AppState& app) {
    app.load_samples(*read_file_bytes(CONVSCOPE_SOURCE_DIR "/assets/images/fashion_samples.json"),
                     *read_file_bytes(CONVSCOPE_SOURCE_DIR "/assets/images/fashion_samples.png"));
    REQUIRE(app.inspection().samples());
    REQUIRE(app.inspection().images().size() >= 2);
}

// Frames until the explanations are all done (or a generous cap).
int run_explanations(AppState& app) {
    int frames = 0;
    while (frames < 2000 && app.explanations().completed() < explain_method_count) {
        app.begin_frame();
        ++frames;
    }
    return frames;
}

Tensor batch_one(const Tensor& input) {
    Tensor x = input.to_float32();
    Shape shape = x.shape();
    if (shape.size() == 3) shape.insert(shape.begin(), 1);
    return x.reshaped(shape);
}

}  // namespace

TEST_CASE("inspection queue: first asked, first computed; repeats queued once", "[ui][inspection]") {
    AppState app;
    load_demo_samples(app);
    app.open_file("fashion_small.h5", file_bytes(demo_model));
    REQUIRE(app.error().empty());
    Inspection& inspection = app.inspection();
    REQUIRE(inspection.engine());
    const int layer = inspection.selected_layer();
    REQUIRE(layer >= 0);
    REQUIRE(inspection.selected_kernels());

    // Nothing is computed on request: three maps queued, one asked twice.
    CHECK(inspection.request_response(0, layer, 2, -1, false) == nullptr);
    CHECK(inspection.request_response(1, layer, 0, -1, false) == nullptr);
    CHECK(inspection.request_response(0, layer, 2, -1, false) == nullptr);
    CHECK(inspection.request_response(0, layer, 4, -1, false) == nullptr);
    CHECK(inspection.queued() == 3);
    CHECK(inspection.busy());

    // A zero budget still runs one job: the oldest.
    inspection.do_work(std::chrono::milliseconds(0));
    CHECK(inspection.queued() == 2);
    const Map2D* first = inspection.request_response(0, layer, 2, -1, false);
    REQUIRE(first != nullptr);
    CHECK(first->height > 0);
    CHECK(first->values.size() == static_cast<size_t>(first->height * first->width));
    CHECK(inspection.queued() == 2);  // asking for a ready map queues nothing
    inspection.do_work(std::chrono::milliseconds(0));
    CHECK(inspection.request_response(1, layer, 0, -1, false) != nullptr);
    CHECK(inspection.queued() == 1);
    inspection.do_work(std::chrono::milliseconds(1000));
    CHECK(inspection.queued() == 0);
    CHECK_FALSE(inspection.busy());
    CHECK(inspection.request_response(0, layer, 4, -1, false) != nullptr);
    // Different kernels give different maps.
    CHECK(inspection.request_response(0, layer, 4, -1, false)->values != first->values);
    CHECK(inspection.compute_error() == "");

    // The test hook lists the selected layer's computed maps (failed ones left out).
    nlohmann::json hook = nlohmann::json::parse(inspection_to_json(inspection));
    REQUIRE(hook["responses"].size() == 3);
    for (const nlohmann::json& entry : hook["responses"]) {
        CHECK(entry["shape"][0].get<int64_t>() == first->height);
        CHECK(entry["values"].size() == first->values.size());
    }
    CHECK(hook["layer"]["index"].get<int>() == layer);
    CHECK(hook["layer"]["kernels"].get<int64_t>() == inspection.selected_kernels()->out_channels);

    // A failed job is remembered as an empty map, not retried every frame.
    const int64_t kernels = inspection.selected_kernels()->out_channels;
    CHECK(inspection.request_response(0, layer, kernels, -1, false) == nullptr);
    inspection.do_work(std::chrono::milliseconds(1000));
    const Map2D* failed = inspection.request_response(0, layer, kernels, -1, false);
    REQUIRE(failed != nullptr);
    CHECK(failed->values.empty());
    CHECK(inspection.queued() == 0);
    CHECK(inspection.compute_error().find("output channel") != std::string::npos);
}

TEST_CASE("inspection queue: new settings cancel queued work and drop results", "[ui][inspection]") {
    AppState app;
    load_demo_samples(app);
    app.open_file("fashion_small.h5", file_bytes(demo_model));
    Inspection& inspection = app.inspection();
    const int layer = inspection.selected_layer();
    inspection.request_response(0, layer, 0, -1, false);
    inspection.do_work(std::chrono::milliseconds(1000));
    const Map2D* before = inspection.request_response(0, layer, 0, -1, false);
    REQUIRE(before != nullptr);
    const std::vector<float> plain = before->values;
    inspection.request_response(0, layer, 1, -1, false);
    inspection.request_prediction(1);
    REQUIRE(inspection.queued() == 2);

    const uint64_t generation = inspection.results_generation();
    Preprocessing inverted = *inspection.preprocessing();
    inverted.invert = !inverted.invert;
    inspection.set_preprocessing(inverted);
    CHECK(inspection.queued() == 0);                         // cancelled
    CHECK(inspection.results_generation() != generation);
    CHECK(inspection.request_response(0, layer, 0, -1, false) == nullptr);  // dropped, asked again
    inspection.do_work(std::chrono::milliseconds(1000));
    const Map2D* after = inspection.request_response(0, layer, 0, -1, false);
    REQUIRE(after != nullptr);
    CHECK(after->values != plain);  // computed from the inverted picture

    // The test hook's JSON reads the same state.
    nlohmann::json hook = nlohmann::json::parse(inspection_to_json(inspection));
    CHECK(hook["preprocessing"]["invert"].get<bool>() == inverted.invert);
    CHECK(hook["busy"].get<bool>() == inspection.busy());
    CHECK(apply_inspect_command(inspection, R"({"kernel": 3, "layer": "no such layer"})").find("no layer") != std::string::npos);
    CHECK(apply_inspect_command(inspection, R"({"kernel": 3})").empty());
    CHECK(inspection.kernel() == 3);
    CHECK(apply_inspect_command(inspection, "[1]").find("expected a JSON object") != std::string::npos);
}

TEST_CASE("explanations are spread over frames and equal the core's one-shot results", "[ui][explanations]") {
    AppState app;
    load_demo_samples(app);
    app.open_file("fashion_small.h5", file_bytes(demo_model));
    Explanations& explanations = app.explanations();
    // Nothing runs until something asks.
    for (int i = 0; i < 5; ++i) app.begin_frame();
    CHECK_FALSE(explanations.active());
    CHECK(explanations.completed() == 0);

    explanations.activate();
    const int frames = run_explanations(app);
    REQUIRE(explanations.completed() == explain_method_count);
    REQUIRE(explanations.error().empty());
    CHECK(frames > 1);
    const MethodResult& ig = explanations.result(ExplainMethod::integrated_gradients);
    const MethodResult& occ = explanations.result(ExplainMethod::occlusion);
    const MethodResult& sg = explanations.result(ExplainMethod::smoothgrad);
    for (int m = 0; m < explain_method_count; ++m) {
        INFO(method_id(static_cast<ExplainMethod>(m)));
        CHECK(explanations.result(static_cast<ExplainMethod>(m)).error.empty());
        CHECK(explanations.result(static_cast<ExplainMethod>(m)).progress == 1.0f);
    }
    // IG (32 steps, 4 a frame) and occlusion (49 windows, 8 a frame) take several frames.
    CHECK(ig.frames == 8);
    CHECK(occ.frames == 7);
    CHECK(sg.frames == 8);

    // The same maps from the core's one-shot functions, as the CLI runs them.
    Inspection& inspection = app.inspection();
    const Tensor input = batch_one(*inspection.request_input(inspection.current_image()));
    GradientEngine gradients = GradientEngine::build(*inspection.model(), *inspection.engine());
    const Target target = Target::class_score(explanations.explained_class());
    REQUIRE(explanations.explained_class() >= 0);
    CHECK(integrated_gradients(gradients, input, target).map.to_float_vector() == ig.map.values);
    CHECK(smoothgrad(gradients, input, target).map.to_float_vector() == sg.map.values);
    OcclusionOptions occlusion_options;
    occlusion_options.batch = 8;  // the app's batch per frame
    CHECK(occlusion(gradients, input, explanations.explained_class(), occlusion_options).map.to_float_vector() == occ.map.values);
    CHECK(saliency(gradients, input, target).map.to_float_vector() == explanations.result(ExplainMethod::saliency).map.values);

    nlohmann::json hook = nlohmann::json::parse(explanations_to_json(explanations));
    CHECK(hook["completed"].get<int>() == explain_method_count);
    CHECK(hook["methods"]["ig"]["frames"].get<int>() == 8);
    CHECK(hook["methods"]["ig"]["values"].size() == ig.map.values.size());

    // A new setting drops the results and computes them again.
    ExplainSettings settings = explanations.settings();
    settings.ig_steps = 8;
    explanations.set_settings(settings);
    app.begin_frame();
    CHECK(explanations.completed() < explain_method_count);
    run_explanations(app);
    IntegratedGradientsOptions eight;
    eight.steps = 8;
    CHECK(integrated_gradients(gradients, input, target, eight).map.to_float_vector() ==
          explanations.result(ExplainMethod::integrated_gradients).map.values);
}

TEST_CASE("filter visualisation forms over frames and stops on request", "[ui][explanations]") {
    AppState app;
    load_demo_samples(app);
    app.open_file("fashion_small.h5", file_bytes(demo_model));
    Explanations& explanations = app.explanations();
    REQUIRE(apply_inspect_command(app.inspection(), "{}").empty());
    REQUIRE(apply_explain_command(explanations, R"({"filter": {"layer": "conv2d_1", "channel": 0, "steps": 12}})").empty());
    app.begin_frame();
    CHECK(explanations.filter().running);
    CHECK(explanations.filter().step >= 1);
    CHECK(explanations.filter().step < 12);
    for (int i = 0; i < 50 && explanations.filter().running; ++i) app.begin_frame();
    CHECK_FALSE(explanations.filter().running);
    CHECK(explanations.filter().step == 12);
    CHECK(explanations.filter().error.empty());
    CHECK(explanations.filter().objective > explanations.filter().initial_objective);
    CHECK(explanations.filter().picture.values.size() == 28u * 28u);

    explanations.start_filter("conv2d_1", 1, 1000);
    app.begin_frame();
    const int reached = explanations.filter().step;
    explanations.stop_filter();
    for (int i = 0; i < 3; ++i) app.begin_frame();
    CHECK(explanations.filter().step == reached);
}

TEST_CASE("a second model load starts every cache over, also for the same file", "[ui][generation]") {
    AppState app;
    load_demo_samples(app);
    Inspection& inspection = app.inspection();
    Explanations& explanations = app.explanations();
    explanations.activate();
    app.open_file("fashion_small.h5", file_bytes(demo_model));
    const uint64_t first_generation = inspection.model_generation();
    run_explanations(app);
    REQUIRE(explanations.completed() == explain_method_count);
    const std::vector<float> first_ig = explanations.result(ExplainMethod::integrated_gradients).map.values;
    const int layer = inspection.selected_layer();
    inspection.request_response(0, layer, 0, -1, false);
    inspection.do_work(std::chrono::milliseconds(1000));
    REQUIRE(inspection.request_response(0, layer, 0, -1, false) != nullptr);

    // The same bytes again: a new Model (maybe at the old address), so a
    // new generation, and nothing computed for the old one survives.
    app.open_file("fashion_small.h5", file_bytes(demo_model));
    CHECK(inspection.model_generation() != first_generation);
    CHECK(inspection.request_response(0, layer, 0, -1, false) == nullptr);
    app.begin_frame();
    CHECK(explanations.completed() < explain_method_count);
    run_explanations(app);
    REQUIRE(explanations.completed() == explain_method_count);
    // Same model and image: the recomputed map is the same.
    CHECK(explanations.result(ExplainMethod::integrated_gradients).map.values == first_ig);

    // A different model: its own results (the ONNX twin, NCHW).
    const uint64_t second_generation = inspection.model_generation();
    app.open_file("fashion_small.onnx", file_bytes(other_model));
    REQUIRE(app.error().empty());
    CHECK(inspection.model_generation() != second_generation);
    app.begin_frame();
    CHECK(explanations.completed() < explain_method_count);
    run_explanations(app);
    CHECK(explanations.completed() == explain_method_count);
    CHECK(explanations.error().empty());
    // A failed load keeps the model and its generation.
    const uint64_t third_generation = inspection.model_generation();
    app.open_file("broken.onnx", std::make_shared<std::vector<uint8_t>>(std::vector<uint8_t>{1, 2, 3, 4}));
    CHECK_FALSE(app.error().empty());
    CHECK(inspection.model_generation() == third_generation);
}
