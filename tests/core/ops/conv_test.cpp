#include <catch2/catch.hpp>

#include "core/ops/conv.h"
#include "support/op_check.h"

using namespace convscope;
using convscope::test::OpRandom;

TEST_CASE("conv: reference on a hand-computed 3x3 input and 2x2 kernel", "[ops][conv]") {
    // input 1..9 (one channel), kernel [[1, 0], [0, -1]], valid: x[y][x] - x[y+1][x+1] = -4 everywhere
    std::vector<float> input{1, 2, 3, 4, 5, 6, 7, 8, 9}, kernel{1, 0, 0, -1}, out(4);
    Conv2DGeometry g;
    g.in_channels = g.out_channels = 1;
    g.kernel_h = g.kernel_w = 2;
    conv2d_reference(g, input.data(), 1, 3, 3, kernel.data(), nullptr, out.data());
    REQUIRE(out == std::vector<float>{-4, -4, -4, -4});
}

TEST_CASE("conv: TensorFlow 'same' padding puts the odd pad at the bottom/right", "[ops][conv]") {
    // in 4, k 2, stride 2 -> out 2, total pad 0; in 5, k 2, stride 2 -> out 3, pad (0, 1)
    PadPair even = same_padding(4, 2, 2, 1);
    REQUIRE(even.begin == 0);
    REQUIRE(even.end == 0);
    PadPair odd = same_padding(5, 2, 2, 1);
    REQUIRE(odd.begin == 0);
    REQUIRE(odd.end == 1);
    PadPair three = same_padding(6, 3, 2, 1);  // out 3, total = 2*2 + 3 - 6 = 1
    REQUIRE(three.begin == 0);
    REQUIRE(three.end == 1);
    PadPair lower = same_padding(6, 3, 2, 1, false);
    REQUIRE(lower.begin == 1);
    REQUIRE(lower.end == 0);
}

TEST_CASE("conv: SIMD kernels match the scalar reference (im2col, pointwise, depthwise, groups)", "[ops][conv]") {
    convscope::test::for_random_cases(99, 80, [](OpRandom& random, int index) {
        Conv2DGeometry g;
        int variant = index % 4;  // 0 general, 1 pointwise, 2 depthwise, 3 grouped
        int64_t groups = variant == 3 ? random.size(2, 3) : 1;
        g.in_channels = variant == 2 ? random.size(1, 9) : groups * random.size(1, 6);
        g.groups = variant == 2 ? g.in_channels : groups;
        g.out_channels = variant == 2 ? g.in_channels * random.size(1, 3) : groups * random.size(1, 11);
        if (variant != 1) {
            g.kernel_h = random.size(1, 4);
            g.kernel_w = random.size(1, 4);
            g.stride_h = random.size(1, 3);
            g.stride_w = random.size(1, 3);
            g.dilation_h = random.size(1, 2);
            g.dilation_w = random.size(1, 2);
            g.pad_top = random.size(0, 2);
            g.pad_left = random.size(0, 2);
            g.pad_bottom = random.size(0, 2);
            g.pad_right = random.size(0, 2);
        }
        int64_t batch = random.size(1, 2), h = random.size(5, 13), w = random.size(5, 13);
        int64_t taps = g.kernel_h * g.kernel_w;
        std::vector<float> input = random.floats(batch * h * w * g.in_channels);
        std::vector<float> weights = random.floats(taps * (g.in_channels / g.groups) * g.out_channels);
        std::vector<float> bias = random.floats(g.out_channels);
        int64_t out_count = batch * g.output_h(h) * g.output_w(w) * g.out_channels;
        std::vector<float> got(out_count), want(out_count);
        Conv2DKernel kernel(g, weights.data(), bias.data());
        kernel.run(input.data(), batch, h, w, got.data());
        conv2d_reference(g, input.data(), batch, h, w, weights.data(), bias.data(), want.data());
        convscope::test::require_close(got, want, std::string("conv case ") + std::to_string(index) + " " + kernel.algorithm());
    });
}

TEST_CASE("conv: transposed convolution matches its reference", "[ops][conv]") {
    convscope::test::for_random_cases(7, 30, [](OpRandom& random, int index) {
        ConvTranspose2DGeometry t;
        Conv2DGeometry& g = t.conv;
        g.groups = random.size(1, 2);
        g.in_channels = g.groups * random.size(1, 4);
        g.out_channels = g.groups * random.size(1, 5);
        g.kernel_h = random.size(1, 4);
        g.kernel_w = random.size(1, 4);
        g.stride_h = random.size(1, 3);
        g.stride_w = random.size(1, 3);
        g.dilation_h = random.size(1, 2);
        g.pad_top = random.size(0, 1);
        g.pad_left = random.size(0, 1);
        int64_t h = random.size(1, 6), w = random.size(1, 6);
        t.output_h = (h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1 - 2 * g.pad_top;
        t.output_w = (w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1 - 2 * g.pad_left;
        if (t.output_h < 1 || t.output_w < 1) return;
        std::vector<float> input = random.floats(h * w * g.in_channels);
        std::vector<float> weights = random.floats(g.in_channels * g.kernel_h * g.kernel_w * (g.out_channels / g.groups));
        std::vector<float> bias = random.floats(g.out_channels);
        std::vector<float> got(t.output_h * t.output_w * g.out_channels), want(got.size());
        ConvTranspose2DKernel kernel(t, weights.data(), bias.data());
        kernel.run(input.data(), 1, h, w, got.data());
        conv_transpose2d_reference(t, input.data(), 1, h, w, weights.data(), bias.data(), want.data());
        convscope::test::require_close(got, want, "conv transpose case " + std::to_string(index));
    });
}
