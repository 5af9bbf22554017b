// Nested Keras models flattened by the reader: fixtures from
// scripts/make_keras_layout_fixtures.py, outputs computed there by PyTorch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/engine/engine.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

const std::string layouts = CONVSCOPE_SOURCE_DIR "/tests/fixtures/keras/layouts/";

nlohmann::json expected_of(const std::string& name) {
    std::ifstream in(layouts + name + ".expected.json");
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

Tensor load(const std::string& name) { return npy::read_file(layouts + name).to_float32(); }

// Within 1e-4 of the output range, the house rule for framework numbers.
void require_close_to_range(const Tensor& got, const Tensor& want) {
    REQUIRE(got.shape() == want.shape());
    std::vector<float> g = got.to_float_vector(), w = want.to_float_vector();
    auto [low, high] = std::minmax_element(w.begin(), w.end());
    float tolerance = 1e-4f * std::max(1.0f, *high - *low);
    for (size_t i = 0; i < w.size(); ++i) {
        INFO("element " << i << ": got " << g[i] << ", PyTorch " << w[i]);
        REQUIRE(std::fabs(g[i] - w[i]) <= tolerance);
    }
}

Model open_case(const nlohmann::json& expected) {
    std::string file = expected["file"].get<std::string>();
    Model model = open_model(read_file_bytes(layouts + file), file);
    CHECK(model.format_name() == expected["format"].get<std::string>());
    CHECK(model.has_architecture);
    std::vector<std::string> names;
    for (const Layer& layer : model.layers) {
        if (layer.type != "InputLayer") names.push_back(layer.name);
        INFO("layer " << layer.name);
        CHECK(layer.unsupported_reason.empty());
    }
    CHECK(names == expected["layers"].get<std::vector<std::string>>());
    for (auto it = expected["groups"].begin(); it != expected["groups"].end(); ++it) {
        const Layer* layer = model.find_layer(it.key());
        REQUIRE(layer != nullptr);
        CHECK(layer->attribute_string("nested_group", "") == it.value().get<std::string>());
    }
    CHECK(model.total_parameters() == expected["total_params"].get<uint64_t>());
    for (const std::string& warning : model.warnings) CHECK_THAT(warning, !Catch::Contains("not run"));
    return model;
}

}  // namespace

TEST_CASE("Keras Teachable Machine model (Sequential > Sequential > Functional, flat weights) opens and runs",
          "[keras][nested]") {
    nlohmann::json expected = expected_of("tm_keras_model");
    Model model = open_case(expected);
    // Every inner layer holds its own weights, found in the flat group.
    const Layer* conv = model.find_layer("sequential_1/model1/Conv1");
    REQUIRE(conv != nullptr);
    REQUIRE(conv->weights.size() == 1);
    CHECK(conv->weights[0].tensor.shape() == Shape{3, 3, 3, 4});
    const Layer* bn = model.find_layer("sequential_1/model1/bn_Conv1");
    REQUIRE(bn != nullptr);
    CHECK(bn->weights.size() == 4);
    Engine engine = Engine::build(model);
    RunResult result = engine.run(load("tm_keras_model_in.npy"));
    REQUIRE(result.outputs.count(expected["output"].get<std::string>()) == 1);
    require_close_to_range(result.outputs.at(expected["output"].get<std::string>()), load("tm_keras_model_out.npy"));
}

TEST_CASE("Keras shared nested model: the second call borrows the first call's weights", "[keras][nested]") {
    nlohmann::json expected = expected_of("shared_nested");
    Model model = open_case(expected);
    const Layer* copy = model.find_layer("encoder#1/enc_conv");
    REQUIRE(copy != nullptr);
    CHECK(copy->weights.empty());
    CHECK(copy->attribute_string("shares_weights_with", "") == "encoder/enc_conv");
    CHECK(model.find_layer("encoder/enc_conv")->weights.size() == 2);
    Engine engine = Engine::build(model);
    RunResult result = engine.run({{"left", load("shared_nested_in.npy")}, {"right", load("shared_nested_right.npy")}}, {});
    REQUIRE(result.outputs.count("sum") == 1);
    require_close_to_range(result.outputs.at("sum"), load("shared_nested_out.npy"));
}

TEST_CASE("Keras 3 .keras nested two levels deep: variables under layers/<outer>/layers/<inner>", "[keras][nested]") {
    nlohmann::json expected = expected_of("deep_nested");
    Model model = open_case(expected);
    const Layer* bn = model.find_layer("backbone/block/block_bn");
    REQUIRE(bn != nullptr);
    REQUIRE(bn->weights.size() == 4);
    CHECK(bn->weights[2].name == "backbone/block/block_bn/moving_mean");
    Engine engine = Engine::build(model);
    RunResult result = engine.run(load("deep_nested_in.npy"));
    REQUIRE(result.outputs.count("classes") == 1);
    require_close_to_range(result.outputs.at("classes"), load("deep_nested_out.npy"));
}

TEST_CASE("tf.keras 2.13 .keras: weights under _layer_checkpoint_dependencies with skipped key numbers",
          "[keras][layouts]") {
    nlohmann::json expected = expected_of("tf213");
    Model model = open_case(expected);
    CHECK(model.producer_version == "2.13.1");
    const Layer* logits = model.find_layer("logits");
    REQUIRE(logits != nullptr);
    REQUIRE(logits->weights.size() == 2);
    CHECK(logits->weights[0].tensor.shape() == Shape{4, 2});
    Engine engine = Engine::build(model);
    require_close_to_range(engine.run(load("tf213_in.npy")).outputs.at("logits"), load("tf213_out.npy"));

    // The same store saved alone (model.save_weights("x.weights.h5")).
    Model weights = open_model(read_file_bytes(layouts + "tf213.weights.h5"), "tf213.weights.h5");
    CHECK_FALSE(weights.has_architecture);
    CHECK(weights.total_parameters() == expected["total_params"].get<uint64_t>());
    const Layer* dense_2 = weights.find_layer("dense_2");
    REQUIRE(dense_2 != nullptr);
    CHECK(dense_2->weights.size() == 2);
}

TEST_CASE("Keras 3 .keras saved on Windows: backslashes inside group names", "[keras][layouts]") {
    nlohmann::json expected = expected_of("windows");
    Model model = open_case(expected);
    const Layer* conv = model.find_layer("features/conv");
    REQUIRE(conv != nullptr);
    REQUIRE(conv->weights.size() == 2);
    CHECK(conv->weights[0].name == "features/conv/kernel");
    Engine engine = Engine::build(model);
    require_close_to_range(engine.run(load("windows_in.npy")).outputs.at("logits"), load("windows_out.npy"));
}

TEST_CASE("Keras 3 subclassed model: every weight array shown by path, architecture not stored said once",
          "[keras][layouts]") {
    nlohmann::json expected = expected_of("subclassed");
    Model model = open_model(read_file_bytes(layouts + "subclassed.keras"), "subclassed.keras");
    CHECK_FALSE(model.has_architecture);
    size_t notes = 0;
    for (const std::string& warning : model.warnings) notes += warning.find("architecture not stored") != std::string::npos;
    CHECK(notes == 1);
    CHECK(model.total_parameters() == expected["total_params"].get<uint64_t>());  // optimizer state left out
    REQUIRE(model.layers.size() == expected["layers"].size());
    for (auto it = expected["layers"].begin(); it != expected["layers"].end(); ++it) {
        INFO("layer " << it.key());
        const Layer* layer = model.find_layer(it.key());
        REQUIRE(layer != nullptr);
        CHECK(layer->type == it.value()["type"].get<std::string>());
        CHECK(layer->attribute_string("nested_group", "") == it.value()["group"].get<std::string>());
        std::vector<std::string> names;
        for (const Weight& weight : layer->weights) names.push_back(weight.name);
        CHECK(names == it.value()["weights"].get<std::vector<std::string>>());
        CHECK_FALSE(layer->unsupported_reason.empty());
    }
    // The conv kernels are 4-D, as the kernel views need.
    CHECK(model.find_layer("conv1")->weight("kernel")->tensor.rank() == 4);
}
