// The ONNX compiler's versioned semantics against onnxruntime-web: every
// case in tests/fixtures/onnx_opset/ (scripts/make_onnx_opset_fixtures.py
// writes the models and inputs, scripts/onnx_opset_expected.mjs the outputs
// onnxruntime-web computes) runs through the engine and must agree within
// 1e-4 of the output's range.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/engine/plan.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

const std::string fixtures = CONVSCOPE_SOURCE_DIR "/tests/fixtures/onnx_opset/";

Tensor load(const std::string& name) { return npy::read_file(fixtures + name).to_float32(); }

Model open_case(const std::string& name) {
    return open_model(read_file_bytes(fixtures + name + ".onnx"), name + ".onnx");
}

void require_within_range(const Tensor& got, const Tensor& want, const std::string& what) {
    INFO(what);
    REQUIRE(shape_to_string(got.shape()) == shape_to_string(want.shape()));
    std::vector<float> g = got.to_float_vector(), w = want.to_float_vector();
    REQUIRE(!w.empty());
    auto [low, high] = std::minmax_element(w.begin(), w.end());
    const float range = std::max({*high - *low, std::fabs(*high), std::fabs(*low), 1e-6f});
    for (size_t i = 0; i < w.size(); ++i) {
        INFO("element " << i << ": got " << g[i] << ", onnxruntime-web " << w[i]);
        REQUIRE(std::fabs(g[i] - w[i]) <= 1e-4f * range);
    }
}

nlohmann::json cases() {
    std::ifstream in(fixtures + "cases.json");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

}  // namespace

TEST_CASE("onnx opsets: versioned ops match onnxruntime-web", "[engine][onnx][opset]") {
    nlohmann::json listing = cases();
    REQUIRE(listing["cases"].size() >= 20);
    for (const auto& entry : listing["cases"]) {
        const std::string name = entry["name"];
        INFO("case " << name);
        Model model = open_case(name);
        REQUIRE(model.onnx_opset() == entry["opset"].get<int64_t>());
        Engine engine = Engine::build(model);
        RunResult result = engine.run(load(name + "_in.npy"));
        const auto& outputs = entry["outputs"];
        for (size_t i = 0; i < outputs.size(); ++i) {
            const std::string output = outputs[i];
            REQUIRE(result.outputs.count(output) == 1);
            require_within_range(result.outputs.at(output), load(name + "_out" + std::to_string(i) + ".npy"), name + " " + output);
        }
    }
}

TEST_CASE("onnx opsets: opset-11 Softmax without axis flattens from axis 1", "[engine][onnx][opset]") {
    // The 12 values of each batch item share one softmax: they sum to 1
    // together, not per last-axis row as at opset 13.
    Model model = open_case("softmax_opset11");
    Engine engine = Engine::build(model);
    RunResult result = engine.run(load("softmax_opset11_in.npy"));
    std::vector<float> y = result.outputs.at("y").to_float_vector();
    REQUIRE(y.size() == 12);
    double total = 0, first_row = y[0] + y[1];
    for (float v : y) total += v;
    CHECK(total == Approx(1.0).epsilon(1e-5));
    CHECK(first_row < 0.99);

    Model model13 = open_case("softmax_opset13");
    RunResult result13 = Engine::build(model13).run(load("softmax_opset13_in.npy"));
    std::vector<float> y13 = result13.outputs.at("y").to_float_vector();
    CHECK(y13[0] + y13[1] == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("onnx opsets: the plan step carries the resolved softmax parameters", "[engine][onnx][opset]") {
    Engine engine11 = Engine::build(open_case("softmax_opset11"));
    const auto* p11 = std::get_if<SoftmaxParams>(&engine11.plan_steps().at(0).params);
    REQUIRE(p11);
    CHECK(p11->axis == 1);
    CHECK(p11->flatten_to_2d);
    Engine engine13 = Engine::build(open_case("softmax_opset13"));
    const auto* p13 = std::get_if<SoftmaxParams>(&engine13.plan_steps().at(0).params);
    REQUIRE(p13);
    CHECK(p13->axis == -1);
    CHECK_FALSE(p13->flatten_to_2d);
}

TEST_CASE("onnx opsets: an op outside its opset range is named with domain and opset", "[engine][onnx][opset]") {
    Model model = open_case("softmax_opset13");
    model.layers[0].type = "Resize";
    model.opset_imports[""] = 9;  // Resize starts at opset 10
    try {
        Engine::build(model);
        FAIL("Resize at opset 9 built");
    } catch (const UnsupportedError& error) {
        std::string message = error.what();
        CHECK(message.find("'Resize' (ai.onnx opset 9)") != std::string::npos);
        CHECK(message.find("10, 11+") != std::string::npos);
    }
    model.layers[0].type = "NoSuchOp";
    model.opset_imports[""] = 13;
    try {
        Engine::build(model);
        FAIL("an unknown op built");
    } catch (const UnsupportedError& error) {
        CHECK(std::string(error.what()).find("'NoSuchOp' (ai.onnx opset 13) is not supported") != std::string::npos);
    }
}

TEST_CASE("onnx opsets: axes in the other opset's place are an error, not misread", "[engine][onnx][opset]") {
    Model model = open_case("unsqueeze_attribute_opset11");
    model.opset_imports[""] = 13;  // the attribute form at an opset that takes axes as an input
    try {
        Engine::build(model);
        FAIL("Unsqueeze with an axes attribute at opset 13 built");
    } catch (const UnsupportedError& error) {
        CHECK(std::string(error.what()).find("takes axes as input 1") != std::string::npos);
    }
}

TEST_CASE("onnx opsets: the op table has one row per op and opset", "[engine][onnx][opset]") {
    // Rows read "ai.onnx::Softmax 13+", "ai.onnx::Clip 1-10", "ai.onnx::Resize 10".
    struct Range { std::string op; int64_t low, high; };
    std::vector<Range> ranges;
    for (const std::string& row : onnx_supported_ops()) {
        size_t space = row.rfind(' ');
        REQUIRE(space != std::string::npos);
        std::string op = row.substr(0, space), span = row.substr(space + 1);
        Range range{op, 0, 0};
        if (span.back() == '+') {
            range.low = std::stoll(span.substr(0, span.size() - 1));
            range.high = std::numeric_limits<int64_t>::max();
        } else if (size_t dash = span.find('-'); dash != std::string::npos) {
            range.low = std::stoll(span.substr(0, dash));
            range.high = std::stoll(span.substr(dash + 1));
        } else {
            range.low = range.high = std::stoll(span);
        }
        REQUIRE(range.low <= range.high);
        for (const Range& other : ranges) {
            INFO(row << " against " << other.op << " " << other.low << "-" << other.high);
            CHECK((other.op != op || other.high < range.low || range.high < other.low));
        }
        ranges.push_back(range);
    }
    CHECK(ranges.size() > 60);
}

TEST_CASE("onnx opsets: Split's first output shape is inferred at read time", "[engine][onnx][opset]") {
    CHECK(open_case("split_attribute_opset11").layers.at(0).output_shape == Shape{1, 1, 2, 2});
    CHECK(open_case("split_input_opset13").layers.at(0).output_shape == Shape{1, 2, 2, 2});
    CHECK(open_case("split_equal_opset13").layers.at(0).output_shape == Shape{1, 3, 2, 1});
}
