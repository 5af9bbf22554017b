#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "core/ops/conv_nchw.h"
#include "support/op_check.h"

using namespace convscope;
using convscope::test::OpRandom;

namespace {

std::string describe(const Conv2DGeometry& g, int64_t batch, int64_t h, int64_t w) {
    std::ostringstream text;
    text << "N" << batch << " C" << g.in_channels << "->" << g.out_channels << " " << h << "x" << w << " k"
         << g.kernel_h << "x" << g.kernel_w << " s" << g.stride_h << "x" << g.stride_w << " d" << g.dilation_h << "x"
         << g.dilation_w << " pads " << g.pad_top << "," << g.pad_left << "," << g.pad_bottom << "," << g.pad_right
         << " groups " << g.groups;
    return text.str();
}

// Runs the kernel into a NaN-filled output, so an element it forgets to write
// fails the comparison, and compares it with conv2d_nchw_reference.
void check_against_reference(const Conv2DGeometry& g, int64_t batch, int64_t h, int64_t w, OpRandom& random,
                             const std::string& what, const char* expected_algorithm) {
    const int64_t taps = g.kernel_h * g.kernel_w;
    std::vector<float> input = random.floats(static_cast<size_t>(batch * g.in_channels * h * w));
    std::vector<float> weights = random.floats(static_cast<size_t>(g.out_channels * (g.in_channels / g.groups) * taps));
    std::vector<float> bias = random.floats(static_cast<size_t>(g.out_channels));
    const int64_t oh = g.output_h(h), ow = g.output_w(w);
    REQUIRE(oh > 0);
    REQUIRE(ow > 0);
    const size_t out_count = static_cast<size_t>(batch * g.out_channels * oh * ow);
    std::vector<float> got(out_count, std::numeric_limits<float>::quiet_NaN()), want(out_count);
    Conv2DNchwKernel kernel(g, weights.data(), bias.data());
    INFO(what << " " << describe(g, batch, h, w));
    REQUIRE(std::string(kernel.algorithm()) == expected_algorithm);
    kernel.run_with_padding(input.data(), batch, h, w, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, got.data());
    conv2d_nchw_reference(g, input.data(), batch, h, w, weights.data(), bias.data(), want.data());
    convscope::test::require_close(got, want, what + " " + describe(g, batch, h, w));
}

}  // namespace

TEST_CASE("conv_nchw: reference on a hand-computed 2-channel example", "[ops][conv_nchw]") {
    // Two 2x2 input planes, one output channel, 1x1 kernel (2, -1), bias 0.5:
    // out = 2 * a - b + 0.5.
    Conv2DGeometry g;
    g.in_channels = 2;
    g.out_channels = 1;
    std::vector<float> input{1, 2, 3, 4, 10, 20, 30, 40}, weights{2, -1}, bias{0.5f}, out(4);
    conv2d_nchw_reference(g, input.data(), 1, 2, 2, weights.data(), bias.data(), out.data());
    REQUIRE(out == std::vector<float>{-7.5f, -15.5f, -23.5f, -31.5f});
}

TEST_CASE("conv_nchw: dense path matches the reference on random geometries", "[ops][conv_nchw]") {
    convscope::test::for_random_cases(2024, 120, [](OpRandom& random, int index) {
        Conv2DGeometry g;
        g.in_channels = random.size(1, 9);
        g.out_channels = random.size(1, 15);
        g.kernel_h = random.size(1, 5);
        g.kernel_w = random.size(1, 5);
        g.stride_h = random.size(1, 3);
        g.stride_w = random.size(1, 3);
        g.dilation_h = random.size(1, 2);
        g.dilation_w = random.size(1, 2);
        g.pad_top = random.size(0, 2);
        g.pad_left = random.size(0, 2);
        g.pad_bottom = random.size(0, 2);
        g.pad_right = random.size(0, 2);
        const int64_t batch = random.size(1, 3);
        // At least one output pixel in each direction.
        const int64_t min_h = std::max<int64_t>(1, (g.kernel_h - 1) * g.dilation_h + 1 - g.pad_top - g.pad_bottom);
        const int64_t min_w = std::max<int64_t>(1, (g.kernel_w - 1) * g.dilation_w + 1 - g.pad_left - g.pad_right);
        const int64_t h = min_h + random.size(0, 17), w = min_w + random.size(0, 23);
        check_against_reference(g, batch, h, w, random, "dense case " + std::to_string(index), "dense-gemm");
    });
}

TEST_CASE("conv_nchw: 1x1 convolutions read the input in place, plane tails included", "[ops][conv_nchw]") {
    convscope::test::for_random_cases(77, 40, [](OpRandom& random, int index) {
        Conv2DGeometry g;
        g.in_channels = random.size(1, 40);
        g.out_channels = random.size(1, 40);
        const int64_t batch = random.size(1, 3), h = random.size(1, 19), w = random.size(1, 19);
        check_against_reference(g, batch, h, w, random, "pointwise case " + std::to_string(index), "dense-gemm");
    });
}

TEST_CASE("conv_nchw: benchmark-like shapes (3x3 same, stride-2 stem, wide 1x1, 7x7 planes)", "[ops][conv_nchw]") {
    OpRandom random(5);
    Conv2DGeometry conv3x3;
    conv3x3.in_channels = 32;
    conv3x3.out_channels = 40;
    conv3x3.kernel_h = conv3x3.kernel_w = 3;
    conv3x3.pad_top = conv3x3.pad_left = conv3x3.pad_bottom = conv3x3.pad_right = 1;
    check_against_reference(conv3x3, 1, 28, 28, random, "3x3 same", "dense-gemm");
    check_against_reference(conv3x3, 2, 7, 7, random, "3x3 same on 7x7", "dense-gemm");

    // Enough input channels that K is summed in several L1-sized blocks
    // (the later blocks continue from the output), with row tails of 4
    // (paired rows, odd row count) and of 6 pixels.
    Conv2DGeometry deep = conv3x3;
    deep.in_channels = 300;
    deep.out_channels = 10;
    check_against_reference(deep, 1, 11, 12, random, "3x3, K in blocks, tail 4", "dense-gemm");
    check_against_reference(deep, 2, 6, 14, random, "3x3, K in blocks, tail 6", "dense-gemm");
    Conv2DGeometry deep_strided = deep;
    deep_strided.stride_h = deep_strided.stride_w = 2;
    check_against_reference(deep_strided, 1, 9, 20, random, "3x3 stride 2, K in blocks", "dense-gemm");

    Conv2DGeometry stem = conv3x3;
    stem.in_channels = 3;
    stem.out_channels = 32;
    stem.stride_h = stem.stride_w = 2;
    check_against_reference(stem, 1, 64, 64, random, "stride-2 stem", "dense-gemm");
    check_against_reference(stem, 1, 63, 65, random, "stride-2 stem, odd sizes", "dense-gemm");

    Conv2DGeometry wide;
    wide.in_channels = 96;
    wide.out_channels = 70;
    check_against_reference(wide, 1, 14, 14, random, "wide 1x1", "dense-gemm");

    Conv2DGeometry strided_1x1 = wide;  // ResNet downsample shortcut
    strided_1x1.stride_h = strided_1x1.stride_w = 2;
    check_against_reference(strided_1x1, 1, 14, 14, random, "1x1 stride 2", "dense-gemm");
}

TEST_CASE("conv_nchw: depthwise and grouped convolutions keep their paths", "[ops][conv_nchw]") {
    convscope::test::for_random_cases(31, 30, [](OpRandom& random, int index) {
        Conv2DGeometry g;
        const bool depthwise = index % 2 == 0;
        g.groups = depthwise ? random.size(2, 8) : random.size(2, 3);
        g.in_channels = depthwise ? g.groups : g.groups * random.size(2, 4);
        g.out_channels = g.groups * random.size(1, 3);
        g.kernel_h = random.size(1, 3);
        g.kernel_w = random.size(1, 3);
        g.stride_h = random.size(1, 2);
        g.stride_w = random.size(1, 2);
        g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = random.size(0, 1);
        const int64_t h = random.size(3, 12), w = random.size(3, 12);
        Conv2DNchwKernel probe(g, std::vector<float>(static_cast<size_t>(g.out_channels * (g.in_channels / g.groups) *
                                                                          g.kernel_h * g.kernel_w))
                                      .data(),
                               nullptr);
        const std::string algorithm = probe.algorithm();
        REQUIRE(algorithm != "dense-gemm");
        check_against_reference(g, random.size(1, 2), h, w, random, "grouped case " + std::to_string(index),
                                algorithm.c_str());
    });
}

TEST_CASE("conv_nchw: the reused padded-image scratch gives the same results as it grows and shrinks",
          "[ops][conv_nchw]") {
    // One thread runs shapes whose padded images are small, large, then small
    // again (the scratch grows once and is reused with stale contents from
    // the larger run); every run must still match the reference, including
    // batch > 1, odd sizes, asymmetric pads and both strides.
    OpRandom random(909);
    Conv2DGeometry stem;
    stem.in_channels = 3;
    stem.out_channels = 32;
    stem.kernel_h = stem.kernel_w = 3;
    stem.stride_h = stem.stride_w = 2;
    stem.pad_top = stem.pad_left = 1;
    stem.pad_bottom = stem.pad_right = 0;
    Conv2DGeometry wide = stem;
    wide.in_channels = 5;
    wide.out_channels = 7;
    wide.stride_h = wide.stride_w = 1;
    wide.pad_bottom = wide.pad_right = 2;
    check_against_reference(stem, 2, 9, 13, random, "small stem first", "dense-gemm");
    check_against_reference(wide, 3, 41, 37, random, "larger image grows the scratch", "dense-gemm");
    check_against_reference(stem, 2, 9, 13, random, "small stem after the large run", "dense-gemm");
    check_against_reference(stem, 1, 67, 45, random, "stem, odd sizes", "dense-gemm");
    check_against_reference(wide, 1, 3, 2, random, "tiny image after a large one", "dense-gemm");

    // The same kernel object run twice on different inputs: no state kept
    // between runs except the scratch.
    Conv2DGeometry g = stem;
    const int64_t h = 15, w = 17, oh = g.output_h(h), ow = g.output_w(w);
    std::vector<float> weights = random.floats(static_cast<size_t>(g.out_channels * g.in_channels * 9));
    std::vector<float> bias = random.floats(static_cast<size_t>(g.out_channels));
    Conv2DNchwKernel kernel(g, weights.data(), bias.data());
    for (int run = 0; run < 2; ++run) {
        std::vector<float> input = random.floats(static_cast<size_t>(g.in_channels * h * w));
        const size_t count = static_cast<size_t>(g.out_channels * oh * ow);
        std::vector<float> got(count, std::numeric_limits<float>::quiet_NaN()), want(count);
        kernel.run_with_padding(input.data(), 1, h, w, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, got.data());
        conv2d_nchw_reference(g, input.data(), 1, h, w, weights.data(), bias.data(), want.data());
        convscope::test::require_close(got, want, "repeated run " + std::to_string(run));
    }
}
