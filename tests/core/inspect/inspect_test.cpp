// Core helpers behind the inspector panels: statistics, kernel slicing,
// preprocessing, feature maps, FLOPs and PNG export. Expected values are
// worked out by hand in the comments.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/formats/image.h"
#include "core/inspect/feature_maps.h"
#include "core/inspect/flops.h"
#include "core/inspect/image_export.h"
#include "core/inspect/kernels.h"
#include "core/inspect/preprocess.h"
#include "core/inspect/weight_stats.h"

using namespace convscope;
using Catch::Matchers::WithinAbs;

TEST_CASE("weight statistics: min, max, mean, population std, sparsity", "[inspect][stats]") {
    // values 0, 0, 1, 2, 3, -6: sum 0, mean 0; squares 0+0+1+4+9+36 = 50,
    // std = sqrt(50 / 6); two zeros of six.
    Tensor tensor = Tensor::from_floats({2, 3}, {0, 0, 1, 2, 3, -6});
    WeightStatistics stats = weight_statistics(tensor);
    CHECK(stats.count == 6);
    CHECK(stats.min == -6.0);
    CHECK(stats.max == 3.0);
    CHECK_THAT(stats.mean, WithinAbs(0.0, 1e-12));
    CHECK_THAT(stats.std, WithinAbs(std::sqrt(50.0 / 6.0), 1e-12));
    CHECK(stats.zeros == 2);
    CHECK_THAT(stats.sparsity, WithinAbs(1.0 / 3.0, 1e-12));

    // NaN and inf are counted apart and never poison the numbers.
    Tensor with_nan = Tensor::from_floats({4}, {1.0f, NAN, INFINITY, 3.0f});
    WeightStatistics partial = weight_statistics(with_nan);
    CHECK(partial.count == 2);
    CHECK(partial.non_finite == 2);
    CHECK(partial.mean == 2.0);
    CHECK(partial.std == 1.0);

    WeightStatistics empty = weight_statistics(Tensor::zeros(DType::f32, {0}));
    CHECK(empty.count == 0);
    CHECK(empty.sparsity == 0.0);
}

TEST_CASE("weight statistics: integer and float16 arrays are described by their values", "[inspect][stats]") {
    Tensor bytes = Tensor::zeros(DType::u8, {3});
    bytes.mutable_raw()[0] = 10;
    bytes.mutable_raw()[1] = 20;
    bytes.mutable_raw()[2] = 0;
    WeightStatistics stats = weight_statistics(bytes);
    CHECK(stats.max == 20.0);
    CHECK(stats.mean == 10.0);
    CHECK(stats.zeros == 1);
}

TEST_CASE("histogram: numpy's equal-width bins, maximum in the last bin", "[inspect][stats]") {
    // Range [0, 4] in 4 bins of width 1: 0 and 0.5 -> bin 0; 1 -> bin 1;
    // 2.5 -> bin 2; 4 (the maximum) -> bin 3.
    Histogram h = histogram(Tensor::from_floats({5}, {0.0f, 0.5f, 1.0f, 2.5f, 4.0f}), 4);
    CHECK(h.low == 0.0);
    CHECK(h.high == 4.0);
    CHECK(h.bin_width() == 1.0);
    CHECK(h.counts == std::vector<uint64_t>{2, 1, 1, 1});

    // A constant array: numpy uses [v - 0.5, v + 0.5]; all values fall in the middle bin.
    Histogram constant = histogram(Tensor::from_floats({3}, {2.0f, 2.0f, 2.0f}), 3);
    CHECK(constant.low == 1.5);
    CHECK(constant.high == 2.5);
    CHECK(constant.counts == std::vector<uint64_t>{0, 3, 0});
    CHECK(histogram(Tensor::from_floats({1}, {1.0f}), 0).counts.size() == 1);
}

namespace {

// A 2x2 kernel with 2 input and 3 output channels, value = 100*o + 10*i + (y*2 + x),
// stored in Keras HWIO and in ONNX OIHW layout.
float kernel_value(int o, int i, int y, int x) { return static_cast<float>(100 * o + 10 * i + y * 2 + x); }

Model keras_conv_model() {
    std::vector<float> hwio(2 * 2 * 2 * 3);
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x)
            for (int i = 0; i < 2; ++i)
                for (int o = 0; o < 3; ++o) hwio[((y * 2 + x) * 2 + i) * 3 + o] = kernel_value(o, i, y, x);
    Model model;
    model.format = ModelFormat::keras_h5;
    model.inputs = {ValueInfo{"in", {-1, 5, 5, 2}, DType::f32}};
    Layer conv;
    conv.name = "conv";
    conv.type = "Conv2D";
    conv.inputs = {"in"};
    conv.outputs = {"conv"};
    conv.output_shape = {-1, 4, 4, 3};
    conv.weights = {{"conv/kernel:0", Tensor::from_floats({2, 2, 2, 3}, hwio)},
                    {"conv/bias:0", Tensor::from_floats({3}, {0.5f, -1.0f, 2.0f})}};
    model.layers.push_back(conv);
    return model;
}

Model onnx_conv_model() {
    std::vector<float> oihw(3 * 2 * 2 * 2);
    for (int o = 0; o < 3; ++o)
        for (int i = 0; i < 2; ++i)
            for (int y = 0; y < 2; ++y)
                for (int x = 0; x < 2; ++x) oihw[((o * 2 + i) * 2 + y) * 2 + x] = kernel_value(o, i, y, x);
    Model model;
    model.format = ModelFormat::onnx;
    model.layout = DataLayout::channels_first;
    model.inputs = {ValueInfo{"x", {-1, 2, 5, 5}, DType::f32}};
    Layer conv;
    conv.name = "Conv_0";
    conv.type = "Conv";
    conv.inputs = {"x", "w", "b"};
    conv.outputs = {"y"};
    conv.output_shape = {-1, 3, 4, 4};
    conv.weights = {{"w", Tensor::from_floats({3, 2, 2, 2}, oihw)}, {"b", Tensor::from_floats({3}, {0.5f, -1.0f, 2.0f})}};
    model.layers.push_back(conv);
    return model;
}

}  // namespace

TEST_CASE("kernel slicing: Keras HWIO and ONNX OIHW give the same kernel for the same (o, i)", "[inspect][kernels]") {
    Model keras = keras_conv_model();
    Model onnx = onnx_conv_model();
    auto a = conv_kernels(keras, keras.layers[0]);
    auto b = conv_kernels(onnx, onnx.layers[0]);
    REQUIRE(a);
    REQUIRE(b);
    for (const ConvKernels* k : {&*a, &*b}) {
        CHECK(k->height == 2);
        CHECK(k->width == 2);
        CHECK(k->in_channels == 2);
        CHECK(k->out_channels == 3);
        CHECK(k->groups == 1);
        CHECK(k->bias_value(2) == 2.0);
    }
    // Kernel 2, input channel 1: 210, 211 / 212, 213.
    CHECK(a->slice(2, 1) == std::vector<float>{210, 211, 212, 213});
    CHECK(b->slice(2, 1) == std::vector<float>{210, 211, 212, 213});
    CHECK(a->slice(0, 0) == std::vector<float>{0, 1, 2, 3});
    CHECK_THROWS_WITH(a->slice(3, 0), Catch::Contains("kernels 0..2"));
    CHECK_THROWS_WITH(b->slice(0, 2), Catch::Contains("channels 0..1"));
    // RGB patch interleaves the input channels (only two here; the third is 0).
    std::vector<float> patch = a->rgb_patch(1);
    CHECK(patch == std::vector<float>{100, 110, 0, 101, 111, 0, 102, 112, 0, 103, 113, 0});
}

TEST_CASE("kernel slicing: depthwise kernels read one input channel each", "[inspect][kernels]") {
    // depthwise_kernel [1, 1, cin 2, multiplier 2]: output o = c * 2 + m.
    Model model;
    model.format = ModelFormat::keras_v3;
    Layer layer;
    layer.name = "dw";
    layer.type = "DepthwiseConv2D";
    layer.weights = {{"dw/depthwise_kernel", Tensor::from_floats({1, 1, 2, 2}, {1, 2, 3, 4})}};
    model.layers.push_back(layer);
    auto k = conv_kernels(model, model.layers[0]);
    REQUIRE(k);
    CHECK(k->out_channels == 4);
    CHECK(k->groups == 2);
    CHECK(k->reads(3, 1));
    CHECK_FALSE(k->reads(3, 0));
    CHECK(k->slice(3, 1) == std::vector<float>{4});  // c 1, m 1 -> flat index 1*2+1
    CHECK(k->slice(3, 0) == std::vector<float>{0});
    CHECK(k->bias_value(0) == 0.0);

    Layer dense;
    dense.type = "Dense";
    dense.weights = {{"dense/kernel", Tensor::from_floats({2, 2}, {1, 2, 3, 4})}};
    CHECK_FALSE(conv_kernels(model, dense));
}

TEST_CASE("preprocessing: resize, channels, invert, scale, mean/std, layout", "[inspect][preprocess]") {
    Preprocessing keras = default_preprocessing({-1, 28, 28, 1}, DataLayout::channels_last);
    CHECK(keras.height == 28);
    CHECK(keras.width == 28);
    CHECK(keras.channels == 1);
    CHECK_THAT(keras.scale, WithinAbs(1.0 / 255.0, 1e-15));
    Preprocessing onnx = default_preprocessing({1, 3, 32, 30}, DataLayout::channels_first);
    CHECK(onnx.height == 32);
    CHECK(onnx.width == 30);
    CHECK(onnx.channels == 3);
    CHECK_THROWS_WITH(default_preprocessing({-1, 784}, DataLayout::channels_last), Catch::Contains("not an image"));
    CHECK_THROWS_WITH(default_preprocessing({-1, 8, 8, 2}, DataLayout::channels_last), Catch::Contains("1 or 3 channels"));

    // A 1x2 RGB image: pixel (255, 0, 0) and (0, 0, 255).
    Tensor rgb = Tensor::from_floats({1, 2, 3}, {255, 0, 0, 0, 0, 255});
    // To grey with BT.601: 0.299*255 = 76.245, 0.114*255 = 29.07.
    Tensor grey = convert_channels(rgb, 1);
    CHECK_THAT(grey.f32()[0], WithinAbs(76.245, 1e-3));
    CHECK_THAT(grey.f32()[1], WithinAbs(29.07, 1e-3));
    // Grey+alpha over black: (200, alpha 51 = 0.2) -> 40 in every channel.
    Tensor grey_alpha = Tensor::from_floats({1, 1, 2}, {200, 51});
    Tensor composited = convert_channels(grey_alpha, 3);
    CHECK(composited.shape() == Shape{1, 1, 3});
    CHECK_THAT(composited.f32()[2], WithinAbs(40.0, 1e-4));

    // Same size: no interpolation. Invert then scale then (x - mean) / std:
    // 255 -> 0 -> 0 -> (0 - 0.5) / 0.25 = -2;  0 -> 255 -> 1 -> 2.
    Preprocessing settings;
    settings.height = 1;
    settings.width = 2;
    settings.channels = 1;
    settings.invert = true;
    settings.mean = {0.5};
    settings.std = {0.25};
    Tensor input = preprocess_image(Tensor::from_floats({1, 2, 1}, {255, 0}), settings);
    REQUIRE(input.shape() == Shape{1, 1, 2, 1});
    CHECK_THAT(input.f32()[0], WithinAbs(-2.0, 1e-6));
    CHECK_THAT(input.f32()[1], WithinAbs(2.0, 1e-6));

    // Channels first with per-channel mean: NCHW order, channel-major.
    Preprocessing chw;
    chw.height = 1;
    chw.width = 2;
    chw.channels = 3;
    chw.layout = DataLayout::channels_first;
    chw.scale = 1.0;
    chw.mean = {0, 10, 100};
    Tensor planes = preprocess_image(rgb, chw);
    REQUIRE(planes.shape() == Shape{1, 3, 1, 2});
    CHECK(planes.to_float_vector() == std::vector<float>{255, 0, -10, -10, -100, 155});

    // A 2x2 -> 1x1 half-pixel bilinear resize samples the centre: the mean.
    Preprocessing shrink;
    shrink.height = 1;
    shrink.width = 1;
    shrink.scale = 1.0;
    Tensor centre = preprocess_image(Tensor::from_floats({2, 2, 1}, {0, 10, 20, 30}), shrink);
    CHECK_THAT(centre.f32()[0], WithinAbs(15.0, 1e-4));

    Preprocessing bad = settings;
    bad.std = {0.0};
    CHECK_THROWS_WITH(preprocess_image(Tensor::from_floats({1, 2, 1}, {1, 2}), bad), Catch::Contains("std"));
    CHECK(describe_preprocessing(settings) == "1x2 grey, x/255, inverted, mean 0.5, std 0.25");
}

TEST_CASE("feature maps: one map per channel in either layout, sorted by strength", "[inspect][features]") {
    // NHWC [1, 1, 2, 3]: pixel 0 = (1, 2, 3), pixel 1 = (4, 5, 6).
    Tensor nhwc = Tensor::from_floats({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6});
    FeatureMaps maps = feature_maps(nhwc, DataLayout::channels_last);
    CHECK(maps.channels == 3);
    CHECK(maps.height == 1);
    CHECK(maps.width == 2);
    CHECK(maps.channel_copy(1) == std::vector<float>{2, 5});
    CHECK(maps.mean(2) == 4.5);
    CHECK(maps.max(0) == 4.0);
    CHECK(channels_by_strength(maps) == std::vector<int64_t>{2, 1, 0});

    // NCHW [1, 2, 1, 2] holds the planes directly.
    FeatureMaps planes = feature_maps(Tensor::from_floats({1, 2, 1, 2}, {1, 2, 9, 9}), DataLayout::channels_first);
    CHECK(planes.channel_copy(1) == std::vector<float>{9, 9});
    // Dense outputs: N maps of 1x1.
    FeatureMaps dense = feature_maps(Tensor::from_floats({1, 4}, {0.1f, 0.7f, 0.1f, 0.1f}), DataLayout::channels_last);
    CHECK(dense.channels == 4);
    CHECK(dense.height * dense.width == 1);
    CHECK(channels_by_strength(dense).front() == 1);
    CHECK_THROWS(feature_maps(Tensor::zeros(DType::f32, {1, 1, 1, 1, 1}), DataLayout::channels_last));
}

TEST_CASE("FLOPs: conv and dense multiply-adds counted by hand", "[inspect][flops]") {
    Model model = keras_conv_model();
    // Output 4x4x3, kernel length 2*2*2 = 8: MACs = 48 * 8 = 384;
    // FLOPs = 2 * 384 + 48 bias adds = 816.
    LayerCost conv = layer_cost(model, model.layers[0]);
    CHECK(conv.known);
    CHECK(conv.macs == 384);
    CHECK(conv.flops == 816);
    // The same numbers from the ONNX layout.
    Model onnx = onnx_conv_model();
    LayerCost conv_onnx = layer_cost(onnx, onnx.layers[0]);
    CHECK(conv_onnx.macs == 384);
    CHECK(conv_onnx.flops == 816);

    // The demo's first layer: 3x3x1x5 valid on 28x28 -> 26x26x5:
    // MACs = 3380 * 9 = 30420, FLOPs = 60840 + 3380 = 64220.
    Layer first;
    first.name = "conv2d";
    first.type = "Conv2D";
    first.output_shape = {-1, 26, 26, 5};
    first.weights = {{"conv2d/kernel:0", Tensor::zeros(DType::f32, {3, 3, 1, 5})}, {"conv2d/bias:0", Tensor::zeros(DType::f32, {5})}};
    model.layers.push_back(first);
    // Dense 8640 -> 10 without bias: 86400 MACs, 172800 FLOPs.
    Layer dense;
    dense.name = "dense";
    dense.type = "Dense";
    dense.output_shape = {-1, 10};
    dense.weights = {{"dense/kernel:0", Tensor::zeros(DType::f32, {8640, 10})}};
    model.layers.push_back(dense);
    Layer relu;
    relu.type = "ReLU";
    relu.output_shape = {-1, 10};
    model.layers.push_back(relu);
    ModelCost total = model_cost(model);
    REQUIRE(total.layers.size() == 4);
    CHECK(total.layers[1].macs == 30420);
    CHECK(total.layers[1].flops == 64220);
    CHECK(total.layers[2].macs == 86400);
    CHECK(total.layers[2].flops == 172800);
    CHECK(total.layers[3].flops == 0);
    CHECK(total.total_flops == 816 + 64220 + 172800);
    CHECK(total.complete);

    Layer unknown = first;
    unknown.output_shape = {-1, -1, -1, 5};
    CHECK_FALSE(layer_cost(model, unknown).known);
}

TEST_CASE("export: colour maps and PNGs decode back to the same pixels", "[inspect][export]") {
    uint8_t rgb[3];
    color_at(ExportColorMap::grayscale, 1.0f, rgb);
    CHECK((rgb[0] == 255 && rgb[1] == 255 && rgb[2] == 255));
    color_at(ExportColorMap::diverging, 0.5f, rgb);  // zero is white-ish and neutral
    CHECK((rgb[0] == rgb[1] && rgb[1] == rgb[2] && rgb[0] > 240));
    color_at(ExportColorMap::diverging, 0.0f, rgb);  // most negative is blue
    CHECK(rgb[2] > rgb[0]);
    color_at(ExportColorMap::diverging, 1.0f, rgb);  // most positive is red
    CHECK(rgb[0] > rgb[2]);

    float low = 0, high = 0;
    const float values[] = {-1.0f, 0.5f, 3.0f, NAN};
    color_range(values, 4, ExportColorMap::diverging, &low, &high);
    CHECK(low == -3.0f);
    CHECK(high == 3.0f);
    color_range(values, 4, ExportColorMap::viridis, &low, &high);
    CHECK(low == -1.0f);
    CHECK(high == 3.0f);
    // A dead channel (all zeros): white in the diverging map, the bottom colour otherwise.
    const float zeros[] = {0.0f, 0.0f};
    color_range(zeros, 2, ExportColorMap::diverging, &low, &high);
    CHECK((low == -0.5f && high == 0.5f));
    color_range(zeros, 2, ExportColorMap::viridis, &low, &high);
    CHECK((low == 0.0f && high == 1.0f));

    // 2x1 grey picture magnified 3 times: 6x3 pixels, left half 10, right half 200.
    const uint8_t pixels[] = {10, 200};
    std::vector<uint8_t> png = encode_png(pixels, 2, 1, 1, 3);
    REQUIRE(png.size() > 8);
    CHECK(png[1] == 'P');
    Tensor decoded = decode_image(ByteSpan(png.data(), png.size()), "export.png");
    REQUIRE(decoded.shape() == Shape{3, 6, 1});
    CHECK(decoded.f32()[2] == 10.0f);
    CHECK(decoded.f32()[3] == 200.0f);
    CHECK(decoded.f32()[17] == 200.0f);

    // A signed map through the diverging map: the zero pixel is white.
    const float map[] = {-2.0f, 0.0f, 2.0f};
    std::vector<uint8_t> heat = heatmap_png(map, 3, 1, ExportColorMap::diverging);
    Tensor colours = decode_image(ByteSpan(heat.data(), heat.size()), "heat.png");
    REQUIRE(colours.shape() == Shape{1, 3, 3});
    CHECK(colours.f32()[3] == colours.f32()[4]);
    CHECK(colours.f32()[0 * 3 + 2] > colours.f32()[0 * 3 + 0]);  // left is blue
    CHECK(colours.f32()[2 * 3 + 0] > colours.f32()[2 * 3 + 2]);  // right is red
    CHECK_THROWS(encode_png(pixels, 0, 1, 1));
}
