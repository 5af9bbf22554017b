// Typed model facts: the format enum and its display names, ONNX opset
// imports per domain as numbers, the parsed framework version, and the
// typed layer parameters' descriptions.
#include <catch2/catch.hpp>

#include "core/formats/registry.h"
#include "core/model/layer_params.h"
#include "core/model/model.h"

using namespace convscope;

TEST_CASE("model facts: format names are derived from the enum", "[model]") {
    CHECK(std::string(format_name(ModelFormat::keras_h5)) == "keras-h5");
    CHECK(std::string(format_name(ModelFormat::keras_v3)) == "keras-v3");
    CHECK(std::string(format_name(ModelFormat::keras_weights_h5)) == "keras-weights-h5");
    CHECK(std::string(format_name(ModelFormat::onnx)) == "onnx");
    CHECK(std::string(format_name(ModelFormat::unknown)) == "unknown");
    Model model;
    model.format = ModelFormat::keras_weights_h5;
    CHECK(model.is_keras());
    CHECK_FALSE(model.is_onnx());
    model.format = ModelFormat::onnx;
    CHECK(model.is_onnx());
    CHECK_FALSE(model.is_keras());
}

TEST_CASE("model facts: framework versions parse into numbers", "[model]") {
    FrameworkVersion v = FrameworkVersion::parse("2.13.1");
    CHECK(v.known);
    CHECK(v.major == 2);
    CHECK(v.minor == 13);
    CHECK(v.patch == 1);
    v = FrameworkVersion::parse("3.0");
    CHECK((v.known && v.major == 3 && v.minor == 0 && v.patch == 0));
    CHECK_FALSE(FrameworkVersion::parse("").known);
    CHECK_FALSE(FrameworkVersion::parse("tf-nightly").known);
    // A huge number does not overflow.
    CHECK(FrameworkVersion::parse("99999999999999999999.1").known);

    Model model;
    model.format = ModelFormat::keras_h5;
    model.framework_version = FrameworkVersion::parse("3.3.3");
    CHECK(model.is_keras3());
    model.framework_version = FrameworkVersion::parse("2.15.0");
    CHECK_FALSE(model.is_keras3());
    model.format = ModelFormat::keras_v3;
    CHECK(model.is_keras3());
}

TEST_CASE("model facts: ONNX opsets per domain, read from the file", "[model][onnx]") {
    std::string path = CONVSCOPE_SOURCE_DIR "/tests/fixtures/onnx/lenet_opset11.onnx";
    Model model = open_model(read_file_bytes(path), path);
    CHECK(model.onnx_opset() == 11);
    CHECK(model.onnx_opset("ai.onnx") == 11);
    CHECK(model.onnx_opset("com.example") == 0);

    std::string typed = CONVSCOPE_SOURCE_DIR "/tests/fixtures/onnx/typed_data.onnx";
    Model custom = open_model(read_file_bytes(typed), typed);
    CHECK(custom.onnx_opset() == 13);
    CHECK(custom.onnx_opset("com.example") == 1);
}

TEST_CASE("model facts: layer parameters describe themselves", "[model]") {
    ConvParams conv;
    conv.kernel_h = conv.kernel_w = 3;
    conv.stride_h = conv.stride_w = 2;
    conv.padding.kind = PaddingRule::Kind::same_upper;
    CHECK(describe_params(conv) == "conv 3x3 stride 2x2 same");
    SoftmaxParams softmax;
    softmax.axis = 1;
    softmax.flatten_to_2d = true;
    CHECK(describe_params(softmax) == "softmax axis 1 (flattened to 2-D)");
    CHECK(describe_params(LayerParams{}).empty());
}
