// Every threaded kernel gives bit-identical outputs with 1, 2 and 3 threads
// (the split is over independent outputs only), and agrees with its scalar
// reference. Shapes are odd on purpose (tails, partial tiles, several row
// tiles) and large enough that every kernel's grain lets it split.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/base/thread_pool.h"
#include "core/ops/activation.h"
#include "core/ops/conv.h"
#include "core/ops/conv_nchw.h"
#include "core/ops/depthwise.h"
#include "core/ops/elementwise.h"
#include "core/ops/gemm.h"
#include "core/ops/gemv.h"
#include "core/ops/pool.h"
#include "support/op_check.h"

using namespace convscope;
using convscope::test::OpRandom;

namespace {

struct ThreadCountGuard {
    ~ThreadCountGuard() { set_thread_count(1); }
};

// Runs `kernel` into a NaN-filled buffer of `count` floats with 1, 2 and 3
// threads; requires the three outputs to be equal bit for bit and returns
// the one-thread output.
std::vector<float> same_for_every_thread_count(size_t count, const std::function<void(float*)>& kernel,
                                               const std::string& what) {
    ThreadCountGuard guard;
    std::vector<float> first;
    for (int threads : {1, 2, 3}) {
        set_thread_count(threads);
        std::vector<float> out(count, std::numeric_limits<float>::quiet_NaN());
        kernel(out.data());
        if (threads == 1) {
            first = out;
            continue;
        }
        INFO(what << ": " << threads << " threads vs 1");
        REQUIRE(std::memcmp(out.data(), first.data(), count * sizeof(float)) == 0);
    }
    return first;
}

Conv2DGeometry conv_geometry(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride, int64_t pad,
                             int64_t groups = 1) {
    Conv2DGeometry g;
    g.in_channels = in_channels;
    g.out_channels = out_channels;
    g.kernel_h = g.kernel_w = kernel;
    g.stride_h = g.stride_w = stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad;
    g.groups = groups;
    return g;
}

void check_conv(const Conv2DGeometry& g, int64_t batch, int64_t h, int64_t w, uint32_t seed, const std::string& what) {
    OpRandom random(seed);
    const int64_t taps = g.kernel_h * g.kernel_w;
    std::vector<float> input = random.floats(static_cast<size_t>(batch * g.in_channels * h * w));
    std::vector<float> weights = random.floats(static_cast<size_t>(g.out_channels * (g.in_channels / g.groups) * taps));
    std::vector<float> bias = random.floats(static_cast<size_t>(g.out_channels));
    const size_t count = static_cast<size_t>(batch * g.out_channels * g.output_h(h) * g.output_w(w));
    Conv2DNchwKernel kernel(g, weights.data(), bias.data());
    std::vector<float> got = same_for_every_thread_count(count, [&](float* out) {
        kernel.run_with_padding(input.data(), batch, h, w, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, out);
    }, what);
    std::vector<float> want(count);
    conv2d_nchw_reference(g, input.data(), batch, h, w, weights.data(), bias.data(), want.data());
    convscope::test::require_close(got, want, what);
}

}  // namespace

TEST_CASE("threads: dense NCHW convolutions are bit-identical for 1, 2, 3 threads", "[ops][threads]") {
    check_conv(conv_geometry(7, 13, 3, 1, 1), 2, 23, 19, 1, "3x3 s1 13 channels");
    check_conv(conv_geometry(5, 11, 3, 2, 1), 1, 29, 27, 2, "3x3 s2");
    check_conv(conv_geometry(9, 10, 1, 1, 0), 2, 17, 21, 3, "1x1 pointwise (input read in place, tail panel)");
    check_conv(conv_geometry(6, 9, 5, 3, 2), 1, 31, 20, 4, "5x5 s3 (general phases)");
    check_conv(conv_geometry(3, 5, 3, 1, 1), 1, 13, 12, 5, "row tails of 4 (paired rows)");
    // Enough input channels x width that the image is cut into several row tiles.
    check_conv(conv_geometry(96, 6, 3, 1, 1), 1, 21, 61, 6, "several row tiles");
}

TEST_CASE("threads: depthwise planes are bit-identical for 1, 2, 3 threads", "[ops][threads]") {
    check_conv(conv_geometry(24, 24, 3, 1, 1, 24), 1, 23, 19, 7, "depthwise 3x3 s1");
    check_conv(conv_geometry(20, 20, 3, 2, 1, 20), 2, 27, 25, 8, "depthwise 3x3 s2");
    check_conv(conv_geometry(18, 36, 5, 1, 2, 18), 1, 21, 17, 9, "depthwise 5x5 multiplier 2");
}

TEST_CASE("threads: GEMM and GEMV are bit-identical for 1, 2, 3 threads", "[ops][threads]") {
    OpRandom random(10);
    {
        const int64_t m = 37, k = 19, n = 53;
        std::vector<float> a = random.floats(static_cast<size_t>(m * k)), b = random.floats(static_cast<size_t>(k * n));
        std::vector<float> bias = random.floats(static_cast<size_t>(n));
        const PackedMatrix packed = gemm_pack_b(b.data(), k, n, n, false);
        std::vector<float> got = same_for_every_thread_count(static_cast<size_t>(m * n), [&](float* c) {
            gemm_packed(m, a.data(), k, packed, c, n, bias.data());
        }, "gemm 37x19x53");
        std::vector<float> want(static_cast<size_t>(m * n));
        gemm_reference(m, n, k, a.data(), k, b.data(), n, want.data(), n, bias.data());
        convscope::test::require_close(got, want, "gemm 37x19x53");
    }
    for (int64_t m : {1, 3, 6}) {
        const int64_t k = 601, n = 301;
        std::vector<float> x = random.floats(static_cast<size_t>(m * k)), w = random.floats(static_cast<size_t>(k * n));
        std::vector<float> bias = random.floats(static_cast<size_t>(n));
        const std::string what = "gemv m=" + std::to_string(m);
        std::vector<float> got = same_for_every_thread_count(static_cast<size_t>(m * n), [&](float* y) {
            gemv_rows(m, k, n, x.data(), w.data(), bias.data(), y);
        }, what + " rows");
        std::vector<float> want(static_cast<size_t>(m * n));
        gemv_rows_reference(m, k, n, x.data(), w.data(), bias.data(), want.data());
        convscope::test::require_close(got, want, what + " rows");
        got = same_for_every_thread_count(static_cast<size_t>(m * n), [&](float* y) {
            gemv_transposed(m, k, n, x.data(), w.data(), bias.data(), y);
        }, what + " transposed");
        gemv_transposed_reference(m, k, n, x.data(), w.data(), bias.data(), want.data());
        convscope::test::require_close(got, want, what + " transposed");
    }
}

TEST_CASE("threads: pooling is bit-identical for 1, 2, 3 threads", "[ops][threads]") {
    OpRandom random(11);
    const int64_t planes = 41, h = 33, w = 31;
    std::vector<float> input = random.floats(static_cast<size_t>(planes * h * w));
    Pool2DGeometry g;
    g.kernel_h = g.kernel_w = 3;
    g.stride_h = g.stride_w = 2;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    const size_t count = static_cast<size_t>(planes * g.output_h(h) * g.output_w(w));
    for (PoolKind kind : {PoolKind::max, PoolKind::average}) {
        const std::string what = kind == PoolKind::max ? "max pool" : "average pool";
        std::vector<float> got = same_for_every_thread_count(count, [&](float* out) {
            pool2d_nchw(kind, g, input.data(), planes, h, w, out);
        }, what);
        std::vector<float> want(count);
        pool2d_nchw_reference(kind, g, input.data(), planes, h, w, want.data());
        convscope::test::require_close(got, want, what);
        const int64_t global_planes = 83;
        std::vector<float> global_input = random.floats(static_cast<size_t>(global_planes * 221));
        got = same_for_every_thread_count(static_cast<size_t>(global_planes), [&](float* out) {
            global_pool_nchw(kind, global_input.data(), global_planes, 221, out);
        }, "global " + what);
        want.assign(static_cast<size_t>(global_planes), 0.0f);
        global_pool_nchw_reference(kind, global_input.data(), global_planes, 221, want.data());
        convscope::test::require_close(got, want, "global " + what);
    }
}

TEST_CASE("threads: element-wise ops are bit-identical for 1, 2, 3 threads", "[ops][threads]") {
    OpRandom random(12);
    const int64_t count = 4096 * 9 + 13;  // several blocks and a scalar tail
    std::vector<float> input = random.floats(static_cast<size_t>(count), -4.0f, 4.0f);
    Activation tanh_like;
    tanh_like.kind = ActivationKind::tanh;
    Activation leaky;
    leaky.kind = ActivationKind::leaky_relu;
    leaky.alpha = 0.1f;
    for (const Activation& activation : {tanh_like, leaky}) {
        std::vector<float> got = same_for_every_thread_count(static_cast<size_t>(count), [&](float* out) {
            apply_activation(activation, input.data(), out, count);
        }, "activation");
        std::vector<float> want = input;
        activation_reference(activation, want.data(), count);
        convscope::test::require_close(got, want, "activation");
    }
    const int64_t outer = 3, channels = 11, inner = 1237;
    std::vector<float> x = random.floats(static_cast<size_t>(outer * channels * inner));
    std::vector<float> scale = random.floats(static_cast<size_t>(channels)), shift = random.floats(static_cast<size_t>(channels));
    std::vector<float> got = same_for_every_thread_count(x.size(), [&](float* out) {
        channel_affine(x.data(), out, outer, channels, inner, scale.data(), shift.data());
    }, "channel affine");
    std::vector<float> want(x.size());
    channel_affine_reference(x.data(), want.data(), outer, channels, inner, scale.data(), shift.data());
    convscope::test::require_close(got, want, "channel affine");
    Tensor a = Tensor::from_floats(Shape{outer, channels, 37, 41}, random.floats(static_cast<size_t>(outer * channels * 37 * 41)));
    Tensor b = Tensor::from_floats(Shape{1, channels, 1, 1}, random.floats(static_cast<size_t>(channels)));
    Tensor first;
    {
        ThreadCountGuard guard;
        for (int threads : {1, 2, 3}) {
            set_thread_count(threads);
            Tensor sum = binary_op(BinaryKind::add, a, b);
            if (threads == 1) {
                first = sum;
                continue;
            }
            REQUIRE(std::memcmp(sum.f32(), first.f32(), sum.element_count() * sizeof(float)) == 0);
        }
    }
    Tensor reference = binary_op_reference(BinaryKind::add, a, b);
    convscope::test::require_close(first.f32(), reference.f32(), reference.element_count(), "per-channel add");
}

TEST_CASE("threads: NHWC convolutions (Keras layout) are bit-identical for 1, 2, 3 threads", "[ops][threads]") {
    struct Case {
        Conv2DGeometry geometry;
        const char* what;
    };
    const Case cases[] = {
        {conv_geometry(5, 11, 3, 1, 1), "NHWC 3x3 (im2col + GEMM)"},
        {conv_geometry(6, 9, 3, 2, 1, 3), "NHWC grouped 3x3 s2"},
        {conv_geometry(13, 13, 3, 1, 1, 13), "NHWC depthwise 3x3"},
        {conv_geometry(7, 14, 5, 2, 2, 7), "NHWC depthwise 5x5 multiplier 2"},
    };
    OpRandom random(13);
    for (const Case& c : cases) {
        const Conv2DGeometry& g = c.geometry;
        const int64_t batch = 2, h = 23, w = 19;
        std::vector<float> input = random.floats(static_cast<size_t>(batch * h * w * g.in_channels));
        std::vector<float> weights =
            random.floats(static_cast<size_t>(g.kernel_h * g.kernel_w * (g.in_channels / g.groups) * g.out_channels));
        std::vector<float> bias = random.floats(static_cast<size_t>(g.out_channels));
        const size_t count = static_cast<size_t>(batch * g.output_h(h) * g.output_w(w) * g.out_channels);
        Conv2DKernel kernel(g, weights.data(), bias.data());
        std::vector<float> got = same_for_every_thread_count(count, [&](float* out) {
            kernel.run_with_padding(input.data(), batch, h, w, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, out);
        }, c.what);
        std::vector<float> want(count);
        conv2d_reference(g, input.data(), batch, h, w, weights.data(), bias.data(), want.data());
        convscope::test::require_close(got, want, c.what);
    }
}
