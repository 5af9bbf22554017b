#include <catch2/catch.hpp>

#include "core/ops/gemm.h"
#include "support/op_check.h"

using namespace convscope;
using convscope::test::OpRandom;

TEST_CASE("gemm: reference computes a hand-checked product", "[ops][gemm]") {
    // [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50], bias (1, -1)
    std::vector<float> a{1, 2, 3, 4}, b{5, 6, 7, 8}, c(4), bias{1, -1};
    gemm_reference(2, 2, 2, a.data(), 2, b.data(), 2, c.data(), 2, bias.data());
    REQUIRE(c == std::vector<float>{20, 21, 44, 49});
}

TEST_CASE("gemm: packed SIMD kernel matches the reference on random shapes", "[ops][gemm]") {
    convscope::test::for_random_cases(1234, 60, [](OpRandom& random, int index) {
        int64_t m = random.size(1, 37), n = random.size(1, 41), k = random.size(1, 50);
        bool transposed = random.coin(), with_bias = random.coin(), accumulate = random.coin();
        std::vector<float> a = random.floats(m * k), b = random.floats(k * n), bias = random.floats(n);
        std::vector<float> b_rows(k * n);  // b as k x n for the reference
        for (int64_t r = 0; r < k; ++r)
            for (int64_t j = 0; j < n; ++j) b_rows[r * n + j] = transposed ? b[j * k + r] : b[r * n + j];
        PackedMatrix packed = gemm_pack_b(b.data(), k, n, transposed ? k : n, transposed);
        std::vector<float> initial = random.floats(m * n);
        std::vector<float> got = initial, want = initial;
        gemm_packed(m, a.data(), k, packed, got.data(), n, with_bias ? bias.data() : nullptr, accumulate);
        gemm_reference(m, n, k, a.data(), k, b_rows.data(), n, want.data(), n, with_bias ? bias.data() : nullptr, accumulate);
        convscope::test::require_close(got, want, "gemm case " + std::to_string(index) + " m=" + std::to_string(m) +
                                                      " n=" + std::to_string(n) + " k=" + std::to_string(k));
    });
}
