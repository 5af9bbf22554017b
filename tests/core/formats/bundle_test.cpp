// Several files resolved into one model (core/formats/bundle.h); fixtures
// from scripts/make_keras_layout_fixtures.py, outputs computed there by
// PyTorch from the same weights.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/bundle.h"
#include "core/formats/npy.h"

using namespace convscope;

namespace {

const std::string layouts = CONVSCOPE_SOURCE_DIR "/tests/fixtures/keras/layouts/";

NamedFile file(const std::string& relative) { return {relative, read_file_bytes(layouts + relative)}; }

Tensor load(const std::string& relative) { return npy::read_file(layouts + relative).to_float32(); }

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

void require_runs(const Model& model, const std::string& folder, const std::string& output) {
    for (const Layer& layer : model.layers) {
        INFO("layer " << layer.name);
        CHECK(layer.unsupported_reason.empty());
    }
    Engine engine = Engine::build(model);
    RunResult result = engine.run(load(folder + "/in.npy"));
    REQUIRE(result.outputs.count(output) == 1);
    require_close_to_range(result.outputs.at(output), load(folder + "/out.npy"));
}

template <typename Action>
std::string error_of(Action action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    FAIL("expected an error");
    return "";
}

}  // namespace

TEST_CASE("bundle: model.to_json() + save_weights .h5, plain and double-encoded", "[bundle][keras]") {
    for (const char* json : {"json_h5/model.json", "json_h5/model_string.json"}) {
        INFO(json);
        Model model = open_model_bundle({file(json), file("json_h5/weights.h5")});
        CHECK(model.has_architecture);
        CHECK(model.format == ModelFormat::keras_json);
        CHECK_THAT(model.metadata["bundle"], Catch::Contains("architecture from model") &&
                                                 Catch::Contains("weights from weights.h5"));
        CHECK(model.find_layer("conv2d")->weights.size() == 2);
        require_runs(model, "json_h5", "logits");
    }
    // The architecture alone names what is missing.
    CHECK_THAT(error_of([] { open_model_bundle({file("json_h5/model.json")}); }),
               Catch::Contains("model.json is an architecture without weights"));
}

TEST_CASE("bundle: TensorFlow.js layers model in two shards", "[bundle][tfjs]") {
    Model model = open_model_bundle({file("tfjs/model.json"), file("tfjs/group1-shard1of2.bin"),
                                     file("tfjs/group1-shard2of2.bin")});
    CHECK(model.format == ModelFormat::tfjs_layers);
    CHECK(model.metadata["tfjs_convertedBy"] == "TensorFlow.js Converter v3.18.0");
    require_runs(model, "tfjs", "logits");
    CHECK_THAT(error_of([] { open_model_bundle({file("tfjs/model.json"), file("tfjs/group1-shard1of2.bin")}); }),
               Catch::Equals("model.json names group1-shard2of2.bin, which was not given"));
}

TEST_CASE("bundle: Teachable Machine's tfjs export (nested, flat weight names) runs", "[bundle][tfjs][nested]") {
    Model model = open_model_bundle({file("tfjs_tm/model.json"), file("tfjs_tm/group1-shard1of1.bin")});
    REQUIRE(model.find_layer("sequential_1/model1/Conv1") != nullptr);
    CHECK(model.find_layer("sequential_1/model1/Conv1")->weights.size() == 1);
    CHECK(model.find_layer("sequential_1/model1/bn_Conv1")->weights.size() == 4);
    require_runs(model, "tfjs_tm", "sequential_3/dense_Dense2");
}

TEST_CASE("bundle: Teachable Machine converted_keras.zip gives the model and its class names", "[bundle][keras]") {
    Model model = open_model_bundle({file("converted_keras.zip")});
    CHECK(model.format == ModelFormat::keras_h5);
    CHECK(model.metadata["class_names"] == "cat\ndog\nbird");
    CHECK_THAT(model.metadata["bundle"], Catch::Contains("class names from labels.txt"));
    REQUIRE(model.find_layer("sequential_1/model1/out_relu") != nullptr);
    // The same through the path API: a .zip as one argument, and a folder.
    Model again = open_model_files({layouts + "converted_keras.zip"});
    CHECK(again.metadata["class_names"] == model.metadata["class_names"]);
    Model folder = open_model_files({layouts + "tfjs"});
    CHECK(folder.format == ModelFormat::tfjs_layers);
    Model pair = open_model_files({layouts + "json_h5/model.json", layouts + "json_h5/weights.h5"});
    CHECK(pair.format == ModelFormat::keras_json);
}

TEST_CASE("registry: model.json alone opens its architecture and names the shards not given", "[bundle][tfjs]") {
    Model model = open_model(read_file_bytes(layouts + "tfjs/model.json"), "model.json");
    CHECK(model.format == ModelFormat::tfjs_layers);
    CHECK(model.has_architecture);
    REQUIRE(model.find_layer("logits") != nullptr);
    CHECK(model.find_layer("logits")->weights.empty());
    bool named = false;
    for (const std::string& warning : model.warnings) {
        named |= warning.find("group1-shard1of2.bin, group1-shard2of2.bin") != std::string::npos;
    }
    CHECK(named);
}
