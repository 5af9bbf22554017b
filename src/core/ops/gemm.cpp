#include "core/ops/gemm.h"

#include <algorithm>
#include <cstring>

#include "core/base/thread_pool.h"
#include "core/simd/simd.h"

namespace convscope {

PackedMatrix gemm_pack_b(const float* b, int64_t k, int64_t n, int64_t ld, bool transposed) {
    PackedMatrix packed;
    packed.rows = k;
    packed.columns = n;
    int64_t panel_count = (n + gemm_panel_width - 1) / gemm_panel_width;
    packed.panels.assign(static_cast<size_t>(panel_count * k * gemm_panel_width), 0.0f);
    for (int64_t p = 0; p < panel_count; ++p) {
        float* panel = packed.panels.data() + p * k * gemm_panel_width;
        int64_t first = p * gemm_panel_width;
        int64_t width = std::min(gemm_panel_width, n - first);
        for (int64_t row = 0; row < k; ++row) {
            for (int64_t j = 0; j < width; ++j) {
                panel[row * gemm_panel_width + j] =
                    transposed ? b[(first + j) * ld + row] : b[row * ld + first + j];
            }
        }
    }
    return packed;
}

void gemm_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float* c, int64_t ldc, const float* bias, bool accumulate) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (int64_t p = 0; p < k; ++p) sum += a[i * lda + p] * b[p * ldb + j];
            if (bias) sum += bias[j];
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
        }
    }
}

namespace {

using namespace simd;

// Rows x 8 block of C from `rows` (1..4) rows of A and one packed panel.
// Writes `width` (1..8) columns.
template <int Rows>
void micro_kernel(int64_t k, const float* a, int64_t lda, const float* panel, float* c,
                  int64_t ldc, const float* bias, int64_t width, bool accumulate) {
    v128_t acc_lo[Rows], acc_hi[Rows];
    for (int r = 0; r < Rows; ++r) acc_lo[r] = acc_hi[r] = zero_f32x4();
    const float* a_rows[Rows];
    for (int r = 0; r < Rows; ++r) a_rows[r] = a + r * lda;
    for (int64_t p = 0; p < k; ++p) {
        v128_t b_lo = load_f32x4(panel + p * gemm_panel_width);
        v128_t b_hi = load_f32x4(panel + p * gemm_panel_width + 4);
        for (int r = 0; r < Rows; ++r) {
            v128_t a_value = splat_f32x4(a_rows[r][p]);
            acc_lo[r] = madd_f32x4(acc_lo[r], a_value, b_lo);
            acc_hi[r] = madd_f32x4(acc_hi[r], a_value, b_hi);
        }
    }
    alignas(16) float bias_lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (bias) for (int64_t j = 0; j < width; ++j) bias_lanes[j] = bias[j];
    v128_t bias_lo = load_f32x4(bias_lanes), bias_hi = load_f32x4(bias_lanes + 4);
    for (int r = 0; r < Rows; ++r) {
        float* c_row = c + r * ldc;
        v128_t lo = wasm_f32x4_add(acc_lo[r], bias_lo);
        v128_t hi = wasm_f32x4_add(acc_hi[r], bias_hi);
        if (width == 8) {
            if (accumulate) {
                lo = wasm_f32x4_add(lo, load_f32x4(c_row));
                hi = wasm_f32x4_add(hi, load_f32x4(c_row + 4));
            }
            store_f32x4(c_row, lo);
            store_f32x4(c_row + 4, hi);
        } else {
            alignas(16) float lanes[8];
            store_f32x4(lanes, lo);
            store_f32x4(lanes + 4, hi);
            for (int64_t j = 0; j < width; ++j) c_row[j] = accumulate ? c_row[j] + lanes[j] : lanes[j];
        }
    }
}

}  // namespace

void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedMatrix& b, float* c,
                 int64_t ldc, const float* bias, bool accumulate) {
    const int64_t k = b.rows, n = b.columns;
    const int64_t panel_count = (n + gemm_panel_width - 1) / gemm_panel_width;
    // Row blocks keep a slice of A in cache while every panel of B passes.
    constexpr int64_t row_block = 64;
    // Threads split the panels of B (columns of C): each element of C is
    // summed by one thread, in the one-thread order.
    parallel_for(panel_count, [&](int64_t first_panel, int64_t end_panel) {
        for (int64_t row_start = 0; row_start < m; row_start += row_block) {
            int64_t row_end = std::min(m, row_start + row_block);
            for (int64_t p = first_panel; p < end_panel; ++p) {
                const float* panel = b.panels.data() + p * k * gemm_panel_width;
                int64_t first = p * gemm_panel_width;
                int64_t width = std::min(gemm_panel_width, n - first);
                const float* panel_bias = bias ? bias + first : nullptr;
                int64_t i = row_start;
                for (; i + 4 <= row_end; i += 4) {
                    micro_kernel<4>(k, a + i * lda, lda, panel, c + i * ldc + first, ldc, panel_bias, width, accumulate);
                }
                for (; i < row_end; ++i) {
                    micro_kernel<1>(k, a + i * lda, lda, panel, c + i * ldc + first, ldc, panel_bias, width, accumulate);
                }
            }
        }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(m * k * gemm_panel_width, 1)));
}

}  // namespace convscope
