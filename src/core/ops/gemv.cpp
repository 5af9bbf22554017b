#include "core/ops/gemv.h"

#include <algorithm>

#include "core/base/thread_pool.h"
#include "core/simd/simd.h"

namespace convscope {

void gemv_rows_reference(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                         float* y) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (int64_t p = 0; p < k; ++p) sum += x[i * k + p] * w[p * n + j];
            y[i * n + j] = bias ? sum + bias[j] : sum;
        }
    }
}

void gemv_transposed_reference(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                               float* y) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            float sum = 0.0f;
            for (int64_t p = 0; p < k; ++p) sum += x[i * k + p] * w[j * k + p];
            y[i * n + j] = bias ? sum + bias[j] : sum;
        }
    }
}

namespace {

using namespace simd;

// Every kernel below adds into y, which starts as the bias (or zero); that
// lets the tiled loops for larger m split k into chunks.
void start_with_bias(int64_t m, int64_t n, const float* bias, float* y) {
    for (int64_t i = 0; i < m; ++i) {
        float* row = y + i * n;
        if (bias) std::copy(bias, bias + n, row);
        else std::fill(row, row + n, 0.0f);
    }
}

// Rows (1..4) rows of y, columns [first, last), += x[:, p0:p1] * W[p0:p1, first:last].
// Depth rows of W per pass (8 for one or two rows of x, 4 beyond, so the
// splatted x values stay in registers), so each vector of y is loaded and
// stored once per Depth weight rows.
template <int Rows, int Depth>
void rows_block(int64_t k, int64_t n, const float* x, const float* w, float* y, int64_t p0, int64_t p1,
                int64_t first, int64_t last) {
    const int64_t vector_end = first + (last - first) / 4 * 4;
    int64_t p = p0;
    for (; p + Depth <= p1; p += Depth) {
        v128_t a[Rows][Depth];
        for (int r = 0; r < Rows; ++r)
            for (int q = 0; q < Depth; ++q) a[r][q] = splat_f32x4(x[r * k + p + q]);
        const float* w_rows[Depth];
        for (int q = 0; q < Depth; ++q) w_rows[q] = w + (p + q) * n;
        for (int64_t j = first; j < vector_end; j += 4) {
            v128_t b[Depth];
            for (int q = 0; q < Depth; ++q) b[q] = load_f32x4(w_rows[q] + j);
            for (int r = 0; r < Rows; ++r) {
                float* target = y + r * n + j;
                v128_t acc = load_f32x4(target);
                for (int q = 0; q < Depth; ++q) acc = madd_f32x4(acc, a[r][q], b[q]);
                store_f32x4(target, acc);
            }
        }
        for (int64_t j = vector_end; j < last; ++j) {
            for (int r = 0; r < Rows; ++r) {
                const float* xr = x + r * k + p;
                float sum = 0.0f;
                for (int q = 0; q < Depth; ++q) sum += xr[q] * w_rows[q][j];
                y[r * n + j] += sum;
            }
        }
    }
    for (; p < p1; ++p) {
        const float* wp = w + p * n;
        for (int r = 0; r < Rows; ++r) {
            const float value = x[r * k + p];
            v128_t a = splat_f32x4(value);
            float* yr = y + r * n;
            int64_t j = first;
            for (; j < vector_end; j += 4) store_f32x4(yr + j, madd_f32x4(load_f32x4(yr + j), a, load_f32x4(wp + j)));
            for (; j < last; ++j) yr[j] += value * wp[j];
        }
    }
}

void rows_group(int rows, int64_t k, int64_t n, const float* x, const float* w, float* y, int64_t p0, int64_t p1,
                int64_t first, int64_t last) {
    switch (rows) {
        case 4: rows_block<4, 4>(k, n, x, w, y, p0, p1, first, last); break;
        case 3: rows_block<3, 4>(k, n, x, w, y, p0, p1, first, last); break;
        case 2: rows_block<2, 8>(k, n, x, w, y, p0, p1, first, last); break;
        default: rows_block<1, 8>(k, n, x, w, y, p0, p1, first, last); break;
    }
}

// Rows (1..2) rows of y, Cols (1 or 4) outputs j..j+Cols, += dot over p in [p0, p1).
template <int Rows, int Cols>
void dot_block(int64_t k, int64_t n, const float* x, const float* w, float* y, int64_t j, int64_t p0, int64_t p1) {
    v128_t acc[Rows][Cols];
    for (int r = 0; r < Rows; ++r)
        for (int c = 0; c < Cols; ++c) acc[r][c] = zero_f32x4();
    const int64_t vector_end = p0 + (p1 - p0) / 4 * 4;
    for (int64_t p = p0; p < vector_end; p += 4) {
        v128_t a[Rows];
        for (int r = 0; r < Rows; ++r) a[r] = load_f32x4(x + r * k + p);
        for (int c = 0; c < Cols; ++c) {
            v128_t b = load_f32x4(w + (j + c) * k + p);
            for (int r = 0; r < Rows; ++r) acc[r][c] = madd_f32x4(acc[r][c], a[r], b);
        }
    }
    for (int r = 0; r < Rows; ++r) {
        for (int c = 0; c < Cols; ++c) {
            float sum = reduce_add_f32x4(acc[r][c]);
            const float* wj = w + (j + c) * k;
            for (int64_t p = vector_end; p < p1; ++p) sum += x[r * k + p] * wj[p];
            y[r * n + j + c] += sum;
        }
    }
}

template <int Rows>
void dot_rows(int64_t k, int64_t n, const float* x, const float* w, float* y, int64_t first, int64_t last,
              int64_t p0, int64_t p1) {
    int64_t j = first;
    for (; j + 4 <= last; j += 4) dot_block<Rows, 4>(k, n, x, w, y, j, p0, p1);
    for (; j < last; ++j) dot_block<Rows, 1>(k, n, x, w, y, j, p0, p1);
}

// Up to four rows of x share one pass over W; beyond that, W is walked in
// tiles that stay in cache while every row group passes over them.
constexpr int64_t small_batch = 4;
constexpr int64_t tile_k = 512;
constexpr int64_t tile_n = 128;

// Column groups per chunk: at least ~32K multiply-adds each.
int64_t gemv_grain(int64_t m, int64_t k) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(m * k, 1)); }

}  // namespace

void gemv_rows(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y) {
    if (m <= 0 || n <= 0) return;
    start_with_bias(m, n, bias, y);
    if (k <= 0) return;
    const bool tiled = m > small_batch;
    const int64_t step_k = tiled ? tile_k : k, step_n = tiled ? tile_n : n;
    // Threads split the columns in groups of four (vector boundaries), so
    // every column is summed by the same code in the same order as with one
    // thread; only the last group holds the scalar tail.
    parallel_for((n + 3) / 4, [&](int64_t first_group, int64_t end_group) {
        const int64_t column_begin = first_group * 4, column_end = std::min(n, end_group * 4);
        for (int64_t p0 = 0; p0 < k; p0 += step_k) {
            const int64_t p1 = std::min(k, p0 + step_k);
            for (int64_t first = 0; first < n; first += step_n) {
                const int64_t begin = std::max(first, column_begin), last = std::min({n, first + step_n, column_end});
                if (begin >= last) continue;
                for (int64_t i = 0; i < m; i += 4) {
                    const int rows = static_cast<int>(std::min<int64_t>(4, m - i));
                    rows_group(rows, k, n, x + i * k, w, y + i * n, p0, p1, begin, last);
                }
            }
        }
    }, gemv_grain(m, k));
}

void gemv_transposed(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y) {
    if (m <= 0 || n <= 0) return;
    start_with_bias(m, n, bias, y);
    if (k <= 0) return;
    const bool tiled = m > small_batch;
    // Chunks of k that are a multiple of 4 keep every chunk but the last
    // free of scalar tails.
    const int64_t step_k = tiled ? tile_k : k, step_n = tiled ? 16 : n;
    // Column groups of four, as in gemv_rows.
    parallel_for((n + 3) / 4, [&](int64_t first_group, int64_t end_group) {
        const int64_t column_begin = first_group * 4, column_end = std::min(n, end_group * 4);
        for (int64_t p0 = 0; p0 < k; p0 += step_k) {
            const int64_t p1 = std::min(k, p0 + step_k);
            for (int64_t first = 0; first < n; first += step_n) {
                const int64_t begin = std::max(first, column_begin), last = std::min({n, first + step_n, column_end});
                if (begin >= last) continue;
                int64_t i = 0;
                for (; i + 2 <= m; i += 2) dot_rows<2>(k, n, x + i * k, w, y + i * n, begin, last, p0, p1);
                for (; i < m; ++i) dot_rows<1>(k, n, x + i * k, w, y + i * n, begin, last, p0, p1);
            }
        }
    }, gemv_grain(m, k));
}

}  // namespace convscope
