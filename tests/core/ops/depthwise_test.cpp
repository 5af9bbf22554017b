#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "core/ops/conv.h"
#include "core/ops/depthwise.h"
#include "support/op_check.h"

using namespace convscope;
using convscope::test::OpRandom;

namespace {

// Runs the fast kernel into a NaN-filled buffer (so an output it forgets to
// write fails the comparison) and compares with the reference.
void check_depthwise(const Conv2DGeometry& g, int64_t batch, int64_t h, int64_t w, OpRandom& random,
                     const std::string& what) {
    int64_t oh = g.output_h(h), ow = g.output_w(w);
    REQUIRE(oh > 0);
    REQUIRE(ow > 0);
    std::vector<float> input = random.floats(batch * g.in_channels * h * w);
    std::vector<float> weights = random.floats(g.out_channels * g.kernel_h * g.kernel_w);
    std::vector<float> bias = random.floats(g.out_channels);
    size_t count = static_cast<size_t>(batch * g.out_channels * oh * ow);
    std::vector<float> got(count, std::numeric_limits<float>::quiet_NaN()), want(count);
    depthwise_conv2d_nchw(g, input.data(), batch, h, w, weights.data(), bias.data(), got.data());
    depthwise_conv2d_nchw_reference(g, input.data(), batch, h, w, weights.data(), bias.data(), want.data());
    convscope::test::require_close(got, want, what);
}

}  // namespace

TEST_CASE("depthwise: hand-computed 3x3 stride 1 with padding", "[ops][depthwise]") {
    // 1 channel, 2x2 input of 1..4, all-ones filter, pad 1: each output sums the
    // real pixels its window covers, plus the bias 0.5.
    Conv2DGeometry g;
    g.in_channels = g.out_channels = g.groups = 1;
    g.kernel_h = g.kernel_w = 3;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    std::vector<float> input = {1, 2, 3, 4}, weights(9, 1.0f), bias = {0.5f}, out(4, -1.0f);
    depthwise_conv2d_nchw(g, input.data(), 1, 2, 2, weights.data(), bias.data(), out.data());
    for (float v : out) REQUIRE(v == Approx(10.5f));
}

TEST_CASE("depthwise: 3x3 stride 1 and 2 fast paths match the reference", "[ops][depthwise]") {
    convscope::test::for_random_cases(31, 120, [](OpRandom& random, int index) {
        Conv2DGeometry g;
        g.in_channels = random.size(1, 5);
        g.groups = g.in_channels;
        g.out_channels = g.in_channels * random.size(1, 2);
        g.kernel_h = g.kernel_w = 3;
        g.stride_h = g.stride_w = index % 2 ? 2 : 1;
        // Symmetric pads 1 (MobileNet), none, and lopsided ones (TF same).
        g.pad_top = random.size(0, 2);
        g.pad_left = random.size(0, 2);
        g.pad_bottom = random.size(0, 2);
        g.pad_right = random.size(0, 2);
        int64_t batch = random.size(1, 2);
        // Widths from 1 (border only) through several vectors plus tails.
        int64_t h = random.size(1, 12), w = random.size(1, 37);
        if (g.output_h(h) <= 0 || g.output_w(w) <= 0) { h += 3; w += 3; }
        check_depthwise(g, batch, h, w, random, "depthwise 3x3 case " + std::to_string(index) + " stride " +
                                                    std::to_string(g.stride_h) + " " + std::to_string(h) + "x" +
                                                    std::to_string(w));
    });
}

TEST_CASE("depthwise: generic path (any kernel, stride, dilation, multiplier) matches the reference", "[ops][depthwise]") {
    convscope::test::for_random_cases(57, 120, [](OpRandom& random, int index) {
        Conv2DGeometry g;
        g.in_channels = random.size(1, 4);
        g.groups = g.in_channels;
        g.out_channels = g.in_channels * random.size(1, 3);
        g.kernel_h = random.size(1, 5);
        g.kernel_w = random.size(1, 5);
        g.stride_h = random.size(1, 3);
        g.stride_w = random.size(1, 3);
        g.dilation_h = random.size(1, 2);
        g.dilation_w = random.size(1, 2);
        g.pad_top = random.size(0, 3);
        g.pad_left = random.size(0, 3);
        g.pad_bottom = random.size(0, 3);
        g.pad_right = random.size(0, 3);
        int64_t batch = random.size(1, 3), h = random.size(6, 14), w = random.size(6, 30);
        check_depthwise(g, batch, h, w, random, "depthwise generic case " + std::to_string(index));
    });
}

TEST_CASE("depthwise: MobileNetV2 shapes (56x56 stride 1, 112x112 stride 2)", "[ops][depthwise]") {
    OpRandom random(7);
    Conv2DGeometry g;
    g.in_channels = g.out_channels = g.groups = 3;
    g.kernel_h = g.kernel_w = 3;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    check_depthwise(g, 1, 56, 56, random, "56x56 stride 1");
    g.stride_h = g.stride_w = 2;
    check_depthwise(g, 1, 112, 112, random, "112x112 stride 2");
    check_depthwise(g, 1, 7, 7, random, "7x7 stride 2");
    // Stride 1 with one column of padding each side runs its borders in
    // SIMD from width 8; around that width and every tail length after it.
    g.stride_h = g.stride_w = 1;
    for (int64_t w = 4; w <= 18; ++w) {
        for (int64_t h : {1, 2, 5}) check_depthwise(g, 2, h, w, random, "pad 1 stride 1 " + std::to_string(h) + "x" + std::to_string(w));
    }
}
