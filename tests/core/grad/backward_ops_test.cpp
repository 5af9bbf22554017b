// Every backward function against central finite differences of the matching
// forward operator from src/core/ops, on small random shapes drawn from a
// seeded generator (odd sizes, strides, dilations, groups, padding).
#include <catch2/catch.hpp>

#include <cmath>

#include "core/grad/backward_ops.h"
#include "core/ops/conv.h"
#include "core/ops/gemm.h"
#include "core/ops/pool.h"
#include "support/grad_check.h"
#include "support/op_check.h"

using namespace convscope;
using convscope::test::numeric_gradient;
using convscope::test::OpRandom;
using convscope::test::require_gradient_close;
using convscope::test::weighted_sum;

TEST_CASE("conv2d backward matches finite differences", "[grad][conv]") {
    OpRandom random(20240601);
    struct Case { int64_t cin, cout, groups, k, stride, dilation, pad; };
    std::vector<Case> cases = {{3, 4, 1, 3, 1, 1, 1}, {2, 3, 1, 3, 2, 1, 0}, {4, 4, 4, 3, 1, 1, 1}, {3, 6, 3, 3, 2, 2, 2},
                               {4, 6, 2, 2, 1, 2, 1}, {5, 2, 1, 1, 1, 1, 0}, {2, 4, 2, 3, 3, 1, 2}};
    for (const Case& c : cases) {
        Conv2DGeometry g;
        g.in_channels = c.cin; g.out_channels = c.cout; g.groups = c.groups;
        g.kernel_h = c.k; g.kernel_w = c.k == 1 ? 1 : c.k - 1;
        g.stride_h = c.stride; g.stride_w = 1;
        g.dilation_h = c.dilation; g.dilation_w = 1;
        g.pad_top = c.pad; g.pad_left = c.pad > 0 ? 1 : 0; g.pad_bottom = 0; g.pad_right = c.pad;
        const int64_t h = random.size(5, 8), w = random.size(4, 7), batch = 2;
        std::vector<float> weights = random.floats(static_cast<size_t>(g.kernel_h * g.kernel_w * (c.cin / c.groups) * c.cout));
        std::vector<float> x = random.floats(static_cast<size_t>(batch * h * w * c.cin));
        const int64_t oh = g.output_h(h), ow = g.output_w(w);
        std::vector<float> r = random.floats(static_cast<size_t>(batch * oh * ow * c.cout));
        auto loss = [&](const std::vector<float>& input) {
            std::vector<float> y(r.size());
            conv2d_reference(g, input.data(), batch, h, w, weights.data(), nullptr, y.data());
            return weighted_sum(r, y.data());
        };
        std::vector<double> numeric = numeric_gradient(loss, x);
        std::vector<float> packed(x.size()), reference(x.size());
        conv2d_backward_input(conv2d_backward_pack(g, weights.data()), g, batch, h, w, r.data(), packed.data());
        conv2d_backward_input_reference(g, weights.data(), batch, h, w, r.data(), reference.data());
        std::string what = "conv cin " + std::to_string(c.cin) + " groups " + std::to_string(c.groups);
        require_gradient_close(packed.data(), numeric, what + " (packed)");
        require_gradient_close(reference.data(), numeric, what + " (reference)");
    }
}

TEST_CASE("dense backward matches finite differences", "[grad][dense]") {
    OpRandom random(7);
    for (int trial = 0; trial < 3; ++trial) {
        const int64_t rows = random.size(1, 4), k = random.size(1, 13), n = random.size(1, 11);
        std::vector<float> weights = random.floats(static_cast<size_t>(k * n));
        std::vector<float> x = random.floats(static_cast<size_t>(rows * k));
        std::vector<float> r = random.floats(static_cast<size_t>(rows * n));
        auto loss = [&](const std::vector<float>& input) {
            std::vector<float> y(r.size());
            gemm_reference(rows, n, k, input.data(), k, weights.data(), n, y.data(), n, nullptr);
            return weighted_sum(r, y.data());
        };
        std::vector<float> dx(x.size());
        dense_backward_input(dense_backward_pack(weights.data(), k, n), rows, r.data(), dx.data());
        require_gradient_close(dx.data(), numeric_gradient(loss, x), "dense " + std::to_string(k) + "x" + std::to_string(n));
    }
}

TEST_CASE("pooling backward matches finite differences", "[grad][pool]") {
    OpRandom random(99);
    struct Case { PoolKind kind; int64_t k, stride, pad; bool ceil, include_pad; };
    std::vector<Case> cases = {{PoolKind::max, 2, 2, 0, false, false}, {PoolKind::max, 3, 2, 1, true, false},
                               {PoolKind::average, 2, 2, 0, false, false}, {PoolKind::average, 3, 2, 1, false, false},
                               {PoolKind::average, 3, 2, 1, true, true}, {PoolKind::max, 3, 1, 1, false, false}};
    for (const Case& c : cases) {
        Pool2DGeometry g;
        g.kernel_h = g.kernel_w = c.k;
        g.stride_h = g.stride_w = c.stride;
        g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = c.pad;
        g.ceil_mode = c.ceil;
        g.count_include_pad = c.include_pad;
        const int64_t h = random.size(4, 7), w = random.size(4, 7), ch = random.size(1, 5), batch = 2;
        // Distinct values keep max pooling away from ties, where it is not differentiable.
        std::vector<float> x(static_cast<size_t>(batch * h * w * ch));
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i) * 1.7f + 0.3f) * 3.0f;
        std::vector<float> r = random.floats(static_cast<size_t>(batch * g.output_h(h) * g.output_w(w) * ch));
        auto loss = [&](const std::vector<float>& input) {
            std::vector<float> y(r.size());
            pool2d_reference(c.kind, g, input.data(), batch, h, w, ch, y.data());
            return weighted_sum(r, y.data());
        };
        std::vector<float> dx(x.size());
        pool2d_backward(c.kind, g, x.data(), batch, h, w, ch, r.data(), dx.data());
        require_gradient_close(dx.data(), numeric_gradient(loss, x), std::string(c.kind == PoolKind::max ? "max" : "avg") + " pool k" + std::to_string(c.k));
    }
    for (PoolKind kind : {PoolKind::max, PoolKind::average}) {
        const int64_t batch = 2, pixels = 9, ch = 3;
        std::vector<float> x(static_cast<size_t>(batch * pixels * ch));
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(static_cast<float>(i) * 2.3f);
        std::vector<float> r = random.floats(static_cast<size_t>(batch * ch));
        auto loss = [&](const std::vector<float>& input) {
            std::vector<float> y(r.size());
            global_pool_reference(kind, input.data(), batch, pixels, ch, y.data());
            return weighted_sum(r, y.data());
        };
        std::vector<float> dx(x.size());
        global_pool_backward(kind, x.data(), batch, pixels, ch, r.data(), dx.data());
        require_gradient_close(dx.data(), numeric_gradient(loss, x), "global pool");
    }
}

TEST_CASE("activation backward matches finite differences, from the input and from the output", "[grad][activation]") {
    OpRandom random(5);
    std::vector<Activation> kinds;
    for (ActivationKind kind : {ActivationKind::linear, ActivationKind::relu, ActivationKind::leaky_relu, ActivationKind::elu,
                                ActivationKind::selu, ActivationKind::sigmoid, ActivationKind::tanh, ActivationKind::softplus,
                                ActivationKind::softsign, ActivationKind::swish, ActivationKind::gelu, ActivationKind::gelu_tanh,
                                ActivationKind::hard_swish, ActivationKind::exponential, ActivationKind::erf, ActivationKind::clip,
                                ActivationKind::hard_sigmoid}) {
        Activation a;
        a.kind = kind;
        if (kind == ActivationKind::relu) a.alpha = 6.0f;
        if (kind == ActivationKind::leaky_relu) a.alpha = 0.1f;
        if (kind == ActivationKind::elu) a.alpha = 1.0f;
        if (kind == ActivationKind::clip) { a.alpha = -0.5f; a.beta = 0.7f; }
        if (kind == ActivationKind::hard_sigmoid) { a.alpha = 0.2f; a.beta = 0.5f; }
        kinds.push_back(a);
    }
    for (const Activation& a : kinds) {
        std::vector<float> x = random.floats(40, -2.5f, 2.5f);
        std::vector<float> r = random.floats(x.size());
        auto loss = [&](const std::vector<float>& input) {
            std::vector<float> y = input;
            activation_reference(a, y.data(), static_cast<int64_t>(y.size()));
            return weighted_sum(r, y.data());
        };
        std::vector<float> y = x;
        activation_reference(a, y.data(), static_cast<int64_t>(y.size()));
        std::vector<double> numeric = numeric_gradient(loss, x, 1e-3);
        std::vector<float> dx(x.size());
        activation_backward(a, x.data(), y.data(), r.data(), dx.data(), static_cast<int64_t>(x.size()));
        std::string what = std::string("activation ") + std::to_string(static_cast<int>(a.kind));
        require_gradient_close(dx.data(), numeric, what, 3e-3);
        if (activation_derivative_from_output(a)) {
            activation_backward(a, nullptr, y.data(), r.data(), dx.data(), static_cast<int64_t>(x.size()));
            require_gradient_close(dx.data(), numeric, what + " from output", 3e-3);
        }
    }
}

TEST_CASE("softmax and log-softmax backward match finite differences", "[grad][softmax]") {
    OpRandom random(11);
    for (bool log_softmax : {false, true}) {
        const int64_t outer = 2, length = 5, inner = 3;
        std::vector<float> x = random.floats(static_cast<size_t>(outer * length * inner), -2.0f, 2.0f);
        std::vector<float> r = random.floats(x.size());
        auto loss = [&](const std::vector<float>& input) {
            std::vector<float> y(input.size());
            softmax(input.data(), y.data(), outer, length, inner, log_softmax);
            return weighted_sum(r, y.data());
        };
        std::vector<float> y(x.size()), dx(x.size());
        softmax(x.data(), y.data(), outer, length, inner, log_softmax);
        softmax_backward(y.data(), r.data(), dx.data(), outer, length, inner, log_softmax);
        require_gradient_close(dx.data(), numeric_gradient(loss, x), log_softmax ? "log-softmax" : "softmax");
    }
}

namespace {

// A central difference whose +-h step crosses the point where min/max switch
// operands measures a blend of both sides, not the derivative: with seed 13
// a[0] = 0.69805 and b[1] = 0.69755 sit 5e-4 apart, inside h = 1e-3, and the
// "numeric" value came out 9% off. Nudging every element of a that lies near
// any element of b keeps each pair well clear of the kink, so the comparison
// tests the backward and not the sampling.
void keep_apart_from(Tensor& a, const Tensor& b, float gap) {
    float* av = a.mutable_f32();
    const std::vector<float> bv = b.to_float_vector();
    for (uint64_t i = 0; i < a.element_count(); ++i) {
        for (int attempt = 0; attempt < 100; ++attempt) {
            bool near = false;
            for (float v : bv) near = near || std::fabs(av[i] - v) < gap;
            if (!near) break;
            av[i] += gap;
        }
    }
}

}  // namespace

TEST_CASE("broadcasting binary backward matches finite differences for both operands", "[grad][binary]") {
    OpRandom random(13);
    std::vector<std::pair<Shape, Shape>> shapes = {{{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{1}, {2, 3}}};
    for (BinaryKind kind : {BinaryKind::add, BinaryKind::subtract, BinaryKind::multiply, BinaryKind::divide, BinaryKind::maximum,
                            BinaryKind::minimum, BinaryKind::power}) {
        for (const auto& shape_pair : shapes) {
            // Named copies, not structured bindings: clang (em++) cannot capture those in lambdas.
            const Shape sa = shape_pair.first;
            const Shape sb = shape_pair.second;
            Tensor a = Tensor::from_floats(sa, random.floats(shape_element_count(sa), 0.5f, 2.0f));
            if (kind == BinaryKind::maximum || kind == BinaryKind::minimum) for (uint64_t i = 0; i < a.element_count(); ++i) a.mutable_f32()[i] += 3.0f * static_cast<float>(i % 2);
            Tensor b = Tensor::from_floats(sb, random.floats(shape_element_count(sb), 0.6f, 1.9f));
            if (kind == BinaryKind::maximum || kind == BinaryKind::minimum) keep_apart_from(a, b, 0.02f);
            Shape out = broadcast_shapes(sa, sb, "test");
            std::vector<float> r = random.floats(shape_element_count(out));
            auto [da, db] = binary_backward(kind, a, b, Tensor::from_floats(out, r));
            auto loss_a = [&](const std::vector<float>& v) { return weighted_sum(r, binary_op(kind, Tensor::from_floats(sa, v), b).f32()); };
            auto loss_b = [&](const std::vector<float>& v) { return weighted_sum(r, binary_op(kind, a, Tensor::from_floats(sb, v)).f32()); };
            std::string what = std::string(binary_kind_name(kind)) + " " + shape_to_string(sa) + " " + shape_to_string(sb);
            REQUIRE(da.shape() == sa);
            REQUIRE(db.shape() == sb);
            require_gradient_close(da.f32(), numeric_gradient(loss_a, a.to_float_vector()), what + " d/da", 3e-3);
            require_gradient_close(db.f32(), numeric_gradient(loss_b, b.to_float_vector()), what + " d/db", 3e-3);
        }
    }
}

TEST_CASE("reduce backward matches finite differences", "[grad][reduce]") {
    OpRandom random(17);
    Shape shape{2, 3, 4};
    std::vector<float> x(24);
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i) * 0.9f);
    for (ReduceKind kind : {ReduceKind::mean, ReduceKind::sum, ReduceKind::max, ReduceKind::min}) {
        for (bool keep : {false, true}) {
            std::vector<int64_t> axes{1, 2};
            Tensor y = reduce(Tensor::from_floats(shape, x), axes, kind, keep);
            std::vector<float> r = random.floats(y.element_count());
            auto loss = [&](const std::vector<float>& v) { return weighted_sum(r, reduce(Tensor::from_floats(shape, v), axes, kind, keep).f32()); };
            Tensor dx = reduce_backward(kind, Tensor::from_floats(shape, x), y, axes, Tensor::from_floats(y.shape(), r));
            require_gradient_close(dx.f32(), numeric_gradient(loss, x), "reduce " + std::to_string(static_cast<int>(kind)));
        }
    }
}
