// Kernel responses through whole models (the corpus files, read-only in
// ../shared/corpus): a kernel's response plus its bias, through the layer's
// activation, must be the layer's real output channel; per-channel
// responses must sum to the full one. Also the bundled sample sprite.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/engine/engine.h"
#include "core/formats/registry.h"
#include "core/inspect/kernels.h"
#include "core/inspect/preprocess.h"
#include "core/inspect/response.h"
#include "core/inspect/samples.h"

using namespace convscope;

namespace {

const char* const corpus_keras = CONVSCOPE_SOURCE_DIR "/../shared/corpus/Aman-21k_cnn-fashion-mnist-classifier__model.keras";
const char* const corpus_onnx = CONVSCOPE_SOURCE_DIR "/../shared/corpus/Baskov_PyTorch-__mnist-8.onnx";

// A deterministic 28x28 picture with edges in both directions: a bright
// rectangle with a diagonal ramp inside.
Tensor test_picture() {
    std::vector<float> pixels(28 * 28, 0.0f);
    for (int y = 6; y < 22; ++y)
        for (int x = 9; x < 20; ++x) pixels[static_cast<size_t>(y * 28 + x)] = static_cast<float>(120 + 5 * ((x + y) % 20));
    return Tensor::from_floats({28, 28, 1}, pixels);
}

float apply_activation(const std::string& activation, float value) {
    if (activation == "relu") return std::max(0.0f, value);
    return value;
}

// response + bias through the activation == the real output channel.
void check_layer(const Model& model, const Engine& engine, const std::string& layer_name, const std::string& activation,
                 const Tensor& input) {
    const Layer* layer = model.find_layer(layer_name);
    REQUIRE(layer);
    auto kernels = conv_kernels(model, *layer);
    REQUIRE(kernels);
    for (int64_t k : {int64_t{0}, int64_t{1}, kernels->out_channels - 1}) {
        Tensor response = kernel_response_for_input(engine, model, *layer, input, k, -1);
        Tensor output = layer_output_channel(engine, model, *layer, input, k);
        REQUIRE(response.shape() == output.shape());
        const float bias = static_cast<float>(kernels->bias_value(k));
        double largest = 0.0;
        for (uint64_t i = 0; i < response.element_count(); ++i) {
            const float expected = apply_activation(activation, response.f32()[i] + bias);
            REQUIRE(std::fabs(output.f32()[i] - expected) <= 1e-4f * std::max(1.0f, std::fabs(expected)));
            largest = std::max(largest, std::fabs(static_cast<double>(response.f32()[i])));
        }
        CHECK(largest > 0.0);  // the picture's edges must excite every tested kernel
        // Per-input-channel responses sum to the full response.
        Tensor activation_in = layer_input_activation(engine, model, *layer, input);
        std::vector<float> summed(response.element_count(), 0.0f);
        for (int64_t c = 0; c < kernels->in_channels; ++c) {
            Tensor part = kernel_response_from_activation(model, *layer, activation_in, k, c);
            for (size_t i = 0; i < summed.size(); ++i) summed[i] += part.f32()[i];
        }
        for (size_t i = 0; i < summed.size(); ++i) {
            REQUIRE(std::fabs(summed[i] - response.f32()[i]) <= 1e-4f * std::max(1.0f, std::fabs(response.f32()[i])));
        }
    }
}

}  // namespace

TEST_CASE("response: Keras corpus model, first and second convolution", "[inspect][response]") {
    Model model = open_model(read_file_bytes(corpus_keras), corpus_keras);
    Engine engine = Engine::build(model);
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    Tensor input = preprocess_image(test_picture(), settings);
    REQUIRE(input.shape() == Shape{1, 28, 28, 1});
    // Both convolutions of this file use ReLU (config.json: "activation": "relu").
    REQUIRE(model.find_layer("conv2d")->config_json.find("\"relu\"") != std::string::npos);
    check_layer(model, engine, "conv2d", "relu", input);
    check_layer(model, engine, "conv2d_1", "relu", input);
    // The first layer reads the picture itself.
    Tensor first_input = layer_input_activation(engine, model, *model.find_layer("conv2d"), input);
    CHECK(first_input.raw() == input.raw());
    CHECK_THROWS_WITH(layer_output_channel(engine, model, *model.find_layer("conv2d"), input, 32), Catch::Contains("0..31"));
}

TEST_CASE("response: ONNX corpus model with padding, deeper layer reads the pooled maps", "[inspect][response]") {
    Model model = open_model(read_file_bytes(corpus_onnx), corpus_onnx);
    Engine engine = Engine::build(model);
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    Tensor input = preprocess_image(test_picture(), settings);
    REQUIRE(input.shape() == Shape{1, 1, 28, 28});
    // ONNX Conv nodes carry no activation (the Relu is its own node).
    check_layer(model, engine, "/conv1/Conv", "linear", input);
    check_layer(model, engine, "/conv2/Conv", "linear", input);
    CHECK(kernel_response_for_input(engine, model, *model.find_layer("/conv1/Conv"), input, 0, -1).shape() == Shape{28, 28});
}

TEST_CASE("samples: the bundled Fashion-MNIST sprite and its description", "[inspect][samples]") {
    SampleSet set = load_sample_set_file(CONVSCOPE_SOURCE_DIR "/assets/images/fashion_samples.json");
    CHECK(set.count == 1000);
    CHECK(set.tile_width == 28);
    CHECK(set.tile_height == 28);
    REQUIRE(set.labels.size() == 1000);
    REQUIRE(set.class_names.size() == 10);
    CHECK(set.class_names[0] == "T-shirt/top");
    CHECK(set.class_names[9] == "Ankle boot");
    // Grouped by class, 100 of each (assets/README.md).
    CHECK(set.first_of_class(9) == 900);
    CHECK(set.labels[899] == 8);
    Tensor tile = set.tile(999);
    REQUIRE(tile.shape() == Shape{28, 28, 1});
    double sum = 0.0;
    for (uint64_t i = 0; i < tile.element_count(); ++i) sum += tile.f32()[i];
    CHECK(sum > 0.0);
    CHECK_THROWS_WITH(set.tile(1000), Catch::Contains("0..999"));
}

TEST_CASE("samples: malformed descriptions are refused with the JSON key", "[inspect][samples]") {
    const std::string json = R"({"tile_width": 2, "tile_height": 2, "columns": 2, "count": 3, "labels": [0, 1]})";
    const uint8_t not_png[] = {1, 2, 3};
    CHECK_THROWS_WITH(load_sample_set(ByteSpan(reinterpret_cast<const uint8_t*>(json.data()), json.size()),
                                      ByteSpan(not_png, 3), "s.json"),
                      Catch::Contains("/labels") && Catch::Contains("3 labels"));
    const std::string bad_width = R"({"tile_width": -2})";
    CHECK_THROWS_WITH(load_sample_set(ByteSpan(reinterpret_cast<const uint8_t*>(bad_width.data()), bad_width.size()),
                                      ByteSpan(not_png, 3), "s.json"),
                      Catch::Contains("/tile_width") && Catch::Contains("-2"));
}
