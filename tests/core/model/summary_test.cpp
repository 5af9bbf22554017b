// Model summary rows, totals and JSON on hand-built models.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/model/summary.h"

using namespace convscope;

namespace {

Layer make_layer(const std::string& name, const std::string& type, Shape shape,
                 std::vector<std::pair<std::string, Shape>> weights = {}) {
    Layer layer;
    layer.name = name;
    layer.type = type;
    layer.outputs = {name};
    layer.output_shape = std::move(shape);
    for (auto& [weight_name, weight_shape] : weights) {
        layer.weights.push_back({weight_name, Tensor::zeros(DType::f32, weight_shape)});
    }
    return layer;
}

Model keras_like_model() {
    Model model;
    model.format = ModelFormat::keras_h5;
    model.producer = "tf.keras";
    model.producer_version = "2.3.0";
    model.name = "m";
    Layer input = make_layer("in", "InputLayer", {-1, 8, 8, 1});
    input.attributes["implicit"] = int64_t(1);
    model.layers.push_back(input);
    model.layers.push_back(make_layer("conv", "Conv2D", {-1, 6, 6, 4}, {{"conv/kernel:0", {3, 3, 1, 4}}, {"conv/bias:0", {4}}}));
    model.layers.push_back(make_layer("bn", "BatchNormalization", {-1, 6, 6, 4},
                                      {{"bn/gamma:0", {4}}, {"bn/beta:0", {4}}, {"bn/moving_mean:0", {4}},
                                       {"bn/moving_variance:0", {4}}}));
    Layer frozen = make_layer("frozen", "Dense", {}, {{"frozen/kernel:0", {144, 1000}}});
    frozen.attributes["trainable"] = int64_t(0);
    frozen.unsupported_reason = "unsupported layer type X";
    model.layers.push_back(frozen);
    Layer again = make_layer("conv#1", "Conv2D", {-1, 6, 6, 4});
    again.attributes["shares_weights_with"] = std::string("conv");
    model.layers.push_back(again);
    model.inputs.push_back({"in", {-1, 8, 8, 1}, DType::f32});
    model.outputs.push_back({"frozen", {}, DType::f32});
    model.warnings.push_back("something to say");
    return model;
}

}  // namespace

TEST_CASE("summary rows follow model.summary conventions", "[summary]") {
    Model model = keras_like_model();
    ModelSummary summary = summarize(model);
    // The implicit InputLayer and the shared call are not listed.
    REQUIRE(summary.rows.size() == 3);
    CHECK(summary.rows[0].name == "conv");
    CHECK(summary.rows[0].output_shape == "(None, 6, 6, 4)");
    CHECK(summary.rows[0].params == 40);
    CHECK(summary.rows[2].output_shape == "?");
    CHECK(summary.rows[2].note == "unsupported layer type X");
    CHECK(summary.total_params == 40 + 16 + 144000);
    REQUIRE(summary.trainable_params.has_value());
    CHECK(*summary.non_trainable_params == 8 + 144000);
    CHECK(*summary.trainable_params == 48);

    model.format = ModelFormat::onnx;
    CHECK_FALSE(summarize(model).trainable_params.has_value());
}

TEST_CASE("summary text has the table, totals with separators, format and warnings", "[summary]") {
    std::string text = summary_to_text(keras_like_model());
    CHECK_THAT(text, Catch::Contains("conv (Conv2D)"));
    CHECK_THAT(text, Catch::Contains("Total params: 144,056"));
    CHECK_THAT(text, Catch::Contains("Non-trainable params: 144,008"));
    CHECK_THAT(text, Catch::Contains("Format: keras-h5, produced by tf.keras 2.3.0"));
    CHECK_THAT(text, Catch::Contains("warning: something to say"));
    CHECK(text.find("in (InputLayer)") == std::string::npos);
}

TEST_CASE("model_to_json lists every layer with shapes, weights and totals", "[summary]") {
    auto json = nlohmann::json::parse(model_to_json(keras_like_model()));
    CHECK(json["format"] == "keras-h5");
    CHECK(json["producer"] == "tf.keras");
    CHECK(json["producer_version"] == "2.3.0");
    CHECK(json["total_params"] == 144056);
    CHECK(json["non_trainable_params"] == 144008);
    REQUIRE(json["inputs"].size() == 1);
    CHECK(json["inputs"][0]["shape"] == nlohmann::json::parse("[null, 8, 8, 1]"));
    REQUIRE(json["layers"].size() == 5);
    const auto& conv = json["layers"][1];
    CHECK(conv["name"] == "conv");
    CHECK(conv["output_shape"] == nlohmann::json::parse("[null, 6, 6, 4]"));
    CHECK(conv["params"] == 40);
    REQUIRE(conv["weights"].size() == 2);
    CHECK(conv["weights"][0]["name"] == "conv/kernel:0");
    CHECK(conv["weights"][0]["shape"] == nlohmann::json::parse("[3, 3, 1, 4]"));
    CHECK(conv["weights"][0]["dtype"] == "float32");
    CHECK_FALSE(conv.contains("unsupported_reason"));
    const auto& frozen = json["layers"][3];
    CHECK(frozen["output_shape"].is_null());
    CHECK(frozen["unsupported_reason"] == "unsupported layer type X");
    CHECK(json["layers"][4]["attributes"]["shares_weights_with"] == "conv");

    Model odd = keras_like_model();
    odd.layers[1].name = std::string("bad\xff name");
    CHECK_NOTHROW(nlohmann::json::parse(model_to_json(odd)));
}
