// Keras readers against fixtures written by scripts/make_keras_fixtures.py
// (expectations computed there from the weights and Keras's shape rules)
// and against the real files in /work/shared/corpus.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/base/error.h"
#include "core/formats/keras.h"
#include "core/formats/registry.h"
#include "core/model/summary.h"

using namespace convscope;
using Json = nlohmann::json;

namespace {

std::string keras_fixture(const std::string& name) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/keras/" + name;
}

Json load_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    return Json::parse(text.str());
}

Shape expected_shape(const Json& value) {
    Shape shape;
    for (const Json& dim : value) shape.push_back(dim.is_null() ? -1 : dim.get<int64_t>());
    return shape;
}

// split_names writes its very long names as "<prefix><fill>".
std::string expand_name(const Json& expected, std::string name) {
    auto fill = expected.find("long_name_fill");
    size_t at = name.find("<fill>");
    if (fill != expected.end() && at != std::string::npos) {
        name.replace(at, 6, std::string((*fill)["count"].get<size_t>(), (*fill)["char"].get<std::string>()[0]));
    }
    return name;
}

void check_attribute(const Layer& layer, const std::string& key, const Json& value) {
    INFO("attribute " << key);
    REQUIRE(layer.attribute(key) != nullptr);
    if (value.is_string()) CHECK(layer.attribute_string(key, "") == value.get<std::string>());
    else if (value.is_number_integer()) CHECK(layer.attribute_int(key, -12345) == value.get<int64_t>());
    else if (value.is_number_float()) CHECK(layer.attribute_float(key, -1.0) == Approx(value.get<double>()));
    else if (value.is_array()) CHECK(layer.attribute_ints(key, {}) == value.get<std::vector<int64_t>>());
}

void check_against_expected(const std::string& file) {
    INFO("fixture " << file);
    Model model = open_model(read_file_bytes(keras_fixture(file)), file);
    Json expected = load_json(keras_fixture(file + ".expected.json"));

    CHECK(model.format_name() == expected["format"].get<std::string>());
    CHECK(model.has_architecture == expected["has_architecture"].get<bool>());
    CHECK(model.layout == DataLayout::channels_last);
    if (expected.contains("producer")) {
        CHECK(model.producer == expected["producer"].get<std::string>());
        CHECK(model.producer_version == expected["producer_version"].get<std::string>());
    }
    if (!model.has_architecture) {
        CHECK_FALSE(model.warnings.empty());
    }

    const Json& layers = expected["layers"];
    REQUIRE(model.layers.size() == layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
        const Json& want = layers[i];
        std::string name = expand_name(expected, want["name"].get<std::string>());
        INFO("layer " << name.substr(0, 40));
        const Layer* layer = model.find_layer(name);
        REQUIRE(layer != nullptr);
        if (expected["ordered"].get<bool>()) CHECK(model.layers[i].name == name);
        CHECK(layer->type == want["type"].get<std::string>());
        if (want["output_shape"].is_null()) CHECK(layer->output_shape.empty());
        else CHECK(layer->output_shape == expected_shape(want["output_shape"]));
        CHECK(layer->parameter_count() == want["params"].get<uint64_t>());
        REQUIRE(layer->weights.size() == want["weights"].size());
        for (size_t w = 0; w < layer->weights.size(); ++w) {
            const Weight& weight = layer->weights[w];
            const Json& want_weight = want["weights"][w];
            INFO("weight " << weight.name);
            CHECK(weight.name == want_weight["name"].get<std::string>());
            CHECK(weight.tensor.shape() == expected_shape(want_weight["shape"]));
            CHECK(std::string(dtype_name(weight.tensor.dtype())) == want_weight["dtype"].get<std::string>());
            double sum = 0;
            for (uint64_t e = 0; e < weight.tensor.element_count(); ++e) sum += weight.tensor.value_at(e);
            CHECK(sum == Approx(want_weight["sum"].get<double>()).epsilon(1e-6).margin(1e-9));
            if (!want_weight["first"].is_null()) CHECK(weight.tensor.value_at(0) == want_weight["first"].get<double>());
        }
        if (want.contains("inputs")) {
            std::vector<std::string> inputs;
            for (const Json& input : want["inputs"]) inputs.push_back(expand_name(expected, input.get<std::string>()));
            CHECK(layer->inputs == inputs);
        }
        if (want.contains("unsupported")) {
            CHECK_THAT(layer->unsupported_reason, Catch::Contains(want["unsupported"].get<std::string>()));
        } else if (model.has_architecture) {
            CHECK(layer->unsupported_reason.empty());
        }
        if (want.contains("implicit")) CHECK(layer->attribute_int("implicit", 0) == 1);
        if (want.contains("group")) CHECK(layer->attribute_string("nested_group", "") == want["group"].get<std::string>());
        if (want.contains("attributes")) {
            for (auto it = want["attributes"].begin(); it != want["attributes"].end(); ++it) {
                check_attribute(*layer, it.key(), it.value());
            }
        }
    }
    if (expected.contains("attributes")) {
        for (auto it = expected["attributes"].begin(); it != expected["attributes"].end(); ++it) {
            const Layer* layer = model.find_layer(it.key());
            REQUIRE(layer != nullptr);
            for (auto a = it.value().begin(); a != it.value().end(); ++a) check_attribute(*layer, a.key(), a.value());
        }
    }

    // Every input a layer names was produced by an earlier layer.
    std::set<std::string> produced;
    for (const Layer& layer : model.layers) {
        for (const std::string& input : layer.inputs) {
            INFO("input " << input.substr(0, 40) << " of " << layer.name.substr(0, 40));
            CHECK(produced.count(input) == 1);
        }
        produced.insert(layer.outputs.begin(), layer.outputs.end());
    }

    auto check_values = [&](const std::vector<ValueInfo>& actual, const Json& want) {
        REQUIRE(actual.size() == want.size());
        for (size_t i = 0; i < actual.size(); ++i) {
            CHECK(actual[i].name == expand_name(expected, want[i]["name"].get<std::string>()));
            if (want[i]["shape"].is_null()) CHECK(actual[i].shape.empty());
            else CHECK(actual[i].shape == expected_shape(want[i]["shape"]));
        }
    };
    check_values(model.inputs, expected["inputs"]);
    check_values(model.outputs, expected["outputs"]);

    ModelSummary summary = summarize(model);
    CHECK(summary.total_params == expected["total_params"].get<uint64_t>());
    CHECK(model.total_parameters() == expected["total_params"].get<uint64_t>());
    REQUIRE(summary.trainable_params.has_value());
    CHECK(*summary.trainable_params == expected["trainable_params"].get<uint64_t>());
    CHECK(*summary.non_trainable_params == expected["non_trainable_params"].get<uint64_t>());
    if (expected.contains("summary_rows")) CHECK(summary.rows.size() == expected["summary_rows"].get<size_t>());
}

template <typename Exception>
std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Exception& error) {
        return error.what();
    }
    FAIL("expected an exception");
    return "";
}

}  // namespace

TEST_CASE("Keras fixtures load with the expected layers, shapes, weights and totals", "[keras]") {
    const char* files[] = {"sequential_k2.h5",   "functional_k2.h5",   "keras3_legacy.h5",   "functional_k3.keras",
                           "sequential_k3.keras", "weights_k1.h5",     "weights_k2.h5",      "weights_k3.weights.h5",
                           "custom_qconv.h5",    "lambda.h5",          "split_names.h5",     "nested_k2.h5",       "nested_k3.keras"};
    for (const char* file : files) {
        SECTION(file) { check_against_expected(file); }
    }
}

TEST_CASE("Keras corpus files match what h5py and json read from them", "[keras][corpus]") {
    Json expected_all = load_json(keras_fixture("corpus_expected.json"));
    for (auto it = expected_all.begin(); it != expected_all.end(); ++it) {
        SECTION(it.key()) {
            const Json& expected = it.value();
            std::string path = std::string(CONVSCOPE_SOURCE_DIR) + "/../shared/corpus/" + it.key();
            Model model = open_model(read_file_bytes(path), it.key());
            CHECK(model.format_name() == expected["format"].get<std::string>());
            CHECK(model.metadata["keras_version"] == expected["keras_version"].get<std::string>());
            CHECK(model.total_parameters() == expected["total_params"].get<uint64_t>());
            for (const Json& want : expected["layers"]) {
                const Layer* layer = model.find_layer(want["name"].get<std::string>());
                INFO("layer " << want["name"].get<std::string>());
                REQUIRE(layer != nullptr);
                CHECK(layer->type == want["type"].get<std::string>());
                CHECK(layer->parameter_count() == want["params"].get<uint64_t>());
                CHECK(layer->unsupported_reason.empty());
            }
            // Both are Sequential CNNs on 28x28x1 images: the chain of
            // shapes must end in the Dense layer's units.
            REQUIRE(!model.outputs.empty());
            CHECK(model.outputs[0].shape == Shape{-1, 10});
            CHECK(model.inputs[0].shape == Shape{-1, 28, 28, 1});
        }
    }
}

TEST_CASE("Keras config shape inference follows Keras's conv_utils rules", "[keras]") {
    // Each case: one layer on a (None, 7, 9, 3) input; expected shapes from
    // conv_output_length / deconv_output_length worked by hand.
    struct Case {
        const char* layer;
        Shape shape;
    };
    const Case cases[] = {
        {R"({"class_name": "Conv2D", "config": {"name": "l", "filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}})", {-1, 4, 5, 5}},
        {R"({"class_name": "Conv2D", "config": {"name": "l", "filters": 5, "kernel_size": [3, 3], "dilation_rate": [2, 2], "padding": "valid"}})", {-1, 3, 5, 5}},
        {R"({"class_name": "Conv2D", "config": {"name": "l", "filters": 4, "kernel_size": [2, 2], "padding": "valid", "data_format": "channels_first"}})", {-1, 4, 8, 2}},
        {R"({"class_name": "Conv2DTranspose", "config": {"name": "l", "filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "output_padding": [1, 0]}})", {-1, 14, 17, 2}},
        {R"({"class_name": "MaxPooling2D", "config": {"name": "l", "pool_size": [2, 2], "strides": null, "padding": "same"}})", {-1, 4, 5, 3}},
        {R"({"class_name": "AveragePooling2D", "config": {"name": "l", "pool_size": [3, 3], "strides": [2, 2], "padding": "valid"}})", {-1, 3, 4, 3}},
        {R"({"class_name": "Cropping2D", "config": {"name": "l", "cropping": [[1, 2], [0, 3]]}})", {-1, 4, 6, 3}},
        {R"({"class_name": "ZeroPadding2D", "config": {"name": "l", "padding": [1, 2]}})", {-1, 9, 13, 3}},
        {R"({"class_name": "UpSampling2D", "config": {"name": "l", "size": [2, 3], "interpolation": "nearest"}})", {-1, 14, 27, 3}},
        {R"({"class_name": "Reshape", "config": {"name": "l", "target_shape": [-1, 3]}})", {-1, 63, 3}},
        {R"({"class_name": "Permute", "config": {"name": "l", "dims": [3, 1, 2]}})", {-1, 3, 7, 9}},
        {R"({"class_name": "GlobalAveragePooling2D", "config": {"name": "l", "keepdims": true}})", {-1, 1, 1, 3}},
        {R"({"class_name": "DepthwiseConv2D", "config": {"name": "l", "kernel_size": [3, 3], "depth_multiplier": 2, "padding": "valid"}})", {-1, 5, 7, 6}},
    };
    for (const Case& c : cases) {
        INFO(c.layer);
        std::string config = std::string(R"({"class_name": "Sequential", "config": {"name": "s", "layers": [)") +
                             R"({"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [null, 7, 9, 3]}}, )" +
                             c.layer + "]}}";
        Model model = keras::model_from_config(config);
        REQUIRE(model.layers.size() == 2);
        CHECK(model.layers[1].output_shape == c.shape);
    }
    // Conv1D with causal padding keeps the length (before striding).
    Model conv1d = keras::model_from_config(
        R"({"class_name": "Sequential", "config": [{"class_name": "Conv1D", "config": {"name": "c", "filters": 4, "kernel_size": 5, "strides": 2, "padding": "causal", "batch_input_shape": [null, 11, 2]}}]})");
    CHECK(conv1d.layers.back().output_shape == Shape{-1, 6, 4});
    CHECK(conv1d.layers.front().name == "c_input");
}

TEST_CASE("Keras 3 functional nodes with nested args and named endpoints", "[keras]") {
    Model model = keras::model_from_config(R"({"class_name": "Functional", "config": {"name": "f", "layers": [
        {"class_name": "InputLayer", "name": "a", "config": {"name": "a", "batch_shape": [null, 4]}, "inbound_nodes": []},
        {"class_name": "InputLayer", "name": "b", "config": {"name": "b", "batch_shape": [null, 4]}, "inbound_nodes": []},
        {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat", "axis": -1}, "inbound_nodes": [
            {"args": [[{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "keras_history": ["a", 0, 0]}},
                       {"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "keras_history": ["b", 0, 0]}}]],
             "kwargs": {}}]}],
        "input_layers": {"x": ["a", 0, 0], "y": ["b", 0, 0]}, "output_layers": ["cat", 0, 0]}})");
    REQUIRE(model.layers.size() == 3);
    CHECK(model.layers[2].inputs == std::vector<std::string>{"a", "b"});
    CHECK(model.layers[2].output_shape == Shape{-1, 8});
    REQUIRE(model.inputs.size() == 2);
    REQUIRE(model.outputs.size() == 1);
    CHECK(model.outputs[0].name == "cat");
}

TEST_CASE("Keras config errors name the JSON path and what was expected", "[keras]") {
    std::string unknown_ref = error_of<FormatError>([] {
        keras::model_from_config(R"({"class_name": "Functional", "config": {"name": "f", "layers": [
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [[["ghost", 0, 0, {}]]]}],
            "input_layers": [], "output_layers": [["d", 0, 0]]}})");
    });
    CHECK_THAT(unknown_ref, Catch::Contains("layers[0].inbound_nodes[0]") && Catch::Contains("ghost"));

    std::string cycle = error_of<FormatError>([] {
        keras::model_from_config(R"({"class_name": "Functional", "config": {"name": "f", "layers": [
            {"class_name": "Dense", "name": "a", "config": {"name": "a", "units": 2}, "inbound_nodes": [[["b", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "b", "config": {"name": "b", "units": 2}, "inbound_nodes": [[["a", 0, 0, {}]]]}],
            "input_layers": [], "output_layers": [["b", 0, 0]]}})");
    });
    CHECK_THAT(cycle, Catch::Contains("cycle"));

    std::string bad_node = error_of<FormatError>([] {
        keras::model_from_config(R"({"class_name": "Functional", "config": {"name": "f", "layers": [
            {"class_name": "InputLayer", "name": "i", "config": {"name": "i", "batch_input_shape": [null, 2]}, "inbound_nodes": []},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2}, "inbound_nodes": [[["i", 3, 0, {}]]]}],
            "input_layers": [["i", 0, 0]], "output_layers": [["d", 0, 0]]}})");
    });
    CHECK_THAT(bad_node, Catch::Contains("node 3") && Catch::Contains("'i'"));

    std::string not_json = error_of<FormatError>([] { keras::model_from_config("{\"class_name\": ", "model_config"); });
    CHECK_THAT(not_json, Catch::Contains("model_config") && Catch::Contains("expected JSON"));

    std::string deep(200, '[');
    std::string too_deep = error_of<LimitError>([&] { keras::model_from_config(deep + std::string(200, ']')); });
    CHECK_THAT(too_deep, Catch::Contains("nested deeper"));

    CHECK_THROWS_AS(keras::model_from_config(R"({"class_name": "MyModel", "config": {"name": "m"}})"), UnsupportedError);
}

TEST_CASE("Keras readers reject broken files with the place they broke", "[keras]") {
    FileBytes good = read_file_bytes(keras_fixture("sequential_k2.h5"));
    auto truncated = std::make_shared<std::vector<uint8_t>>(good->begin(), good->begin() + good->size() / 3);
    CHECK_THROWS_AS(keras::open_h5(truncated, "cut.h5"), FormatError);

    // A .keras whose central directory names config.json is detected; a
    // zip without it is not.
    FileBytes archive = read_file_bytes(keras_fixture("sequential_k3.keras"));
    CHECK(keras::looks_like_keras_v3(ByteSpan(archive->data(), archive->size())));
    std::vector<uint8_t> not_zip = {'P', 'K', 3, 5, 0, 0};
    CHECK_FALSE(keras::looks_like_keras_v3(ByteSpan(not_zip.data(), not_zip.size())));
    auto truncated_zip = std::make_shared<std::vector<uint8_t>>(archive->begin(), archive->end() - 30);
    CHECK_THROWS_AS(keras::open_v3(truncated_zip, "cut.keras"), FormatError);

    // An HDF5 file that is not a Keras file: the ZIP's inner weights file
    // is fine, but a plain h5 without model_config/layer_names/layers is not.
    std::string message = error_of<FormatError>([] {
        FileBytes bytes = read_file_bytes(std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/keras/npy/f32_2x3.npy");
        keras::open_h5(bytes, "array.npy");
    });
    CHECK_FALSE(message.empty());
}

TEST_CASE("Keras Lambda layers keep their bytecode out of attributes", "[keras]") {
    Model model = open_model(read_file_bytes(keras_fixture("lambda.h5")), "lambda.h5");
    const Layer* lambda = model.find_layer("lambda");
    REQUIRE(lambda != nullptr);
    CHECK(lambda->attribute("function") == nullptr);
    CHECK(lambda->attribute_string("function_type", "") == "lambda");
    CHECK_THAT(lambda->config_json, Catch::Contains("4wEAAAAA"));
}

TEST_CASE("snake_case matches keras naming.to_snake_case", "[keras]") {
    CHECK(keras::snake_case("Conv2D") == "conv2d");
    CHECK(keras::snake_case("MaxPooling2D") == "max_pooling2d");
    CHECK(keras::snake_case("BatchNormalization") == "batch_normalization");
    CHECK(keras::snake_case("ReLU") == "re_lu");
    CHECK(keras::snake_case("QConv2D") == "q_conv2d");
    CHECK(keras::snake_case("DepthwiseConv2D") == "depthwise_conv2d");
    CHECK(keras::snake_case("InputLayer") == "input_layer");
}

TEST_CASE("Keras nested models shared at every level are parsed once per level", "[keras]") {
    // Level k is a Functional that calls level k-1 four times; without a
    // per-entry cache this is 4^levels parses.
    std::string model = R"({"class_name": "Sequential", "config": {"name": "leaf", "layers": [)"
                        R"({"class_name": "Dense", "config": {"name": "d", "units": 3, "batch_input_shape": [null, 3]}}]}})";
    const int levels = 18;
    for (int level = 0; level < levels; ++level) {
        std::string calls = R"([["i", 0, 0, {}]], [["i", 0, 0, {}]], [["i", 0, 0, {}]], [["i", 0, 0, {}]])";
        std::string nested = model;
        nested.insert(nested.size() - 1, R"(, "name": "inner", "inbound_nodes": [)" + calls + "]");
        model = R"({"class_name": "Functional", "config": {"name": "level", "layers": [)"
                R"({"class_name": "InputLayer", "name": "i", "config": {"name": "i", "batch_input_shape": [null, 3]}, "inbound_nodes": []}, )" +
                nested + R"(], "input_layers": [["i", 0, 0]], "output_layers": [["inner", 3, 0]]}})";
    }
    auto start = std::chrono::steady_clock::now();
    Model parsed = keras::model_from_config(model);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(seconds < 2.0);
    REQUIRE(parsed.layers.size() == 5);
    CHECK(parsed.layers[4].name == "inner#3");
    CHECK(parsed.layers[4].output_shape == Shape{-1, 3});
}
