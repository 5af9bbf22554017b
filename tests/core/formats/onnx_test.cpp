// ONNX reader tests: every fixture is compared with the summary the onnx
// Python package wrote next to it (scripts/make_onnx_fixtures.py), so the
// expectations do not come from this reader's own output.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/formats/onnx.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

std::string onnx_fixture(const std::string& name) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/onnx/" + name;
}

const char* corpus_mnist_path() {
    return CONVSCOPE_SOURCE_DIR "/../shared/corpus/Baskov_PyTorch-__mnist-8.onnx";
}

nlohmann::json load_json(const std::string& path) {
    std::ifstream in(path);
    INFO("expectation file " << path);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

Shape json_shape(const nlohmann::json& value) {
    Shape shape;
    if (value.is_null()) return shape;
    for (const auto& dim : value) shape.push_back(dim.get<int64_t>());
    return shape;
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    return "(no error)";
}

const Weight* find_weight(const Model& model, const std::string& name) {
    for (const Layer& layer : model.layers) {
        for (const Weight& weight : layer.weights) {
            if (weight.name == name) return &weight;
        }
    }
    return nullptr;
}

// Compares a model with the onnx package's summary of the same file.
void check_against_summary(const Model& model, const nlohmann::json& expected) {
    CHECK(model.format == ModelFormat::onnx);
    CHECK(model.layout == DataLayout::channels_first);
    CHECK(model.producer == expected["producer_name"].get<std::string>());
    CHECK(model.producer_version == expected["producer_version"].get<std::string>());
    CHECK(model.name == expected["graph_name"].get<std::string>());
    CHECK(model.metadata.at("opset") == expected["opset"].get<std::string>());
    CHECK(model.metadata.at("ir_version") == std::to_string(expected["ir_version"].get<int64_t>()));
    CHECK(model.metadata.at("initializer_parameters") == std::to_string(expected["parameter_total"].get<uint64_t>()));

    const auto& op_types = expected["op_types"];
    REQUIRE(model.layers.size() == expected["node_count"].get<size_t>());
    std::set<std::string> initializer_names;
    for (const auto& initializer : expected["initializers"]) initializer_names.insert(initializer["name"].get<std::string>());
    std::set<std::string> layer_names;
    for (size_t i = 0; i < model.layers.size(); ++i) {
        const Layer& layer = model.layers[i];
        INFO("layer " << i << " " << layer.name);
        CHECK(layer.type == op_types[i].get<std::string>());
        std::string node_name = expected["node_names"][i];
        CHECK(layer.name == (node_name.empty() ? layer.type + "_" + std::to_string(i) : node_name));
        CHECK(layer_names.insert(layer.name).second);
        std::vector<std::string> inputs = expected["node_inputs"][i];
        CHECK(layer.inputs == inputs);
        // Weights: exactly the inputs that are initializers, in input order.
        std::vector<std::string> expected_weights;
        for (const std::string& input : inputs) {
            if (initializer_names.count(input) &&
                std::find(expected_weights.begin(), expected_weights.end(), input) == expected_weights.end()) {
                expected_weights.push_back(input);
            }
        }
        std::vector<std::string> weight_names;
        for (const Weight& weight : layer.weights) weight_names.push_back(weight.name);
        CHECK(weight_names == expected_weights);
        std::string domain = expected["node_domains"][i];
        if (!domain.empty() && domain != "ai.onnx") {
            CHECK(layer.unsupported_reason == "custom operator domain " + domain);
        }
    }

    for (const auto& initializer : expected["initializers"]) {
        std::string name = initializer["name"];
        INFO("initializer " << name);
        const Weight* weight = find_weight(model, name);
        REQUIRE(weight != nullptr);
        CHECK(weight->tensor.shape() == json_shape(initializer["shape"]));
        CHECK(std::string(dtype_name(weight->tensor.dtype())) == initializer["dtype"].get<std::string>());
        CHECK(weight->tensor.element_count() == initializer["count"].get<uint64_t>());
        double sum = 0;
        for (uint64_t k = 0; k < weight->tensor.element_count(); ++k) sum += weight->tensor.value_at(k);
        double expected_sum = initializer["sum"].get<double>();
        CHECK(sum == Approx(expected_sum).margin(1e-5).epsilon(1e-6));
    }

    REQUIRE(model.inputs.size() == expected["inputs"].size());
    for (size_t i = 0; i < model.inputs.size(); ++i) {
        CHECK(model.inputs[i].name == expected["inputs"][i]["name"].get<std::string>());
        CHECK(model.inputs[i].shape == json_shape(expected["inputs"][i]["shape"]));
    }
    REQUIRE(model.outputs.size() == expected["outputs"].size());
    for (size_t i = 0; i < model.outputs.size(); ++i) {
        CHECK(model.outputs[i].name == expected["outputs"][i]["name"].get<std::string>());
        CHECK(model.outputs[i].shape == json_shape(expected["outputs"][i]["shape"]));
    }

    // Output shapes agree with onnx.shape_inference wherever it knows them.
    size_t compared = 0;
    for (const Layer& layer : model.layers) {
        if (layer.outputs.empty() || !expected["output_shapes"].contains(layer.outputs[0])) continue;
        ++compared;
        // Subgraphs (If/Loop) are not read, so their outputs stay unknown.
        if (!layer.unsupported_reason.empty() && layer.output_shape.empty()) continue;
        INFO("output shape of " << layer.name << " (" << layer.type << ")");
        CHECK(layer.output_shape == json_shape(expected["output_shapes"][layer.outputs[0]]));
    }
    CHECK(compared == expected["output_shapes"].size());
}

const std::vector<std::string> good_fixtures = {
    "lenet_opset11", "lenet_opset13", "residual_opset11", "residual_opset13",
    "depthwise_opset9", "depthwise_opset13", "typed_data", "subgraph", "unordered", "shapes"};

}  // namespace

TEST_CASE("ONNX fixtures match the onnx package's summary", "[onnx]") {
    for (const std::string& name : good_fixtures) {
        INFO("fixture " << name);
        FileBytes bytes = read_file_bytes(onnx_fixture(name + ".onnx"));
        CHECK(looks_like_onnx(ByteSpan(bytes->data(), bytes->size())));
        Model model = open_model(bytes, name + ".onnx");  // through the registry
        check_against_summary(model, load_json(onnx_fixture(name + ".json")));
    }
}

TEST_CASE("ONNX IR<4-style files list initializers as inputs; the reader drops them", "[onnx]") {
    nlohmann::json expected = load_json(onnx_fixture("lenet_opset11.json"));
    REQUIRE(expected["initializers_listed_as_inputs"].get<int>() > 0);
    Model model = open_onnx(read_file_bytes(onnx_fixture("lenet_opset11.onnx")), "lenet_opset11.onnx");
    REQUIRE(model.inputs.size() == 1);
    CHECK(model.inputs[0].name == "input");
}

TEST_CASE("ONNX shared initializers are a weight of every layer using them", "[onnx]") {
    nlohmann::json expected = load_json(onnx_fixture("shapes.json"));
    Model model = open_onnx(read_file_bytes(onnx_fixture("shapes.onnx")), "shapes.onnx");
    const Layer* first = model.find_layer("gemm");
    const Layer* second = model.find_layer("gemm_again");
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(first->weight("gemm_w"));
    REQUIRE(second->weight("gemm_w"));
    uint64_t shared = first->weight("gemm_w")->tensor.element_count();
    CHECK(shared == 42);
    // Layers count it each time; the metadata counts each initializer once.
    CHECK(model.total_parameters() == expected["parameter_total"].get<uint64_t>() + shared);
    CHECK(model.metadata.at("initializer_parameters") == std::to_string(expected["parameter_total"].get<uint64_t>()));
    CHECK(second->attribute_float("alpha", 1.0) == 0.5);
}

TEST_CASE("ONNX symbolic dimensions become -1", "[onnx]") {
    Model model = open_onnx(read_file_bytes(onnx_fixture("lenet_opset13.onnx")), "lenet_opset13.onnx");
    REQUIRE(model.inputs.size() == 1);
    CHECK(model.inputs[0].shape == Shape{-1, 1, 17, 17});
    // ceil_mode pooling: (4 - 3) / 2 rounded up, + 1 = 2.
    const Layer* pool = model.find_layer("/pool2/MaxPool");
    REQUIRE(pool);
    CHECK(pool->attribute_int("ceil_mode", 0) == 1);
    CHECK(pool->output_shape == Shape{-1, 8, 2, 2});
}

TEST_CASE("ONNX typed data: every element type, unpacked float_data, constants, custom domain", "[onnx]") {
    Model model = open_onnx(read_file_bytes(onnx_fixture("typed_data.onnx")), "typed_data.onnx");
    const Weight* codes_i8 = find_weight(model, "codes_i8");
    REQUIRE(codes_i8);
    CHECK(codes_i8->tensor.dtype() == DType::i8);
    std::vector<double> i8_values;
    for (uint64_t i = 0; i < codes_i8->tensor.element_count(); ++i) i8_values.push_back(codes_i8->tensor.value_at(i));
    CHECK(i8_values == std::vector<double>{-128, -1, 0, 7, 127});
    const Weight* mask = find_weight(model, "mask_bool");
    REQUIRE(mask);
    CHECK(mask->tensor.dtype() == DType::boolean);
    CHECK(mask->tensor.value_at(1) == 0.0);
    CHECK(mask->tensor.value_at(3) == 1.0);
    const Weight* codes_i32 = find_weight(model, "codes_i32");
    REQUIRE(codes_i32);
    CHECK(codes_i32->tensor.value_at(0) == -70000.0);
    const Weight* f16 = find_weight(model, "scale_f16");
    REQUIRE(f16);
    CHECK(f16->tensor.dtype() == DType::f16);

    const Layer* constant = model.find_layer("fc_weight");
    REQUIRE(constant);
    const AttributeValue* value = constant->attribute("value");
    REQUIRE(value);
    REQUIRE(std::holds_alternative<Tensor>(*value));
    CHECK(std::get<Tensor>(*value).shape() == Shape{32, 3});
    const Layer* offsets = model.find_layer("offsets");
    REQUIRE(offsets);
    CHECK(offsets->attribute("value_floats") != nullptr);

    const Layer* inspect = model.find_layer("inspect");
    REQUIRE(inspect);
    CHECK(inspect->unsupported_reason == "custom operator domain com.example");
    CHECK(inspect->attribute_string("mode", "") == "all");
    const Layer* conv = model.find_layer("conv");
    REQUIRE(conv);
    CHECK(conv->attribute_ints("pads", {}) == std::vector<int64_t>{1, 1, 1, 1});
    CHECK(conv->unsupported_reason.empty());

    nlohmann::json expected = load_json(onnx_fixture("typed_data.json"));
    for (auto& [key, text] : expected["metadata_props"].items()) CHECK(model.metadata.at(key) == text.get<std::string>());
    CHECK(model.metadata.at("model_version") == "7");
    CHECK(model.metadata.at("doc_string") == "typed data fixture");
}

TEST_CASE("ONNX subgraph attributes mark the node unsupported without failing the file", "[onnx]") {
    Model model = open_onnx(read_file_bytes(onnx_fixture("subgraph.onnx")), "subgraph.onnx");
    const Layer* branch = model.find_layer("branch");
    REQUIRE(branch);
    CHECK(branch->unsupported_reason.find("subgraph attributes are not supported") != std::string::npos);
    CHECK(model.find_layer("relu")->unsupported_reason.empty());
    const Layer* labels = model.find_layer("labels");
    REQUIRE(labels);
    CHECK(labels->unsupported_reason.find("STRING") != std::string::npos);
    CHECK(labels->unsupported_reason.find("labels_value") != std::string::npos);
}

TEST_CASE("ONNX graph checks: order and undefined inputs warn, cycles fail", "[onnx]") {
    Model model = open_onnx(read_file_bytes(onnx_fixture("unordered.onnx")), "unordered.onnx");
    std::string warnings;
    for (const std::string& warning : model.warnings) warnings += warning + "\n";
    INFO(warnings);
    CHECK(warnings.find("topological order") != std::string::npos);
    CHECK(warnings.find("'ghost'") != std::string::npos);

    nlohmann::json expected = load_json(onnx_fixture("cycle.json"));
    std::string message = error_of([] { open_onnx(read_file_bytes(onnx_fixture("cycle.onnx")), "cycle.onnx"); });
    CHECK(message.find(expected["error"].get<std::string>()) != std::string::npos);
    CHECK(message.find("'first'") != std::string::npos);
    CHECK(message.find("cycle.onnx") != std::string::npos);
}

TEST_CASE("ONNX external data is refused naming the tensor and its location", "[onnx]") {
    nlohmann::json expected = load_json(onnx_fixture("external_data.json"));
    std::string message = error_of([] {
        open_onnx(read_file_bytes(onnx_fixture("external_data.onnx")), "external_data.onnx");
    });
    CHECK(message.find(expected["error"].get<std::string>()) != std::string::npos);
    CHECK(message.find("'dense_w'") != std::string::npos);
    CHECK(message.find("offset 0x") != std::string::npos);
}

TEST_CASE("ONNX corpus model (mnist, PyTorch export) matches the onnx package", "[onnx]") {
    FileBytes bytes = read_file_bytes(corpus_mnist_path());
    Model model = open_model(bytes, "mnist-8.onnx");
    nlohmann::json expected = load_json(onnx_fixture("corpus_expected.json"));
    check_against_summary(model, expected);
    // No initializer is shared, so per-layer totals equal the file's total.
    CHECK(model.total_parameters() == expected["parameter_total"].get<uint64_t>());
    REQUIRE_FALSE(model.layers.empty());
    CHECK(model.layers.back().output_shape == Shape{-1, 10});
    CHECK(model.warnings.empty());
}

TEST_CASE("looks_like_onnx is cheap, never throws and rejects other formats", "[onnx]") {
    std::vector<uint8_t> empty;
    CHECK_FALSE(looks_like_onnx(ByteSpan(empty.data(), 0)));
    std::vector<uint8_t> hdf5 = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
    CHECK_FALSE(looks_like_onnx(ByteSpan(hdf5.data(), hdf5.size())));
    FileBytes zip = read_file_bytes(std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/zip/stored.zip");
    CHECK_FALSE(looks_like_onnx(ByteSpan(zip->data(), zip->size())));
    // ir_version alone, without a graph, is not enough.
    std::vector<uint8_t> no_graph = {0x08, 0x07, 0x12, 0x02, 'p', 't'};
    CHECK_FALSE(looks_like_onnx(ByteSpan(no_graph.data(), no_graph.size())));
    // ir_version 0 is not a version.
    std::vector<uint8_t> zero_ir = {0x08, 0x00, 0x3a, 0x00};
    CHECK_FALSE(looks_like_onnx(ByteSpan(zero_ir.data(), zero_ir.size())));
    std::vector<uint8_t> minimal = {0x08, 0x07, 0x3a, 0x00};
    CHECK(looks_like_onnx(ByteSpan(minimal.data(), minimal.size())));
    // Every prefix: no throw, no read past the end (checked under ASan).
    FileBytes model = read_file_bytes(onnx_fixture("lenet_opset13.onnx"));
    for (size_t length = 0; length <= 64; ++length) {
        CHECK_NOTHROW(looks_like_onnx(ByteSpan(model->data(), length)));
    }
}

TEST_CASE("ONNX reader survives truncation and byte corruption with FormatError or LimitError", "[onnx]") {
    for (const std::string& name : {"typed_data", "residual_opset13"}) {
        FileBytes whole = read_file_bytes(onnx_fixture(name + ".onnx"));
        size_t refused = 0;
        for (size_t length = 0; length < whole->size(); ++length) {
            auto cut = std::make_shared<const std::vector<uint8_t>>(whole->begin(), whole->begin() + length);
            try {
                open_onnx(cut, name);
            } catch (const Error&) {
                ++refused;
            }
        }
        // Cuts inside the graph (most of the file) must be refused.
        CHECK(refused > whole->size() * 9 / 10);
        size_t opened = 0;
        for (size_t position = 0; position < whole->size(); position += 1) {
            auto bytes = std::make_shared<std::vector<uint8_t>>(*whole);
            (*bytes)[position] ^= static_cast<uint8_t>(0x80 | (position * 37));
            try {
                open_onnx(bytes, name);
                ++opened;
            } catch (const Error&) {
            }
        }
        // Weight bytes are not checksummed, so many flips still open; the
        // point is that none crashes or throws anything but Error.
        CHECK(opened > 0);
    }
}
