#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/ops/conv.h"
#include "support/op_check.h"

using namespace convscope;

namespace {

const std::string fixtures = CONVSCOPE_SOURCE_DIR "/tests/fixtures/ops/";

Tensor load(const std::string& name) { return npy::read_file(fixtures + name).to_float32(); }

void require_tensor_close(const Tensor& got, const Tensor& want, const std::string& what) {
    REQUIRE(shape_to_string(got.shape()) == shape_to_string(want.shape()));
    test::require_close(got.to_float_vector(), want.to_float_vector(), what);
}

Layer keras_layer(const std::string& name, const std::string& type, const std::string& input) {
    Layer layer;
    layer.name = name;
    layer.type = type;
    if (!input.empty()) layer.inputs = {input};
    layer.outputs = {name};
    return layer;
}

Model keras_model(const Shape& input_shape) {
    Model model;
    model.format = ModelFormat::keras_h5;
    model.layout = DataLayout::channels_last;
    model.inputs = {ValueInfo{"input_1", input_shape, DType::f32}};
    Layer input = keras_layer("input_1", "InputLayer", "");
    input.outputs = {"input_1"};
    model.layers.push_back(input);
    return model;
}

}  // namespace

TEST_CASE("engine: ONNX operator goldens from PyTorch", "[engine][golden]") {
    const char* cases[] = {"conv_pads_stride_dilation", "conv_groups", "conv_depthwise", "conv1d", "conv_transpose",
                           "maxpool_ceil", "avgpool_include_pad", "avgpool_exclude_pad_ceil", "resize_bilinear",
                           "resize_nearest", "softmax_axis1", "gemm_bn_act", "broadcast_ops", "global_pool_flatten",
                           "gelu_tanh_sigmoid", "pad_reflect_transpose", "concat_shape_reshape"};
    for (const char* name : cases) {
        INFO("case " << name);
        std::string base = fixtures + "onnx_" + name;
        Model model = open_model(read_file_bytes(base + ".onnx"), base + ".onnx");
        Engine engine = Engine::build(model);
        RunResult result = engine.run(load(std::string("onnx_") + name + "_in.npy"));
        REQUIRE(result.outputs.count("output") == 1);
        require_tensor_close(result.outputs.at("output"), load(std::string("onnx_") + name + "_out.npy"), name);
    }
}

TEST_CASE("engine: corpus mnist-8.onnx matches PyTorch on its own weights", "[engine][golden][corpus]") {
    std::string path = CONVSCOPE_SOURCE_DIR "/../shared/corpus/Baskov_PyTorch-__mnist-8.onnx";
    Model model = open_model(read_file_bytes(path), path);
    Engine engine = Engine::build(model);
    REQUIRE(engine.input_shape() == Shape{1, 1, 28, 28});
    RunResult result = engine.run(load("mnist8_in.npy"));
    require_tensor_close(result.outputs.at("output"), load("mnist8_out.npy"), "mnist-8");
}

TEST_CASE("engine: Keras Conv2D 'same' with stride 2 pads bottom/right like TensorFlow", "[engine][golden][keras]") {
    Model model = keras_model({-1, 7, 8, 3});
    Layer conv = keras_layer("conv", "Conv2D", "input_1");
    conv.attributes["kernel_size"] = std::vector<int64_t>{3, 3};
    conv.attributes["strides"] = std::vector<int64_t>{2, 2};
    conv.attributes["padding"] = std::string("same");
    conv.attributes["activation"] = std::string("relu");
    conv.attributes["use_bias"] = int64_t{1};
    conv.weights = {{"conv/kernel:0", load("keras_conv_same_kernel.npy")}, {"conv/bias:0", load("keras_conv_same_bias.npy")}};
    model.layers.push_back(conv);
    Engine engine = Engine::build(model);
    require_tensor_close(engine.run(load("keras_conv_same_in.npy")).outputs.at("conv"), load("keras_conv_same_out.npy"), "conv same");
}

TEST_CASE("engine: Keras DepthwiseConv2D and AveragePooling2D 'same'", "[engine][golden][keras]") {
    Model model = keras_model({-1, 6, 5, 3});
    Layer depthwise = keras_layer("dw", "DepthwiseConv2D", "input_1");
    depthwise.attributes["kernel_size"] = std::vector<int64_t>{3, 3};
    depthwise.attributes["strides"] = std::vector<int64_t>{2, 2};
    depthwise.attributes["padding"] = std::string("same");
    depthwise.attributes["use_bias"] = int64_t{0};
    depthwise.attributes["depth_multiplier"] = int64_t{2};
    depthwise.weights = {{"dw/depthwise_kernel:0", load("keras_depthwise_same_kernel.npy")}};
    model.layers.push_back(depthwise);
    Engine engine = Engine::build(model);
    require_tensor_close(engine.run(load("keras_depthwise_same_in.npy")).outputs.at("dw"), load("keras_depthwise_same_out.npy"), "depthwise");

    Model pool_model = keras_model({-1, 7, 6, 2});
    Layer pool = keras_layer("pool", "AveragePooling2D", "input_1");
    pool.attributes["pool_size"] = std::vector<int64_t>{3, 3};
    pool.attributes["strides"] = std::vector<int64_t>{2, 2};
    pool.attributes["padding"] = std::string("same");
    pool_model.layers.push_back(pool);
    Engine pool_engine = Engine::build(pool_model);
    require_tensor_close(pool_engine.run(load("keras_avgpool_same_in.npy")).outputs.at("pool"), load("keras_avgpool_same_out.npy"), "avgpool");
}

TEST_CASE("engine: Keras single-value kernel_size/strides and default dilation_rate expand to 2-D", "[engine][keras]") {
    // One value for a 2-D attribute is repeated per axis. That expansion once
    // read the value from the vector's freed buffer under libc++ (WASM), giving
    // dilations from stale heap bytes; tests/support/poison_heap.cpp makes
    // such a read return -1 every time, so this fails deterministically there.
    test::OpRandom random(20261126);
    const int64_t h = 7, w = 6, in_channels = 3, out_channels = 5;
    Model model = keras_model({-1, h, w, in_channels});
    Layer conv = keras_layer("conv", "Conv2D", "input_1");
    conv.attributes["kernel_size"] = int64_t{3};  // no dilation_rate: Keras default 1
    conv.attributes["strides"] = int64_t{1};
    conv.attributes["padding"] = std::string("valid");
    conv.attributes["use_bias"] = int64_t{1};
    std::vector<float> kernel = random.floats(3 * 3 * in_channels * out_channels);
    std::vector<float> bias = random.floats(out_channels);
    conv.weights = {{"conv/kernel:0", Tensor::from_floats({3, 3, in_channels, out_channels}, kernel)},
                    {"conv/bias:0", Tensor::from_floats({out_channels}, bias)}};
    model.layers.push_back(conv);
    Layer pool = keras_layer("pool", "MaxPooling2D", "conv");
    pool.attributes["pool_size"] = int64_t{2};
    pool.attributes["strides"] = int64_t{2};
    model.layers.push_back(pool);
    Engine engine = Engine::build(model);

    std::vector<float> input = random.floats(h * w * in_channels);
    RunOptions options;
    options.capture = {"conv"};
    RunResult result = engine.run(Tensor::from_floats({1, h, w, in_channels}, input), options);

    Conv2DGeometry g;
    g.in_channels = in_channels;
    g.out_channels = out_channels;
    g.kernel_h = g.kernel_w = 3;
    std::vector<float> want_conv(static_cast<size_t>((h - 2) * (w - 2) * out_channels));
    conv2d_reference(g, input.data(), 1, h, w, kernel.data(), bias.data(), want_conv.data());
    const Tensor& got_conv = result.activations.at("conv");
    REQUIRE(shape_to_string(got_conv.shape()) == shape_to_string(Shape{1, h - 2, w - 2, out_channels}));
    test::require_close(got_conv.to_float_vector(), want_conv, "conv with kernel_size 3");

    // 2x2 max pool with stride 2 over the 5x4 conv output: 2x2 windows, the last row dropped.
    const Tensor& got_pool = result.outputs.at("pool");
    REQUIRE(shape_to_string(got_pool.shape()) == shape_to_string(Shape{1, 2, 2, out_channels}));
    std::vector<float> want_pool;
    for (int64_t y = 0; y < 2; ++y) {
        for (int64_t x = 0; x < 2; ++x) {
            for (int64_t c = 0; c < out_channels; ++c) {
                float best = -1e30f;
                for (int64_t dy = 0; dy < 2; ++dy) {
                    for (int64_t dx = 0; dx < 2; ++dx) {
                        best = std::max(best, want_conv[((2 * y + dy) * (w - 2) + 2 * x + dx) * out_channels + c]);
                    }
                }
                want_pool.push_back(best);
            }
        }
    }
    test::require_close(got_pool.to_float_vector(), want_pool, "max pool with pool_size 2, strides 2");
}

TEST_CASE("engine: build lists every unsupported layer by name and type", "[engine]") {
    Model model = keras_model({-1, 4});
    model.layers.push_back(keras_layer("weird_one", "Lambda", "input_1"));
    model.layers.push_back(keras_layer("dense", "Dense", "weird_one"));  // no weights either
    Layer flagged = keras_layer("flagged", "Flatten", "input_1");
    flagged.unsupported_reason = "reader could not parse its config";
    model.layers.push_back(flagged);
    try {
        Engine::build(model);
        FAIL("build should have thrown");
    } catch (const UnsupportedError& error) {
        std::string message = error.what();
        CHECK(message.find("3 layers") != std::string::npos);
        CHECK(message.find("'weird_one' (Lambda)") != std::string::npos);
        CHECK(message.find("'dense' (Dense)") != std::string::npos);
        CHECK(message.find("reader could not parse its config") != std::string::npos);
    }
}

TEST_CASE("engine: capture keeps only what is asked; run_until stops at the layer", "[engine]") {
    Model model = keras_model({-1, 3});
    Layer relu = keras_layer("relu", "ReLU", "input_1");
    model.layers.push_back(relu);
    Layer scale = keras_layer("scale", "Rescaling", "relu");
    scale.attributes["scale"] = 2.0;
    scale.attributes["offset"] = 1.0;
    model.layers.push_back(scale);
    Layer soft = keras_layer("soft", "Softmax", "scale");
    model.layers.push_back(soft);
    Engine engine = Engine::build(model);
    Tensor input = Tensor::from_floats({3}, {-1.0f, 0.5f, 2.0f});  // batch added by the engine

    RunOptions only_relu;
    only_relu.capture = {"relu"};
    RunResult result = engine.run(input, only_relu);
    REQUIRE(result.activations.size() == 1);
    REQUIRE(result.activations.at("relu").to_float_vector() == std::vector<float>{0.0f, 0.5f, 2.0f});
    std::vector<float> probabilities = result.outputs.at("soft").to_float_vector();
    // softmax of (1, 2, 5)
    double denominator = std::exp(1.0) + std::exp(2.0) + std::exp(5.0);
    REQUIRE(probabilities[2] == Approx(std::exp(5.0) / denominator));

    Tensor scaled = engine.run_until(input, "scale");
    REQUIRE(scaled.to_float_vector() == std::vector<float>{1.0f, 2.0f, 5.0f});
    RunOptions everything;
    everything.capture_all = true;
    REQUIRE(engine.run(input, everything).activations.size() == 4);  // input + 3 layers
    REQUIRE_THROWS_AS(engine.run(Tensor::from_floats({1, 4}, {1, 2, 3, 4})), Error);
}
