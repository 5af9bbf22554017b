// TFLite reader tests: every fixture is compared with the facts the fixture
// script wrote next to it (scripts/make_tflite_fixtures.py: op types, names,
// shapes, weight dtypes and CRC-32 of their bytes), which LiteRT.js also
// loads (tests/tools/tflite_runtime_check.mjs); then damaged copies must fail
// with errors that say where.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/crc32.h"
#include "core/base/error.h"
#include "core/formats/flatbuffers.h"
#include "core/formats/registry.h"
#include "core/formats/tflite.h"
#include "core/formats/tflite_internal.h"
#include "core/formats/zip.h"

using namespace convscope;

namespace {

std::string tflite_fixture(const std::string& name) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/tflite/" + name;
}

nlohmann::json load_facts(const std::string& name) {
    std::ifstream in(tflite_fixture(name + ".json"));
    INFO("facts file for " << name);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

Model open_fixture(const std::string& name) { return open_model(read_file_bytes(tflite_fixture(name + ".tflite")), name); }

Shape json_shape(const nlohmann::json& value) {
    Shape shape;
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

void check_values(const std::vector<ValueInfo>& actual, const nlohmann::json& expected) {
    REQUIRE(actual.size() == expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        CHECK(actual[i].name == expected[i]["name"].get<std::string>());
        CHECK(actual[i].shape == json_shape(expected[i]["shape"]));
        CHECK(std::string(dtype_name(actual[i].dtype)) == expected[i]["dtype"].get<std::string>());
    }
}

void check_against_facts(const std::string& name) {
    INFO("fixture " << name);
    Model model = open_fixture(name);
    nlohmann::json facts = load_facts(name);
    CHECK(model.format == ModelFormat::tflite);
    CHECK(model.layout == DataLayout::channels_last);
    check_values(model.inputs, facts["inputs"]);
    check_values(model.outputs, facts["outputs"]);
    REQUIRE(model.layers.size() == facts["layers"].size());
    for (size_t i = 0; i < model.layers.size(); ++i) {
        const Layer& layer = model.layers[i];
        const nlohmann::json& expected = facts["layers"][i];
        INFO("layer " << i << " " << layer.name);
        CHECK(layer.name == expected["name"].get<std::string>());
        CHECK(layer.type == expected["type"].get<std::string>());
        CHECK(layer.inputs == expected["inputs"].get<std::vector<std::string>>());
        CHECK(layer.outputs == expected["outputs"].get<std::vector<std::string>>());
        CHECK(layer.output_shape == json_shape(expected["output_shape"]));
        // Builtin operators leave "can it run" to the engine (tflite_engine_test.cpp).
        // Only an unreadable (sparse) constant input is the reader's reason.
        if (!expected["custom"].get<bool>() && layer.unsupported_reason.find("sparse") == std::string::npos) {
            CHECK(layer.unsupported_reason.empty());
        }
        // Stored constants come first among the layer's weights, in input order.
        const nlohmann::json& weights = expected["weights"];
        REQUIRE(layer.weights.size() >= weights.size());
        for (size_t w = 0; w < weights.size(); ++w) {
            const Tensor& tensor = layer.weights[w].tensor;
            CHECK(layer.weights[w].name == weights[w]["name"].get<std::string>());
            CHECK(tensor.shape() == json_shape(weights[w]["shape"]));
            CHECK(std::string(dtype_name(tensor.dtype())) == weights[w]["dtype"].get<std::string>());
            REQUIRE(tensor.byte_size() == weights[w]["bytes"].get<size_t>());
            CHECK(crc32(tensor.raw(), tensor.byte_size()) == weights[w]["crc32"].get<uint32_t>());
        }
    }
}

}  // namespace

TEST_CASE("tflite: every fixture matches the facts its script wrote", "[tflite]") {
    for (const char* name : {"float_cnn", "int8_conv", "float16", "custom_op", "sparse", "int4", "labels", "external_buffers"}) {
        check_against_facts(name);
    }
}

TEST_CASE("tflite: magic check and registry", "[tflite]") {
    FileBytes bytes = read_file_bytes(tflite_fixture("float_cnn.tflite"));
    CHECK(looks_like_tflite(ByteSpan(bytes->data(), bytes->size())));
    std::vector<uint8_t> onnx_like = {0x08, 0x07, 0x12, 0x00, 0x3a, 0x00, 0x00, 0x00};
    CHECK_FALSE(looks_like_tflite(ByteSpan(onnx_like.data(), onnx_like.size())));
    CHECK(open_model(bytes, "float_cnn.tflite").format == ModelFormat::tflite);
    CHECK(std::string(tflite_builtin_operator_name(3)) == "CONV_2D");
    CHECK(std::string(tflite_builtin_operator_name(150)) == "GELU");
    CHECK(std::string(tflite_builtin_operator_name(205)) == "REDUCE_WINDOW");
    CHECK(tflite_builtin_operator_name(206) == nullptr);
}

TEST_CASE("tflite: float CNN options, layouts and metadata", "[tflite]") {
    Model model = open_fixture("float_cnn");
    const Layer* conv = model.find_layer("model/conv/Relu");
    REQUIRE(conv);
    CHECK(conv->attribute_string("padding", "") == "SAME");
    CHECK(conv->attribute_string("fused_activation_function", "") == "RELU");
    CHECK(conv->attribute_int("stride_w", 0) == 1);
    CHECK(conv->attribute_int("dilation_h_factor", 0) == 1);
    CHECK(conv->attribute_string("builtin_options", "") == "Conv2DOptions");
    CHECK_THAT(conv->attribute_string("weights_layout", ""), Catch::StartsWith("OHWI"));
    const Layer* depthwise = model.find_layer("model/dw/BiasAdd");
    REQUIRE(depthwise);
    CHECK(depthwise->attribute_string("padding", "") == "VALID");
    CHECK(depthwise->attribute_int("depth_multiplier", 0) == 1);
    CHECK_THAT(depthwise->attribute_string("weights_layout", ""), Catch::StartsWith("1HWC"));
    const Layer* pool = model.find_layer("model/pool/MaxPool");
    REQUIRE(pool);
    CHECK(pool->attribute_int("filter_width", 0) == 2);
    CHECK(pool->attribute_int("stride_h", 0) == 2);
    const Layer* reshape = model.find_layer("model/flatten/Reshape");
    REQUIRE(reshape);
    CHECK(reshape->attribute_ints("new_shape", {}) == std::vector<int64_t>{-1, 36});
    const Layer* softmax = model.find_layer("StatefulPartitionedCall:0");
    REQUIRE(softmax);
    CHECK(softmax->attribute_float("beta", 0.0) == 1.0);
    CHECK(model.metadata.at("min_runtime_version") == "1.14.0");
    CHECK(model.metadata.at("schema_version") == "3");
    CHECK(model.metadata.at("description") == "ConvScope fixture");
    CHECK_THAT(model.metadata.at("signature_defs"), Catch::Contains("serving_default"));
    CHECK_THAT(model.metadata.at("signature_defs"), Catch::Contains("input=tensor 0"));
    CHECK(model.inputs[0].shape == Shape{-1, 8, 8, 1});  // shape_signature: dynamic batch
    CHECK(model.total_parameters() == 40 + 40 + 2 + 185);
}

TEST_CASE("tflite: int8 per-channel quantization is kept beside the integer weights", "[tflite]") {
    Model model = open_fixture("int8_conv");
    const Layer* conv = model.find_layer("conv/Relu");
    REQUIRE(conv);
    REQUIRE(conv->weights.size() == 2);
    CHECK(conv->weights[0].tensor.dtype() == DType::i8);
    CHECK(conv->weights[1].tensor.dtype() == DType::i32);
    const WeightQuantization& filter = conv->weight_quantization.at("conv/filter");
    CHECK(filter.axis == 0);
    REQUIRE(filter.scale.size() == 3);
    CHECK(filter.scale[0] == Approx(0.011f));
    CHECK(filter.scale[2] == Approx(0.0075f));
    CHECK(filter.zero_point == std::vector<int64_t>{0, 0, 0});
    const WeightQuantization& bias = conv->weight_quantization.at("conv/bias");
    CHECK(bias.scale[1] == Approx(0.02f * 0.05f));
    CHECK(conv->attribute_float("output_scale", 0.0) == Approx(0.1));
    CHECK(conv->attribute_int("output_zero_point", 0) == 2);
    CHECK(conv->attribute_int("op_version", 0) == 3);
    const Layer* quantize = model.find_layer("input_int8");
    REQUIRE(quantize);
    CHECK(quantize->type == "QUANTIZE");
    CHECK(quantize->attribute_int("output_zero_point", 0) == -3);
}

TEST_CASE("tflite: float16 weights reach their consumer dequantized", "[tflite]") {
    Model model = open_fixture("float16");
    const Layer* dequantize = model.find_layer("conv/filter");
    REQUIRE(dequantize);
    REQUIRE(dequantize->weights.size() == 1);
    const Tensor& stored = dequantize->weights[0].tensor;
    CHECK(stored.dtype() == DType::f16);
    const Layer* conv = model.find_layer("conv/BiasAdd");
    REQUIRE(conv);
    REQUIRE(conv->weights.size() == 2);
    CHECK(conv->weights[0].name == "conv/filter");
    const Tensor& filter = conv->weights[0].tensor;
    CHECK(filter.dtype() == DType::f32);
    REQUIRE(filter.shape() == stored.shape());
    const uint16_t* halves = reinterpret_cast<const uint16_t*>(stored.raw());
    for (uint64_t i = 0; i < filter.element_count(); ++i) CHECK(filter.f32()[i] == half_to_float(halves[i]));
    const Layer* add = model.find_layer("output");
    REQUIRE(add);
    CHECK(add->attribute_string("fused_activation_function", "") == "RELU6");
}

TEST_CASE("tflite: operator codes, omitted inputs and custom operators", "[tflite]") {
    Model model = open_fixture("custom_op");
    REQUIRE(model.layers.size() == 3);
    CHECK(model.layers[0].type == "FULLY_CONNECTED");  // only the deprecated int8 code set
    CHECK(model.layers[0].inputs.back().empty());      // input -1: the omitted bias
    CHECK(model.layers[1].type == "GELU");              // int8 127, int32 150: the larger wins
    CHECK(model.layers[1].attribute_int("approximate", 0) == 1);
    CHECK(model.layers[2].type == "TFLite_Detection_PostProcess");
    CHECK(model.layers[2].attribute_int("custom_options_bytes", 0) == 5);
    CHECK_THAT(model.layers[2].unsupported_reason, Catch::Contains("custom operator 'TFLite_Detection_PostProcess'"));
}

TEST_CASE("tflite: sparse tensors are refused by name, the rest opens", "[tflite]") {
    Model model = open_fixture("sparse");
    const Layer* densify = model.find_layer("dense/weights");
    REQUIRE(densify);
    CHECK(densify->weights.empty());
    CHECK_THAT(densify->unsupported_reason, Catch::Contains("'sparse/weights'"));
    CHECK_THAT(densify->unsupported_reason, Catch::Contains("sparse tensors are not supported"));
    REQUIRE(model.warnings.size() == 1);
    CHECK_THAT(model.warnings[0], Catch::Contains("sparse tensors are not supported"));
}

TEST_CASE("tflite: labels from the appended archive and the TFLITE_METADATA", "[tflite]") {
    Model model = open_fixture("labels");
    nlohmann::json facts = load_facts("labels");
    std::string labels;
    for (const auto& label : facts["labels"]) labels += (labels.empty() ? "" : "\n") + label.get<std::string>();
    CHECK(model.metadata.at("labels") == labels);
    CHECK(model.metadata.at("labels_file") == "labels.txt");
    CHECK(model.metadata.at("associated_files") == "labels.txt");
    CHECK(model.metadata.at("model_metadata.name") == "Tiny classifier");
    CHECK(model.metadata.at("model_metadata.author") == "ConvScope");
    CHECK(model.metadata.at("model_metadata.min_parser_version") == "1.0.0");
    CHECK(model.warnings.empty());
}

TEST_CASE("tflite: buffers stored after the flatbuffer (offset and size)", "[tflite]") {
    FileBytes bytes = read_file_bytes(tflite_fixture("external_buffers.tflite"));
    Model model = open_model(bytes, "external_buffers.tflite");
    nlohmann::json facts = load_facts("external_buffers");
    size_t external_at = facts["external_data_offset"].get<size_t>();
    size_t external_weights = 0;
    for (const Layer& layer : model.layers) {
        for (const Weight& weight : layer.weights) {
            if (weight.tensor.owns_data()) continue;  // a misaligned view would have been copied
            size_t offset = static_cast<size_t>(weight.tensor.raw() - bytes->data());
            CHECK(offset >= external_at);
            ++external_weights;
        }
    }
    CHECK(external_weights >= 6);
    // A size running past the end of the file is refused with the table path.
    std::vector<uint8_t> cut(bytes->begin(), bytes->end() - 64);
    std::string error = error_of([&] { open_tflite(std::make_shared<std::vector<uint8_t>>(cut), "cut.tflite"); });
    CHECK_THAT(error, Catch::Contains("Model.buffers["));
    CHECK_THAT(error, Catch::Contains("lies past the end of the"));
}

TEST_CASE("tflite: damaged files fail with the table, field and offset", "[tflite]") {
    FileBytes original = read_file_bytes(tflite_fixture("float_cnn.tflite"));
    auto open_copy = [](const std::vector<uint8_t>& bytes) {
        return error_of([&] { open_tflite(std::make_shared<std::vector<uint8_t>>(bytes), "bad.tflite"); });
    };
    SECTION("every truncation is a clean error that names an offset") {
        for (size_t length = 0; length < original->size(); length += 7) {
            std::vector<uint8_t> cut(original->begin(), original->begin() + static_cast<std::ptrdiff_t>(length));
            std::string error = open_copy(cut);
            INFO("truncated to " << length << ": " << error);
            CHECK(error != "(no error)");
            CHECK_THAT(error, Catch::Contains("offset") || Catch::Contains("bytes"));
        }
    }
    // Positions found with the reader's own FlatBuffers layer, then damaged.
    flatbuffers::Buffer buffer(ByteSpan(original->data(), original->size()), "Model");
    flatbuffers::Table root = buffer.root();
    flatbuffers::Table subgraph = root.vector({2, "subgraphs"}, 4)->table(0);
    SECTION("a vector length past the end of the file") {
        std::vector<uint8_t> bad(*original);
        uint64_t at = subgraph.vector({0, "tensors"}, 4)->position();
        uint32_t huge = 0x7fffffff;
        std::memcpy(&bad[at], &huge, 4);
        std::string error = open_copy(bad);
        CHECK_THAT(error, Catch::Contains("Model.subgraphs[0]: field 0 (tensors)"));
        CHECK_THAT(error, Catch::Contains(concat("vector at offset ", format_offset(at), " declares 2147483647 elements")));
    }
    SECTION("a tensor index out of range") {
        std::vector<uint8_t> bad(*original);
        flatbuffers::Table op = subgraph.vector({3, "operators"}, 4)->table(0);
        uint64_t at = op.vector({1, "inputs"}, 4)->data_position();
        int32_t index = 99;
        std::memcpy(&bad[at], &index, 4);
        std::string error = open_copy(bad);
        CHECK_THAT(error, Catch::Contains("Model.subgraphs[0].operators[0]: field 1 (inputs)"));
        CHECK_THAT(error, Catch::Contains("entry 0 is tensor 99; the subgraph has 14 tensors"));
    }
    SECTION("a buffer whose size does not match its tensor") {
        std::vector<uint8_t> bad(*original);
        flatbuffers::Table buffer_table = root.vector({4, "buffers"}, 4)->table(1);
        uint64_t at = buffer_table.vector({0, "data"}, 1)->position();
        uint32_t smaller = 100;
        std::memcpy(&bad[at], &smaller, 4);
        std::string error = open_copy(bad);
        CHECK_THAT(error, Catch::Contains("tensor 'model/conv/Conv2D' of shape 4x3x3x1 FLOAT32 needs 144 bytes"));
        CHECK_THAT(error, Catch::Contains("holds 100"));
    }
    SECTION("an operator code index out of range") {
        std::vector<uint8_t> bad(*original);
        flatbuffers::Table op = subgraph.vector({3, "operators"}, 4)->table(2);
        uint64_t at = op.position() + 4;  // find the opcode_index slot through the vtable
        int32_t soffset;
        std::memcpy(&soffset, &bad[op.position()], 4);
        uint16_t field_offset;
        std::memcpy(&field_offset, &bad[op.position() - soffset + 4], 2);
        REQUIRE(field_offset != 0);
        at = op.position() + field_offset;
        uint32_t code = 40;
        std::memcpy(&bad[at], &code, 4);
        CHECK_THAT(open_copy(bad), Catch::Contains("operators[2]: field 0 (opcode_index)"));
        CHECK_THAT(open_copy(bad), Catch::Contains("operator code 40 of 6"));
    }
    SECTION("a wrong file identifier") {
        std::vector<uint8_t> bad(*original);
        bad[7] = '4';
        CHECK_THAT(open_copy(bad), Catch::Contains("file identifier at offset 0x4 (4) is not 'TFL3'"));
    }
}

TEST_CASE("tflite: the builtin options table is well formed and in union order", "[tflite]") {
    const std::set<std::string> kinds = {"bool", "i8", "i32", "u32", "i64", "f32", "string", "i32s", "f32s",
                                         "padding", "activation", "type", "weights_format", "mirror_pad_mode"};
    size_t members = 0;
    for (int type = 1; type < 256; ++type) {
        const tflite::OptionsTable* table = tflite::builtin_options_table(static_cast<uint8_t>(type));
        if (!table) break;
        ++members;
        std::istringstream specs(table->fields);
        std::string spec;
        while (specs >> spec) {
            INFO(table->name << " field " << spec);
            size_t colon = spec.find(':');
            REQUIRE(colon != std::string::npos);
            std::string kind = spec.substr(colon + 1, spec.find('=') == std::string::npos ? std::string::npos
                                                                                            : spec.find('=') - colon - 1);
            CHECK(kinds.count(kind) == 1);
        }
    }
    CHECK(members == 126);
    CHECK(tflite::builtin_options_table(0) == nullptr);
    // Spot checks against schema.fbs's union BuiltinOptions order.
    const std::pair<int, const char*> known[] = {
        {1, "Conv2DOptions"}, {15, "ResizeBilinearOptions"}, {22, "PadOptions"}, {27, "ReducerOptions"},
        {32, "StridedSliceOptions"}, {49, "TransposeConvOptions"}, {74, "ResizeNearestNeighborOptions"},
        {94, "DepthToSpaceOptions"}, {101, "BatchMatMulOptions"}, {116, "GeluOptions"}, {126, "RightShiftOptions"}};
    for (const auto& [type, name] : known) CHECK(std::string(tflite::builtin_options_table(type)->name) == name);
}

namespace {

// A hand-laid TFLite file whose one subgraph lists `count` tensors that are
// all the same small tensor table: tiny on disk, huge when decoded.
std::vector<uint8_t> repeated_tensor_file(uint32_t count) {
    const size_t tensors_at = 52, elements_at = 56, tensor_vtable = elements_at + 4 * size_t{count};
    std::vector<uint8_t> b(tensor_vtable + 40, 0);
    auto u16 = [&](size_t at, uint16_t v) { std::memcpy(&b[at], &v, 2); };
    auto u32 = [&](size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); };
    u32(0, 20);
    std::memcpy(&b[4], "TFL3", 4);
    u16(8, 10), u16(10, 8), u16(16, 4);        // Model vtable: subgraphs [2] at +4
    u32(20, 20 - 8), u32(24, 28 - 24);         // Model table -> subgraphs vector
    u32(28, 1), u32(32, 44 - 32);              // [SubGraph]
    u16(36, 6), u16(38, 8), u16(40, 4);        // SubGraph vtable: tensors [0] at +4
    u32(44, 44 - 36), u32(48, tensors_at - 48);
    u32(tensors_at, count);
    const size_t tensor_table = tensor_vtable + 8;
    for (uint32_t i = 0; i < count; ++i) {
        size_t at = elements_at + 4 * size_t{i};
        u32(at, static_cast<uint32_t>(tensor_table - at));
    }
    u16(tensor_vtable, 6), u16(tensor_vtable + 2, 8), u16(tensor_vtable + 4, 4);  // Tensor: shape [0]
    u32(tensor_table, 8), u32(tensor_table + 4, 4);
    u32(tensor_table + 8, 1), u32(tensor_table + 12, 3);  // shape [3]
    return b;
}

}  // namespace

TEST_CASE("tflite: a table referenced many times is bounded by the read budget", "[tflite]") {
    // Small enough to be legitimate: it opens.
    auto small = std::make_shared<std::vector<uint8_t>>(repeated_tensor_file(1000));
    CHECK(open_tflite(small, "small.tflite").layers.empty());
    // 1.2 MB naming one tensor 300000 times would decode to far more memory
    // than the file holds: refused before the memory is taken.
    auto large = std::make_shared<std::vector<uint8_t>>(repeated_tensor_file(300000));
    CHECK_THROWS_AS(open_tflite(large, "large.tflite"), LimitError);
}

TEST_CASE("tflite: a damaged labels archive is a warning, the model still opens", "[tflite]") {
    FileBytes original = read_file_bytes(tflite_fixture("labels.tflite"));
    auto bad = std::make_shared<std::vector<uint8_t>>(*original);
    const std::string needle = "cat\ndog";
    auto found = std::search(bad->begin(), bad->end(), needle.begin(), needle.end());
    REQUIRE(found != bad->end());
    *found = 'k';  // the member's CRC-32 no longer matches
    Model model = open_tflite(bad, "bad_labels.tflite");
    CHECK(model.layers.size() == 2);
    CHECK(model.metadata.count("labels") == 0);
    REQUIRE(model.warnings.size() == 1);
    CHECK_THAT(model.warnings[0], Catch::Contains("the archive appended after the model cannot be read"));
    CHECK_THAT(model.warnings[0], Catch::Contains("labels.txt"));
}

TEST_CASE("tflite: dequantize_weight applies each channel's scale and zero point", "[tflite]") {
    Model model = open_fixture("int8_conv");
    const Layer* conv = model.find_layer("conv/Relu");
    REQUIRE(conv);
    const Tensor& filter = conv->weights[0].tensor;
    const WeightQuantization& q = conv->weight_quantization.at("conv/filter");
    Tensor real = dequantize_weight(filter, q);
    REQUIRE(real.shape() == filter.shape());
    const int8_t* stored = reinterpret_cast<const int8_t*>(filter.raw());
    const uint64_t per_channel = filter.element_count() / 3;  // OHWI: axis 0 is outermost
    for (uint64_t e = 0; e < filter.element_count(); ++e) {
        CHECK(real.f32()[e] == static_cast<float>(double{q.scale[e / per_channel]} * stored[e]));
    }
    WeightQuantization shifted{{0.5f}, {3}, -1};
    std::vector<uint8_t> raw = {10, 1};
    Tensor u8 = Tensor::view(DType::u8, {2}, raw.data(), nullptr);
    Tensor per_tensor = dequantize_weight(u8, shifted);
    CHECK(per_tensor.f32()[0] == 3.5f);
    CHECK(per_tensor.f32()[1] == -1.0f);
    WeightQuantization wrong{{1.0f, 2.0f}, {0, 0}, 0};
    CHECK_THROWS_AS(dequantize_weight(filter, wrong), Error);
}

TEST_CASE("tflite: INT4 constants unpack low nibble first, as LiteRT reads them", "[tflite]") {
    // expected_output is what LiteRT.js must compute for the input sin(0.37 k)
    // (tests/tools/tflite_runtime_check.mjs checks it), so expected - input
    // is the dequantized INT4 constant as the runtime sees it.
    Model model = open_fixture("int4");
    nlohmann::json facts = load_facts("int4");
    const Layer* add = model.find_layer("output");
    REQUIRE(add);
    REQUIRE(add->weights.size() == 1);
    const Tensor& real = add->weights[0].tensor;
    REQUIRE(real.element_count() == 6);
    for (uint64_t k = 0; k < 6; ++k) {
        float feed = static_cast<float>(std::sin(static_cast<double>(k) * 0.37));
        CHECK(real.f32()[k] == Approx(facts["expected_output"][k].get<float>() - feed).margin(1e-6));
    }
    const Layer* dequantize = model.find_layer("int4/dequantized");
    REQUIRE(dequantize);
    CHECK(dequantize->weights[0].tensor.dtype() == DType::i8);
    CHECK(dequantize->weight_quantization.at("int4/weights").scale == std::vector<float>{0.25f, 0.5f});
}
