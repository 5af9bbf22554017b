#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/base/error.h"
#include "core/ops/activation.h"
#include "core/ops/elementwise.h"
#include "core/ops/pool.h"
#include "support/op_check.h"

using namespace convscope;
using convscope::test::OpRandom;

TEST_CASE("pool: ceil_mode drops a window that starts in the padding only", "[ops][pool]") {
    // PyTorch: in 6, k 3, s 2, ceil -> 3 (windows at 0, 2, 4); in 5, k 2, s 2, ceil -> 3
    REQUIRE(pool_output_size(6, 3, 2, 1, 0, 0, true) == 3);
    REQUIRE(pool_output_size(5, 2, 2, 1, 0, 0, true) == 3);
    REQUIRE(pool_output_size(5, 2, 2, 1, 0, 0, false) == 2);
    // pad 1 each side, in 4, k 2, s 2, ceil: windows start -1, 1, 3; the next would start at 5 = in + pad -> dropped
    REQUIRE(pool_output_size(4, 2, 2, 1, 1, 1, true) == 3);
}

TEST_CASE("pool: average excludes or includes padding as asked", "[ops][pool]") {
    // 2x2 input of ones, 3x3 window, pad 1: the top-left window covers 4 real pixels of 9
    std::vector<float> input(4, 1.0f), out(4);
    Pool2DGeometry g;
    g.kernel_h = g.kernel_w = 3;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    pool2d(PoolKind::average, g, input.data(), 1, 2, 2, 1, out.data());
    REQUIRE(out[0] == Approx(1.0f));
    g.count_include_pad = true;
    pool2d(PoolKind::average, g, input.data(), 1, 2, 2, 1, out.data());
    REQUIRE(out[0] == Approx(4.0f / 9.0f));
}

TEST_CASE("pool: SIMD pooling matches the reference", "[ops][pool]") {
    convscope::test::for_random_cases(5, 60, [](OpRandom& random, int index) {
        Pool2DGeometry g;
        g.kernel_h = random.size(1, 4);
        g.kernel_w = random.size(1, 4);
        g.stride_h = random.size(1, 3);
        g.stride_w = random.size(1, 3);
        g.dilation_h = random.size(1, 2);
        g.pad_top = random.size(0, g.kernel_h / 2);
        g.pad_bottom = random.size(0, g.kernel_h / 2);
        g.pad_left = random.size(0, g.kernel_w / 2);
        g.ceil_mode = random.coin();
        g.count_include_pad = random.coin();
        int64_t h = random.size(4, 11), w = random.size(4, 11), c = random.size(1, 13);
        std::vector<float> input = random.floats(h * w * c);
        PoolKind kind = index % 2 ? PoolKind::max : PoolKind::average;
        std::vector<float> got(g.output_h(h) * g.output_w(w) * c), want(got.size());
        pool2d(kind, g, input.data(), 1, h, w, c, got.data());
        pool2d_reference(kind, g, input.data(), 1, h, w, c, want.data());
        convscope::test::require_close(got, want, "pool case " + std::to_string(index));
        std::vector<float> global_got(c), global_want(c);
        global_pool(kind, input.data(), 1, h * w, c, global_got.data());
        global_pool_reference(kind, input.data(), 1, h * w, c, global_want.data());
        convscope::test::require_close(global_got, global_want, "global pool case " + std::to_string(index));
    });
}

TEST_CASE("pool: NCHW pooling matches the reference (strides 1-3, dilation, ceil_mode, pads)", "[ops][pool]") {
    convscope::test::for_random_cases(17, 160, [](OpRandom& random, int index) {
        Pool2DGeometry g;
        g.kernel_h = random.size(1, 4);
        g.kernel_w = random.size(1, 4);
        // Stride 2 with dilation 1 and stride 1 have SIMD paths; bias towards them.
        g.stride_h = random.size(1, 3);
        g.stride_w = index % 3 == 0 ? 2 : random.size(1, 3);
        g.dilation_h = random.size(1, 2);
        g.dilation_w = index % 3 == 0 ? 1 : random.size(1, 2);
        g.pad_top = random.size(0, g.kernel_h / 2);
        g.pad_bottom = random.size(0, g.kernel_h / 2);
        g.pad_left = random.size(0, g.kernel_w / 2);
        g.pad_right = random.size(0, g.kernel_w / 2);
        g.ceil_mode = random.coin();
        g.count_include_pad = random.coin();
        int64_t planes = random.size(1, 5), h = random.size(4, 15), w = random.size(4, 31);
        std::vector<float> input = random.floats(planes * h * w);
        PoolKind kind = index % 2 ? PoolKind::max : PoolKind::average;
        size_t count = static_cast<size_t>(planes * g.output_h(h) * g.output_w(w));
        // NaN-filled: an output the kernel forgets to write fails the comparison.
        std::vector<float> got(count, std::nanf("")), want(count);
        pool2d_nchw(kind, g, input.data(), planes, h, w, got.data());
        pool2d_nchw_reference(kind, g, input.data(), planes, h, w, want.data());
        convscope::test::require_close(got, want, "NCHW pool case " + std::to_string(index));
        std::vector<float> global_got(planes, std::nanf("")), global_want(planes);
        global_pool_nchw(kind, input.data(), planes, h * w, global_got.data());
        global_pool_nchw_reference(kind, input.data(), planes, h * w, global_want.data());
        convscope::test::require_close(global_got, global_want, "NCHW global pool case " + std::to_string(index));
    });
}

TEST_CASE("pool: NCHW 3x3 stride 2 max pool by hand (ResNet stem shape, pad 1)", "[ops][pool]") {
    // 1 plane 4x4 of 0..15, 3x3 s2 p1 -> 2x2; each output is the largest
    // real pixel of its window: windows cover rows/cols {-1,0,1} and {1,2,3}.
    std::vector<float> input(16);
    for (int i = 0; i < 16; ++i) input[i] = static_cast<float>(i);
    Pool2DGeometry g;
    g.kernel_h = g.kernel_w = 3;
    g.stride_h = g.stride_w = 2;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    std::vector<float> out(4, -1.0f);
    pool2d_nchw(PoolKind::max, g, input.data(), 1, 4, 4, out.data());
    REQUIRE(out == std::vector<float>{5, 7, 13, 15});
    pool2d_nchw(PoolKind::average, g, input.data(), 1, 4, 4, out.data());
    // Top-left window holds 0, 1, 4, 5 (padding excluded).
    REQUIRE(out[0] == Approx(2.5f));
}

TEST_CASE("activation: SIMD paths match the scalar reference, incl. tails", "[ops][activation]") {
    convscope::test::for_random_cases(11, 20, [](OpRandom& random, int index) {
        std::vector<ActivationKind> kinds{ActivationKind::relu, ActivationKind::clip, ActivationKind::leaky_relu,
                                          ActivationKind::sigmoid, ActivationKind::gelu};
        Activation a;
        a.kind = kinds[index % kinds.size()];
        a.alpha = a.kind == ActivationKind::relu ? INFINITY : a.kind == ActivationKind::clip ? -0.5f : 0.1f;
        a.beta = a.kind == ActivationKind::clip ? 0.5f : 0.0f;
        std::vector<float> data = random.floats(random.size(1, 23), -3, 3), want = data;
        apply_activation(a, data.data(), static_cast<int64_t>(data.size()));
        activation_reference(a, want.data(), static_cast<int64_t>(want.size()));
        convscope::test::require_close(data, want, "activation case " + std::to_string(index));
    });
}

TEST_CASE("elementwise: broadcasting fast paths match the general loop", "[ops][elementwise]") {
    convscope::test::for_random_cases(3, 40, [](OpRandom& random, int index) {
        Shape big{random.size(1, 3), random.size(1, 5), random.size(1, 7)};
        Shape small = big;
        int pattern = index % 4;
        if (pattern == 0) small = {big[2]};
        if (pattern == 1) small = {};
        if (pattern == 2) small = {big[0], 1, big[2]};
        Tensor a = Tensor::from_floats(big, random.floats(shape_element_count(big)));
        Tensor b = Tensor::from_floats(small, random.floats(shape_element_count(small), 0.5f, 2.0f));
        for (BinaryKind kind : {BinaryKind::add, BinaryKind::subtract, BinaryKind::divide, BinaryKind::maximum}) {
            Tensor got = binary_op(kind, b, a), want = binary_op_reference(kind, b, a);
            REQUIRE(got.shape() == big);
            convscope::test::require_close(got.f32(), want.f32(), got.element_count(),
                                           std::string("binary ") + binary_kind_name(kind) + " case " + std::to_string(index));
        }
    });
    // Hand-checked: [[1],[2]] + [10, 20, 30] -> 2x3
    Tensor column = Tensor::from_floats({2, 1}, {1, 2}), row = Tensor::from_floats({3}, {10, 20, 30});
    Tensor sum = binary_op(BinaryKind::add, column, row);
    REQUIRE(sum.shape() == Shape{2, 3});
    REQUIRE(sum.to_float_vector() == std::vector<float>{11, 21, 31, 12, 22, 32});
    REQUIRE_THROWS_AS(binary_op(BinaryKind::add, Tensor::from_floats({2}, {1, 2}), row), UnsupportedError);
}

TEST_CASE("elementwise: per-channel and equal-shape NCHW operands match the general loop", "[ops][elementwise]") {
    convscope::test::for_random_cases(23, 60, [](OpRandom& random, int index) {
        Shape big{random.size(1, 3), random.size(1, 6), random.size(1, 7), random.size(1, 9)};
        Shape small;
        switch (index % 5) {
            case 0: small = {1, big[1], 1, 1}; break;       // NCHW bias / scale
            case 1: small = {big[1], 1, 1}; break;          // the same without the batch axis
            case 2: small = {big[0], big[1], 1, 1}; break;  // squeeze-excitation gate
            case 3: small = {1, big[1], big[2], 1}; break;  // a middle block of two axes
            default: small = big; break;                    // residual add
        }
        Tensor a = Tensor::from_floats(big, random.floats(shape_element_count(big)));
        Tensor b = Tensor::from_floats(small, random.floats(shape_element_count(small), 0.5f, 2.0f));
        for (BinaryKind kind : {BinaryKind::add, BinaryKind::subtract, BinaryKind::multiply, BinaryKind::divide, BinaryKind::minimum}) {
            for (bool small_left : {false, true}) {
                Tensor got = small_left ? binary_op(kind, b, a) : binary_op(kind, a, b);
                Tensor want = small_left ? binary_op_reference(kind, b, a) : binary_op_reference(kind, a, b);
                REQUIRE(got.shape() == big);
                convscope::test::require_close(got.f32(), want.f32(), got.element_count(),
                                               std::string("binary ") + binary_kind_name(kind) + " case " + std::to_string(index) +
                                                   (small_left ? " small left" : " small right"));
            }
        }
    });
}

TEST_CASE("activation: out-of-place SIMD activation matches the reference and leaves the input alone", "[ops][activation]") {
    convscope::test::for_random_cases(41, 24, [](OpRandom& random, int index) {
        int64_t count = random.size(0, 70);
        std::vector<float> input = random.floats(count, -8.0f, 8.0f), original = input;
        Activation a;
        const ActivationKind kinds[] = {ActivationKind::relu, ActivationKind::clip, ActivationKind::leaky_relu,
                                        ActivationKind::sigmoid, ActivationKind::linear, ActivationKind::hard_swish};
        a.kind = kinds[index % 6];
        a.alpha = a.kind == ActivationKind::relu ? std::numeric_limits<float>::infinity() : a.kind == ActivationKind::clip ? 0.0f : 0.1f;
        a.beta = a.kind == ActivationKind::clip ? 6.0f : 0.0f;
        std::vector<float> got(count, std::nanf("")), want = input;
        apply_activation(a, input.data(), got.data(), count);
        activation_reference(a, want.data(), count);
        REQUIRE(input == original);
        convscope::test::require_close(got, want, "out-of-place activation case " + std::to_string(index), 1e-6f);
    });
}

TEST_CASE("elementwise: channel affine SIMD matches the reference", "[ops][elementwise]") {
    convscope::test::for_random_cases(17, 20, [](OpRandom& random, int index) {
        int64_t outer = random.size(1, 4), channels = random.size(1, 11), inner = index % 2 ? 1 : random.size(1, 9);
        std::vector<float> x = random.floats(outer * channels * inner), scale = random.floats(channels), shift = random.floats(channels);
        std::vector<float> got(x.size()), want(x.size());
        channel_affine(x.data(), got.data(), outer, channels, inner, scale.data(), shift.data());
        channel_affine_reference(x.data(), want.data(), outer, channels, inner, scale.data(), shift.data());
        convscope::test::require_close(got, want, "affine case " + std::to_string(index));
    });
}
