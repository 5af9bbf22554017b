// The in-place dense kernels (core/ops/gemv.h) against their scalar
// references, and the engine running dense layers from the model's own
// weight bytes with no packed copy.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/builders.h"
#include "core/engine/engine.h"
#include "core/engine/plan.h"
#include "core/formats/registry.h"
#include "core/ops/gemm.h"
#include "core/ops/gemv.h"
#include "support/op_check.h"

using namespace convscope;

namespace {

// Runs `kernel` and `reference` on the same random case; y is given a
// guard zone after m x n that the kernel must not touch, and x and w are
// copied into buffers of exactly their size so a read past them is caught
// by ASan builds.
template <typename Kernel, typename Reference>
void check_case(test::OpRandom& random, int index, const char* name, Kernel kernel, Reference reference) {
    const int64_t m = random.size(1, 9), k = random.size(1, 67), n = random.size(1, 41);
    const bool with_bias = random.coin();
    std::vector<float> x = random.floats(static_cast<size_t>(m * k));
    std::vector<float> w = random.floats(static_cast<size_t>(k * n));
    std::vector<float> bias = random.floats(static_cast<size_t>(n));
    const float* b = with_bias ? bias.data() : nullptr;
    const float guard = 12345.0f;
    std::vector<float> got(static_cast<size_t>(m * n + 8), guard), want(static_cast<size_t>(m * n));
    // Stale values in y must not leak into the result.
    std::fill(got.begin(), got.begin() + m * n, -7.0f);
    kernel(m, k, n, x.data(), w.data(), b, got.data());
    reference(m, k, n, x.data(), w.data(), b, want.data());
    std::string what = std::string(name) + " case " + std::to_string(index) + " m=" + std::to_string(m) +
                       " k=" + std::to_string(k) + " n=" + std::to_string(n);
    test::require_close(got.data(), want.data(), want.size(), what);
    for (size_t i = static_cast<size_t>(m * n); i < got.size(); ++i) REQUIRE(got[i] == guard);
}

}  // namespace

TEST_CASE("gemv_rows (W k x n) matches its reference at odd sizes", "[gemv][ops]") {
    test::for_random_cases(20261126, 300, [](test::OpRandom& random, int index) {
        check_case(random, index, "gemv_rows", gemv_rows, gemv_rows_reference);
    });
}

TEST_CASE("gemv_transposed (W n x k) matches its reference at odd sizes", "[gemv][ops]") {
    test::for_random_cases(20261127, 300, [](test::OpRandom& random, int index) {
        check_case(random, index, "gemv_transposed", gemv_transposed, gemv_transposed_reference);
    });
}

TEST_CASE("gemv references agree with gemm_reference, and the tiled paths with the references", "[gemv][ops]") {
    // Larger m and k take the tiled loops (more than four rows, k past one tile).
    test::OpRandom random(20261128);
    const int64_t m = 11, k = 1031, n = 133;
    std::vector<float> x = random.floats(static_cast<size_t>(m * k));
    std::vector<float> w = random.floats(static_cast<size_t>(k * n));
    std::vector<float> bias = random.floats(static_cast<size_t>(n));
    std::vector<float> wt(w.size());
    for (int64_t p = 0; p < k; ++p)
        for (int64_t j = 0; j < n; ++j) wt[j * k + p] = w[p * n + j];
    std::vector<float> want(static_cast<size_t>(m * n)), got(want.size());
    gemm_reference(m, n, k, x.data(), k, w.data(), n, want.data(), n, bias.data());
    gemv_rows_reference(m, k, n, x.data(), w.data(), bias.data(), got.data());
    test::require_close(got, want, "gemv_rows_reference vs gemm_reference");
    gemv_transposed_reference(m, k, n, x.data(), wt.data(), bias.data(), got.data());
    test::require_close(got, want, "gemv_transposed_reference vs gemm_reference");
    gemv_rows(m, k, n, x.data(), w.data(), bias.data(), got.data());
    test::require_close(got, want, "gemv_rows tiled", 1e-3f);
    gemv_transposed(m, k, n, x.data(), wt.data(), bias.data(), got.data());
    test::require_close(got, want, "gemv_transposed tiled", 1e-3f);
}

namespace {

Layer keras_layer(const std::string& name, const std::string& type, const std::string& input) {
    Layer layer;
    layer.name = name;
    layer.type = type;
    if (!input.empty()) layer.inputs = {input};
    layer.outputs = {name};
    return layer;
}

}  // namespace

TEST_CASE("engine: a Keras Dense kernel that views file bytes runs in place, with no copy", "[gemv][engine]") {
    test::OpRandom random(20261129);
    const int64_t k = 37, n = 19;
    // The "file": the kernel's floats in a buffer the model views.
    auto file = std::make_shared<std::vector<float>>(random.floats(static_cast<size_t>(k * n)));
    std::vector<float> bias = random.floats(static_cast<size_t>(n));
    Tensor kernel = Tensor::view(DType::f32, {k, n}, reinterpret_cast<const uint8_t*>(file->data()), file);
    REQUIRE_FALSE(kernel.owns_data());

    Model model;
    model.format = ModelFormat::keras_h5;
    model.layout = DataLayout::channels_last;
    model.inputs = {ValueInfo{"input_1", {-1, k}, DType::f32}};
    Layer input = keras_layer("input_1", "InputLayer", "");
    model.layers.push_back(input);
    Layer dense = keras_layer("dense", "Dense", "input_1");
    dense.attributes["units"] = n;
    dense.attributes["use_bias"] = int64_t{1};
    dense.attributes["activation"] = std::string("linear");
    dense.weights = {{"dense/kernel:0", kernel}, {"dense/bias:0", Tensor::from_floats({n}, bias)}};
    model.layers.push_back(dense);
    Engine engine = Engine::build(model);
    bool in_place = false;
    for (const PlanStep& step : engine.plan_steps())
        if (step.layer_name == "dense") in_place = step.algorithm == "gemv-in-place";
    REQUIRE(in_place);

    const int64_t m = 3;
    std::vector<float> x = random.floats(static_cast<size_t>(m * k));
    auto run = [&] {
        Tensor out = engine.run(Tensor::from_floats({m, k}, x)).outputs.at("dense");
        return out.to_float_vector();
    };
    std::vector<float> want(static_cast<size_t>(m * n));
    gemv_rows_reference(m, k, n, x.data(), file->data(), bias.data(), want.data());
    test::require_close(run(), want, "dense in place");

    // The step reads the file's bytes themselves: changing them after the
    // build changes the output. A packed copy would not see this.
    for (float& v : *file) v *= -2.0f;
    gemv_rows_reference(m, k, n, x.data(), file->data(), bias.data(), want.data());
    test::require_close(run(), want, "dense after the file bytes changed");

    // An owned (decoded) kernel keeps the packed path.
    model.layers[1].weights[0].tensor = Tensor::from_floats({k, n}, *file);
    Engine packed = Engine::build(model);
    for (const PlanStep& step : packed.plan_steps())
        if (step.layer_name == "dense") REQUIRE(step.algorithm == "packed-gemm");
}

TEST_CASE("engine: ONNX Gemm/MatMul weights opened in place run from the file buffer and match the packed path", "[gemv][engine][onnx]") {
    // lenet: a PyTorch Gemm with transB; mnist-8 (corpus, CNTK): MatMul with
    // a 2-D initializer, the k x n layout.
    const std::string paths[] = {CONVSCOPE_SOURCE_DIR "/tests/fixtures/onnx/lenet_opset13.onnx",
                                 CONVSCOPE_SOURCE_DIR "/../shared/corpus/Baskov_PyTorch-__mnist-8.onnx"};
    for (const std::string& path : paths) {
        INFO(path);
        WritableFileBytes writable = read_file_bytes_writable(path);
        Model in_place_model = open_model_in_place(writable, path);
        Model copied_model = open_model(read_file_bytes(path), path);
        Engine in_place = Engine::build(in_place_model);
        Engine copied = Engine::build(copied_model);

        int gemv_steps = 0;
        for (const PlanStep& step : in_place.plan_steps()) {
            if (step.algorithm == "gemv-in-place") ++gemv_steps;
            if (step.layer_type == "Gemm") REQUIRE(step.algorithm == "gemv-in-place");
        }
        REQUIRE(gemv_steps >= 1);
        // open_model on const bytes copies misaligned weights (owned), which keep the packed path.
        int packed_steps = 0;
        for (const PlanStep& step : copied.plan_steps()) packed_steps += step.algorithm == "packed-gemm";
        REQUIRE(packed_steps >= 1);

        test::OpRandom random(20261130);
        Shape shape = in_place.input_shape();
        for (int64_t& d : shape) if (d < 1) d = 1;
        uint64_t count = 1;
        for (int64_t d : shape) count *= static_cast<uint64_t>(d);
        Tensor input = Tensor::from_floats(shape, random.floats(static_cast<size_t>(count)));
        RunResult a = in_place.run(input), b = copied.run(input);
        REQUIRE(a.outputs.size() == b.outputs.size());
        for (const auto& entry : b.outputs) {
            REQUIRE(a.outputs.count(entry.first) == 1);
            test::require_close(a.outputs.at(entry.first).to_float_vector(), entry.second.to_float_vector(), entry.first);
        }
    }
}

TEST_CASE("gemv batch-1 speed against the packed gemm (prints a ratio, asserts nothing about time)", "[.gemv-bench]") {
    // Hidden: run with `convscope_tests "[.gemv-bench]"`.
    test::OpRandom random(20261131);
    struct Size { int64_t k, n; };
    for (Size size : {Size{8192, 2048}, Size{2048, 2048}, Size{25088, 512}, Size{4096, 4096}, Size{512, 1000}}) {
        std::vector<float> x = random.floats(static_cast<size_t>(size.k));
        std::vector<float> w = random.floats(static_cast<size_t>(size.k * size.n));
        std::vector<float> wt(w.size());
        for (int64_t p = 0; p < size.k; ++p)
            for (int64_t j = 0; j < size.n; ++j) wt[j * size.k + p] = w[p * size.n + j];
        PackedMatrix packed = gemm_pack_b(w.data(), size.k, size.n, size.n, false);
        std::vector<float> y(static_cast<size_t>(size.n));
        auto best_of = [](auto body) {
            double best = 1e30;
            for (int round = 0; round < 7; ++round) {
                auto start = std::chrono::steady_clock::now();
                body();
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            }
            return best;
        };
        double t_packed = best_of([&] { gemm_packed(1, x.data(), size.k, packed, y.data(), size.n, nullptr); });
        double t_rows = best_of([&] { gemv_rows(1, size.k, size.n, x.data(), w.data(), nullptr, y.data()); });
        double t_transposed = best_of([&] { gemv_transposed(1, size.k, size.n, x.data(), wt.data(), nullptr, y.data()); });
        std::printf("gemv k=%lld n=%lld: packed %.3f ms, rows %.3f ms (%.2fx), transposed %.3f ms (%.2fx)\n",
                    static_cast<long long>(size.k), static_cast<long long>(size.n), t_packed * 1e3, t_rows * 1e3,
                    t_packed / t_rows, t_transposed * 1e3, t_packed / t_transposed);
    }
    SUCCEED();
}
