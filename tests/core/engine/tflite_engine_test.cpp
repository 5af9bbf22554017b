// The engine on TFLite files (compile_tflite.cpp): each float fixture of
// scripts/make_tflite_fixtures.py runs on the input the script's numpy
// reference used (sin(0.37 k)) and must give its expected_output within
// 1e-4 of the output range (tests/tools/tflite_runtime_check.mjs holds
// LiteRT.js to the same references); quantized and custom models are
// refused with the operator and the reason.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

std::string fixture_path(const std::string& name) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/tflite/" + name;
}

Model open_tflite_fixture(const std::string& name) {
    return open_model(read_file_bytes(fixture_path(name + ".tflite")), name + ".tflite");
}

nlohmann::json fixture_facts(const std::string& name) {
    std::ifstream in(fixture_path(name + ".json"));
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

// The numpy references' input: sin(0.37 k) in the model's input shape.
Tensor runtime_feed(const Shape& declared) {
    Shape shape = declared;
    for (int64_t& d : shape) d = d < 0 ? 1 : d;
    std::vector<float> values(static_cast<size_t>(shape_element_count(shape)));
    for (size_t k = 0; k < values.size(); ++k) values[k] = std::sin(static_cast<float>(k) * 0.37f);
    return Tensor::from_floats(shape, values);
}

std::string build_error(const std::string& name) {
    Model model = open_tflite_fixture(name);
    try {
        Engine::build(model);
    } catch (const UnsupportedError& error) {
        return error.what();
    }
    return "(built)";
}

}  // namespace

TEST_CASE("tflite engine: float fixtures match their numpy references", "[tflite][engine]") {
    for (const char* name : {"float_cnn", "external_buffers", "float16", "int4", "labels", "float_ops"}) {
        INFO("fixture " << name);
        nlohmann::json facts = fixture_facts(name);
        REQUIRE(facts.contains("expected_output"));
        std::vector<double> expected = facts["expected_output"].get<std::vector<double>>();
        Model model = open_tflite_fixture(name);
        Engine engine = Engine::build(model);
        RunResult result = engine.run(runtime_feed(model.inputs.at(0).shape));
        REQUIRE(result.outputs.size() == 1);
        const Tensor& output = result.outputs.begin()->second;
        REQUIRE(output.element_count() == expected.size());
        auto [low, high] = std::minmax_element(expected.begin(), expected.end());
        const double range = std::max(*high - *low, 1e-6);
        double worst = 0;
        for (size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(output.value_at(i) - expected[i]));
        INFO("max difference " << worst << ", output range " << range);
        CHECK(worst <= 1e-4 * range);
    }
}

TEST_CASE("tflite engine: what cannot run says which operator and why", "[tflite][engine]") {
    std::string int8 = build_error("int8_conv");
    CHECK_THAT(int8, Catch::Contains("(QUANTIZE)") && Catch::Contains("int8 execution is not implemented yet"));
    CHECK_THAT(int8, Catch::Contains("(CONV_2D)"));
    std::string custom = build_error("custom_op");
    CHECK_THAT(custom, Catch::Contains("TFLite operator GELU is not implemented yet"));
    CHECK_THAT(custom, Catch::Contains("custom operator 'TFLite_Detection_PostProcess'"));
    CHECK_THAT(build_error("sparse"), Catch::Contains("sparse tensors are not supported"));
}

TEST_CASE("tflite engine: a float model's layers run one by one", "[tflite][engine]") {
    Model model = open_tflite_fixture("float_cnn");
    Engine engine = Engine::build(model);
    REQUIRE(engine.describe().size() == model.layers.size());
    // The depthwise layer's VALID 3x3 shrinks the 8x8 SAME conv output to 6x6.
    Tensor depthwise = engine.run_until(runtime_feed(model.inputs[0].shape), model.layers[1].name);
    CHECK(depthwise.shape() == Shape{1, 6, 6, 4});
}
