#include "core/ops/depthwise.h"

#include <algorithm>
#include <vector>

#include "core/base/thread_pool.h"
#include "core/simd/simd.h"

namespace convscope {

namespace {

using namespace simd;

// One channel plane of one image: input [h][w] -> output [oh][ow].
struct DepthwisePlane {
    const float* input;
    int64_t h, w;
    float* output;
    int64_t oh, ow;
    const float* filter;  // kh x kw
    float bias;
};

// First and one-past-last output column whose 3-wide window (taps at
// ox * stride - pad_left + 0..2) lies fully inside [0, w): the interior,
// where the vector body needs no bounds checks.
void interior_columns_3(int64_t w, int64_t ow, int64_t stride, int64_t pad_left, int64_t& begin, int64_t& end) {
    begin = std::min(ow, (pad_left + stride - 1) / stride);
    int64_t last_start = w - 3 + pad_left;  // ox * stride <= last_start
    end = last_start < 0 ? begin : std::min(ow, last_start / stride + 1);
    if (end < begin) end = begin;
}

// One output of a 3x3 window with column checks; rows already resolved
// (a row outside the input is the zero row).
inline float window_3x3_checked(const float* const rows[3], const float* f, int64_t first_x, int64_t w, float bias) {
    float sum = bias;
    for (int ky = 0; ky < 3; ++ky) {
        for (int kx = 0; kx < 3; ++kx) {
            int64_t ix = first_x + kx;
            if (ix >= 0 && ix < w) sum += rows[ky][ix] * f[ky * 3 + kx];
        }
    }
    return sum;
}

struct Weights3x3 {
    v128_t w[9];
    v128_t bias;
};

// Four outputs, stride 1: inputs at p .. p + 5 of each row.
inline v128_t four_outputs_s1(const float* const rows[3], int64_t p, const Weights3x3& k) {
    v128_t row_sum[3];
    for (int r = 0; r < 3; ++r) {
        const float* x = rows[r] + p;
        v128_t acc = wasm_f32x4_mul(load_f32x4(x), k.w[r * 3]);
        acc = madd_f32x4(acc, load_f32x4(x + 1), k.w[r * 3 + 1]);
        row_sum[r] = madd_f32x4(acc, load_f32x4(x + 2), k.w[r * 3 + 2]);
    }
    return wasm_f32x4_add(wasm_f32x4_add(k.bias, row_sum[0]), wasm_f32x4_add(row_sum[1], row_sum[2]));
}

// Four outputs, stride 2: inputs at p .. p + 8 of each row (exactly the
// window, so the interior bound holds), split into even and odd columns.
inline v128_t four_outputs_s2(const float* const rows[3], int64_t p, const Weights3x3& k) {
    v128_t row_sum[3];
    for (int r = 0; r < 3; ++r) {
        const float* x = rows[r] + p;
        v128_t a = load_f32x4(x), b = load_f32x4(x + 4), c = load_f32x4(x + 5);
        v128_t even = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6);        // p + 0, 2, 4, 6
        v128_t odd = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);         // p + 1, 3, 5, 7
        v128_t even_next = wasm_i32x4_shuffle(even, c, 1, 2, 3, 7);  // p + 2, 4, 6, 8
        v128_t acc = wasm_f32x4_mul(even, k.w[r * 3]);
        acc = madd_f32x4(acc, odd, k.w[r * 3 + 1]);
        row_sum[r] = madd_f32x4(acc, even_next, k.w[r * 3 + 2]);
    }
    return wasm_f32x4_add(wasm_f32x4_add(k.bias, row_sum[0]), wasm_f32x4_add(row_sum[1], row_sum[2]));
}

// Which columns a stride-1 block covers: the interior (all taps inside the
// row), or, with one column of padding on each side, the first or the last
// four outputs, whose missing tap is a zero shifted in by a shuffle.
enum class Edge { interior, left, right };

// Four outputs in each of two adjacent rows, stride 1: the four input rows
// are loaded once and feed both (12 loads for 8 outputs instead of 18).
// Interior: taps at p .. p + 5 of each row. Left: outputs 0..3 (taps -1..4).
// Right: outputs w - 4 .. w - 1 with p = w - 5 (taps w - 5 .. w).
template <Edge Where>
inline void eight_outputs_s1_two_rows(const float* const rows[4], int64_t p, const Weights3x3& k, float* out0,
                                      float* out1) {
    v128_t acc0 = k.bias, acc1 = k.bias;
    const v128_t zero = zero_f32x4();
    for (int r = 0; r < 4; ++r) {
        const float* x = rows[r] + p;
        v128_t x0, x1, x2;
        if (Where == Edge::left) {
            x1 = load_f32x4(rows[r]);
            x0 = wasm_i32x4_shuffle(zero, x1, 0, 4, 5, 6);
            x2 = load_f32x4(rows[r] + 1);
        } else if (Where == Edge::right) {
            x0 = load_f32x4(x);
            x1 = load_f32x4(x + 1);
            x2 = wasm_i32x4_shuffle(x1, zero, 1, 2, 3, 4);
        } else {
            x0 = load_f32x4(x);
            x1 = load_f32x4(x + 1);
            x2 = load_f32x4(x + 2);
        }
        if (r < 3) {
            acc0 = madd_f32x4(acc0, x0, k.w[r * 3]);
            acc0 = madd_f32x4(acc0, x1, k.w[r * 3 + 1]);
            acc0 = madd_f32x4(acc0, x2, k.w[r * 3 + 2]);
        }
        if (r > 0) {
            acc1 = madd_f32x4(acc1, x0, k.w[(r - 1) * 3]);
            acc1 = madd_f32x4(acc1, x1, k.w[(r - 1) * 3 + 1]);
            acc1 = madd_f32x4(acc1, x2, k.w[(r - 1) * 3 + 2]);
        }
    }
    store_f32x4(out0, acc0);
    store_f32x4(out1, acc1);
}

// Stride 1, two output rows at a time through the interior columns
// [begin, end); the borders and any leftover row go through plane_3x3's
// single-row code.
void rows_pair_3x3_s1(const float* const rows[4], int64_t begin, int64_t end, int64_t pad_left, const Weights3x3& k,
                      float* out0, float* out1) {
    int64_t ox = begin;
    for (; ox + 4 <= end; ox += 4) eight_outputs_s1_two_rows<Edge::interior>(rows, ox - pad_left, k, out0 + ox, out1 + ox);
    if (ox < end) {
        int64_t last = end - 4;
        eight_outputs_s1_two_rows<Edge::interior>(rows, last - pad_left, k, out0 + last, out1 + last);
    }
}

// Stride 1 with one column of padding on each side (output width == input
// width w >= 8, the MobileNet case): the whole row pair in SIMD, no scalar
// border outputs.
void rows_pair_3x3_s1_padded(const float* const rows[4], int64_t w, const Weights3x3& k, float* out0, float* out1) {
    eight_outputs_s1_two_rows<Edge::left>(rows, 0, k, out0, out1);
    int64_t ox = 4;
    for (; ox + 4 <= w - 4; ox += 4) eight_outputs_s1_two_rows<Edge::interior>(rows, ox - 1, k, out0 + ox, out1 + ox);
    if (ox < w - 4) eight_outputs_s1_two_rows<Edge::interior>(rows, w - 9, k, out0 + w - 8, out1 + w - 8);
    eight_outputs_s1_two_rows<Edge::right>(rows, w - 5, k, out0 + w - 4, out1 + w - 4);
}

template <int Stride>
void plane_3x3(const DepthwisePlane& p, int64_t pad_top, int64_t pad_left, const float* zero_row) {
    Weights3x3 k;
    for (int t = 0; t < 9; ++t) k.w[t] = splat_f32x4(p.filter[t]);
    k.bias = splat_f32x4(p.bias);
    int64_t begin, end;
    interior_columns_3(p.w, p.ow, Stride, pad_left, begin, end);
    for (int64_t oy = 0; oy < p.oh; ++oy) {
        if (Stride == 1 && oy + 1 < p.oh && end - begin >= 4) {
            const float* rows[4];
            for (int ky = 0; ky < 4; ++ky) {
                int64_t iy = oy - pad_top + ky;
                rows[ky] = iy >= 0 && iy < p.h ? p.input + iy * p.w : zero_row;
            }
            if (pad_left == 1 && p.ow == p.w && p.w >= 8) {
                rows_pair_3x3_s1_padded(rows, p.w, k, p.output + oy * p.ow, p.output + (oy + 1) * p.ow);
                ++oy;
                continue;
            }
            for (int64_t pair = 0; pair < 2; ++pair) {
                float* out = p.output + (oy + pair) * p.ow;
                for (int64_t ox = 0; ox < begin; ++ox) out[ox] = window_3x3_checked(rows + pair, p.filter, ox - pad_left, p.w, p.bias);
                for (int64_t ox = end; ox < p.ow; ++ox) out[ox] = window_3x3_checked(rows + pair, p.filter, ox - pad_left, p.w, p.bias);
            }
            rows_pair_3x3_s1(rows, begin, end, pad_left, k, p.output + oy * p.ow, p.output + (oy + 1) * p.ow);
            ++oy;
            continue;
        }
        const float* rows[3];
        for (int ky = 0; ky < 3; ++ky) {
            int64_t iy = oy * Stride - pad_top + ky;
            rows[ky] = iy >= 0 && iy < p.h ? p.input + iy * p.w : zero_row;
        }
        float* out = p.output + oy * p.ow;
        for (int64_t ox = 0; ox < begin; ++ox) out[ox] = window_3x3_checked(rows, p.filter, ox * Stride - pad_left, p.w, p.bias);
        int64_t ox = begin;
        if (end - begin >= 4) {
            for (; ox + 8 <= end; ox += 8) {
                v128_t first, second;
                if (Stride == 1) {
                    first = four_outputs_s1(rows, ox - pad_left, k);
                    second = four_outputs_s1(rows, ox + 4 - pad_left, k);
                } else {
                    first = four_outputs_s2(rows, ox * 2 - pad_left, k);
                    second = four_outputs_s2(rows, (ox + 4) * 2 - pad_left, k);
                }
                store_f32x4(out + ox, first);
                store_f32x4(out + ox + 4, second);
            }
            for (; ox + 4 <= end; ox += 4) {
                store_f32x4(out + ox, Stride == 1 ? four_outputs_s1(rows, ox - pad_left, k)
                                                  : four_outputs_s2(rows, ox * 2 - pad_left, k));
            }
            if (ox < end) {
                // The last few interior outputs: one vector ending at `end`,
                // overlapping outputs already written with the same values.
                int64_t last = end - 4;
                store_f32x4(out + last, Stride == 1 ? four_outputs_s1(rows, last - pad_left, k)
                                                    : four_outputs_s2(rows, last * 2 - pad_left, k));
                ox = end;
            }
        }
        for (; ox < p.ow; ++ox) out[ox] = window_3x3_checked(rows, p.filter, ox * Stride - pad_left, p.w, p.bias);
    }
}

// Any kernel, stride, dilation: each output row starts at the bias and
// accumulates one tap at a time over the output columns whose input column
// is inside the row, so no padding test runs per element.
void plane_generic(const DepthwisePlane& p, const Conv2DGeometry& g) {
    const v128_t bias = splat_f32x4(p.bias);
    for (int64_t oy = 0; oy < p.oh; ++oy) {
        float* out = p.output + oy * p.ow;
        int64_t x = 0;
        for (; x + 4 <= p.ow; x += 4) store_f32x4(out + x, bias);
        for (; x < p.ow; ++x) out[x] = p.bias;
        for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
            int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= p.h) continue;
            const float* row = p.input + iy * p.w;
            for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                const float weight = p.filter[ky * g.kernel_w + kx];
                const int64_t offset = kx * g.dilation_w - g.pad_left;  // ix = ox * stride + offset
                if (p.w - 1 - offset < 0) continue;
                int64_t lo = offset < 0 ? (-offset + g.stride_w - 1) / g.stride_w : 0;
                int64_t hi = std::min(p.ow, (p.w - 1 - offset) / g.stride_w + 1);
                if (lo >= hi) continue;
                int64_t ox = lo;
                if (g.stride_w == 1) {
                    const v128_t wv = splat_f32x4(weight);
                    for (; ox + 4 <= hi; ox += 4) {
                        store_f32x4(out + ox, madd_f32x4(load_f32x4(out + ox), load_f32x4(row + ox + offset), wv));
                    }
                }
                for (; ox < hi; ++ox) out[ox] += row[ox * g.stride_w + offset] * weight;
            }
        }
    }
}

}  // namespace

void depthwise_conv2d_nchw_reference(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                                     int64_t input_w, const float* weights, const float* bias, float* output) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t multiplier = g.out_channels / g.in_channels;
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oc = 0; oc < g.out_channels; ++oc) {
            const float* plane = input + (n * g.in_channels + oc / multiplier) * input_h * input_w;
            const float* filter = weights + oc * g.kernel_h * g.kernel_w;
            float* out = output + (n * g.out_channels + oc) * oh * ow;
            for (int64_t oy = 0; oy < oh; ++oy) {
                for (int64_t ox = 0; ox < ow; ++ox) {
                    float sum = bias[oc];
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                        if (iy < 0 || iy >= input_h) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                            if (ix < 0 || ix >= input_w) continue;
                            sum += plane[iy * input_w + ix] * filter[ky * g.kernel_w + kx];
                        }
                    }
                    out[oy * ow + ox] = sum;
                }
            }
        }
    }
}

void depthwise_conv2d_nchw(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                           int64_t input_w, const float* weights, const float* bias, float* output) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    if (batch <= 0 || oh <= 0 || ow <= 0) return;
    const int64_t multiplier = g.out_channels / g.in_channels;
    const bool three_by_three = g.kernel_h == 3 && g.kernel_w == 3 && g.dilation_h == 1 && g.dilation_w == 1;
    const bool stride_1 = g.stride_h == 1 && g.stride_w == 1, stride_2 = g.stride_h == 2 && g.stride_w == 2;
    // Rows above/below the input read as zeros in the 3x3 paths.
    std::vector<float> zero_row;
    if (three_by_three && (stride_1 || stride_2)) zero_row.assign(static_cast<size_t>(input_w), 0.0f);
    // Threads split the output planes (one plane = one channel of one image).
    parallel_for(batch * g.out_channels, [&](int64_t first_plane, int64_t end_plane) {
        for (int64_t plane = first_plane; plane < end_plane; ++plane) {
            const int64_t n = plane / g.out_channels, oc = plane % g.out_channels;
            DepthwisePlane p;
            p.input = input + (n * g.in_channels + oc / multiplier) * input_h * input_w;
            p.h = input_h;
            p.w = input_w;
            p.output = output + (n * g.out_channels + oc) * oh * ow;
            p.oh = oh;
            p.ow = ow;
            p.filter = weights + oc * g.kernel_h * g.kernel_w;
            p.bias = bias[oc];
            if (three_by_three && stride_1) plane_3x3<1>(p, g.pad_top, g.pad_left, zero_row.data());
            else if (three_by_three && stride_2) plane_3x3<2>(p, g.pad_top, g.pad_left, zero_row.data());
            else plane_generic(p, g);
        }
    }, std::max<int64_t>(1, 4096 / (oh * ow)));
}

}  // namespace convscope
