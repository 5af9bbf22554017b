#include "core/ops/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/base/thread_pool.h"
#include "core/simd/simd.h"

namespace convscope {

int64_t pool_output_size(int64_t input_size, int64_t kernel, int64_t stride, int64_t dilation,
                         int64_t pad_begin, int64_t pad_end, bool ceil_mode) {
    int64_t span = input_size + pad_begin + pad_end - ((kernel - 1) * dilation + 1);
    if (span < 0) return 0;
    int64_t output = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil_mode && (output - 1) * stride >= input_size + pad_begin) --output;
    return output;
}

int64_t Pool2DGeometry::output_h(int64_t input_h) const {
    return pool_output_size(input_h, kernel_h, stride_h, dilation_h, pad_top, pad_bottom, ceil_mode);
}

int64_t Pool2DGeometry::output_w(int64_t input_w) const {
    return pool_output_size(input_w, kernel_w, stride_w, dilation_w, pad_left, pad_right, ceil_mode);
}

void Pool2DGeometry::validate(const std::string& context) const {
    auto positive = [](int64_t v) { return v >= 1 && v <= max_window_extent; };
    auto non_negative = [](int64_t v) { return v >= 0 && v <= max_window_extent; };
    if (!positive(kernel_h) || !positive(kernel_w) || !positive(stride_h) || !positive(stride_w) ||
        !positive(dilation_h) || !positive(dilation_w) || !non_negative(pad_top) || !non_negative(pad_left) ||
        !non_negative(pad_bottom) || !non_negative(pad_right)) {
        throw UnsupportedError(concat(context, ": kernel ", kernel_h, "x", kernel_w, ", strides ", stride_h, "x",
                                      stride_w, ", dilations ", dilation_h, "x", dilation_w, ", pads ", pad_top, ",",
                                      pad_left, ",", pad_bottom, ",", pad_right, " must be positive (pads non-negative) and at most ",
                                      max_window_extent));
    }
}

namespace {

// Number of taps of one window that count towards an average along one axis.
int64_t average_taps(int64_t start, int64_t kernel, int64_t dilation, int64_t input_size, int64_t pad_end,
                     bool count_include_pad) {
    int64_t limit_low = count_include_pad ? std::numeric_limits<int64_t>::min() : 0;
    int64_t limit_high = count_include_pad ? input_size + pad_end : input_size;
    int64_t taps = 0;
    for (int64_t k = 0; k < kernel; ++k) {
        int64_t position = start + k * dilation;
        if (position >= limit_low && position < limit_high) ++taps;
    }
    return taps;
}

}  // namespace

void pool2d_reference(PoolKind kind, const Pool2DGeometry& g, const float* input, int64_t batch,
                      int64_t input_h, int64_t input_w, int64_t channels, float* output) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oy = 0; oy < oh; ++oy) {
            for (int64_t ox = 0; ox < ow; ++ox) {
                int64_t y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
                for (int64_t c = 0; c < channels; ++c) {
                    float acc = kind == PoolKind::max ? -std::numeric_limits<float>::infinity() : 0.0f;
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t iy = y0 + ky * g.dilation_h;
                        if (iy < 0 || iy >= input_h) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ix = x0 + kx * g.dilation_w;
                            if (ix < 0 || ix >= input_w) continue;
                            float v = input[((n * input_h + iy) * input_w + ix) * channels + c];
                            acc = kind == PoolKind::max ? std::max(acc, v) : acc + v;
                        }
                    }
                    if (kind == PoolKind::average) {
                        int64_t count = average_taps(y0, g.kernel_h, g.dilation_h, input_h, g.pad_bottom, g.count_include_pad) *
                                        average_taps(x0, g.kernel_w, g.dilation_w, input_w, g.pad_right, g.count_include_pad);
                        acc = count > 0 ? acc / static_cast<float>(count) : 0.0f;
                    }
                    output[((n * oh + oy) * ow + ox) * channels + c] = acc;
                }
            }
        }
    }
}

void pool2d(PoolKind kind, const Pool2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
            int64_t input_w, int64_t channels, float* output) {
    using namespace simd;
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t vector_end = channels - channels % 4;
    const float lowest = -std::numeric_limits<float>::infinity();
    const bool is_max = kind == PoolKind::max;
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oy = 0; oy < oh; ++oy) {
            int64_t y0 = oy * g.stride_h - g.pad_top;
            for (int64_t ox = 0; ox < ow; ++ox) {
                int64_t x0 = ox * g.stride_w - g.pad_left;
                float* out = output + ((n * oh + oy) * ow + ox) * channels;
                std::fill(out, out + channels, is_max ? lowest : 0.0f);
                for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                    int64_t iy = y0 + ky * g.dilation_h;
                    if (iy < 0 || iy >= input_h) continue;
                    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                        int64_t ix = x0 + kx * g.dilation_w;
                        if (ix < 0 || ix >= input_w) continue;
                        const float* in = input + ((n * input_h + iy) * input_w + ix) * channels;
                        int64_t c = 0;
                        if (is_max) {
                            for (; c < vector_end; c += 4) store_f32x4(out + c, max_f32x4(load_f32x4(out + c), load_f32x4(in + c)));
                            for (; c < channels; ++c) out[c] = std::max(out[c], in[c]);
                        } else {
                            for (; c < vector_end; c += 4) store_f32x4(out + c, wasm_f32x4_add(load_f32x4(out + c), load_f32x4(in + c)));
                            for (; c < channels; ++c) out[c] += in[c];
                        }
                    }
                }
                if (!is_max) {
                    int64_t count = average_taps(y0, g.kernel_h, g.dilation_h, input_h, g.pad_bottom, g.count_include_pad) *
                                    average_taps(x0, g.kernel_w, g.dilation_w, input_w, g.pad_right, g.count_include_pad);
                    float scale = count > 0 ? 1.0f / static_cast<float>(count) : 0.0f;
                    v128_t scale_v = splat_f32x4(scale);
                    int64_t c = 0;
                    for (; c < vector_end; c += 4) store_f32x4(out + c, wasm_f32x4_mul(load_f32x4(out + c), scale_v));
                    for (; c < channels; ++c) out[c] *= scale;
                }
            }
        }
    }
}

void global_pool_reference(PoolKind kind, const float* input, int64_t batch, int64_t pixels, int64_t channels,
                           float* output) {
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t c = 0; c < channels; ++c) {
            float acc = kind == PoolKind::max ? -std::numeric_limits<float>::infinity() : 0.0f;
            for (int64_t p = 0; p < pixels; ++p) {
                float v = input[(n * pixels + p) * channels + c];
                acc = kind == PoolKind::max ? std::max(acc, v) : acc + v;
            }
            output[n * channels + c] = kind == PoolKind::max ? acc : acc / static_cast<float>(pixels);
        }
    }
}

void global_pool(PoolKind kind, const float* input, int64_t batch, int64_t pixels, int64_t channels, float* output) {
    using namespace simd;
    const int64_t vector_end = channels - channels % 4;
    const bool is_max = kind == PoolKind::max;
    for (int64_t n = 0; n < batch; ++n) {
        float* out = output + n * channels;
        std::fill(out, out + channels, is_max ? -std::numeric_limits<float>::infinity() : 0.0f);
        for (int64_t p = 0; p < pixels; ++p) {
            const float* in = input + (n * pixels + p) * channels;
            int64_t c = 0;
            if (is_max) {
                for (; c < vector_end; c += 4) store_f32x4(out + c, max_f32x4(load_f32x4(out + c), load_f32x4(in + c)));
                for (; c < channels; ++c) out[c] = std::max(out[c], in[c]);
            } else {
                for (; c < vector_end; c += 4) store_f32x4(out + c, wasm_f32x4_add(load_f32x4(out + c), load_f32x4(in + c)));
                for (; c < channels; ++c) out[c] += in[c];
            }
        }
        if (!is_max) {
            for (int64_t c = 0; c < channels; ++c) out[c] /= static_cast<float>(pixels);
        }
    }
}

}  // namespace convscope

namespace convscope {

// One channel per "pixel" makes the NHWC reference walk NCHW planes exactly.
void pool2d_nchw_reference(PoolKind kind, const Pool2DGeometry& geometry, const float* input, int64_t planes,
                           int64_t input_h, int64_t input_w, float* output) {
    pool2d_reference(kind, geometry, input, planes, input_h, input_w, 1, output);
}

void global_pool_nchw_reference(PoolKind kind, const float* input, int64_t planes, int64_t pixels, float* output) {
    global_pool_reference(kind, input, planes, pixels, 1, output);
}

namespace {

template <bool IsMax>
inline v128_t combine(v128_t a, v128_t b) {
    if constexpr (IsMax) return simd::max_f32x4(a, b);
    else return wasm_f32x4_add(a, b);
}

template <bool IsMax>
inline float combine(float a, float b) {
    if constexpr (IsMax) return a < b ? b : a;
    else return a + b;
}

template <bool IsMax>
void pool2d_nchw_impl(const Pool2DGeometry& g, const float* input, int64_t planes, int64_t input_h,
                      int64_t input_w, float* output) {
    using namespace simd;
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    if (planes <= 0 || oh <= 0 || ow <= 0) return;
    const float identity = IsMax ? -std::numeric_limits<float>::infinity() : 0.0f;
    // The padded row: [0, pad_left) and everything past the input hold the
    // identity, so the horizontal pass needs no bounds tests. Its length
    // covers the last window (ceil_mode may reach past the right pad) plus
    // the one extra vector the stride-2 loads may touch.
    const int64_t window_w = (g.kernel_w - 1) * g.dilation_w + 1;
    const int64_t line_length = std::max(g.pad_left + input_w, (ow - 1) * g.stride_w + window_w) + 8;
    // Bounded by the input width plus pads and one window (each at most
    // max_window_extent), but a file chooses those: check before allocating.
    if (static_cast<uint64_t>(line_length) > limits::max_tensor_elements) {
        throw_limit_error("pooling row of ", line_length, " values (input width ", input_w, ", pad ", g.pad_left,
                          ", window ", window_w, ") exceeds the tensor limit of ", limits::max_tensor_elements);
    }
    std::vector<int64_t> taps_x(static_cast<size_t>(ow));
    for (int64_t ox = 0; ox < ow; ++ox) {
        taps_x[ox] = average_taps(ox * g.stride_w - g.pad_left, g.kernel_w, g.dilation_w, input_w, g.pad_right,
                                  g.count_include_pad);
    }
    const bool stride_1 = g.stride_w == 1;
    const bool stride_2 = g.stride_w == 2 && g.dilation_w == 1;
    // Threads split the planes; each chunk has its own row buffers.
    parallel_for(planes, [&](int64_t first_plane, int64_t end_plane) {
        std::vector<float> line(static_cast<size_t>(line_length), identity);
        float* data = line.data() + g.pad_left;
        std::vector<float> scale(static_cast<size_t>(ow), 1.0f);
        int64_t scale_taps_y = -1;
        std::vector<const float*> rows(static_cast<size_t>(g.kernel_h));
        for (int64_t plane = first_plane; plane < end_plane; ++plane) {
            const float* in = input + plane * input_h * input_w;
            float* out_plane = output + plane * oh * ow;
            for (int64_t oy = 0; oy < oh; ++oy) {
                const int64_t y0 = oy * g.stride_h - g.pad_top;
                size_t row_count = 0;
                for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                    int64_t iy = y0 + ky * g.dilation_h;
                    if (iy >= 0 && iy < input_h) rows[row_count++] = in + iy * input_w;
                }
                // Vertical pass into the padded row.
                int64_t x = 0;
                if (row_count == 0) {
                    std::fill(data, data + input_w, identity);
                } else if (row_count == 1) {
                    std::copy(rows[0], rows[0] + input_w, data);
                } else {
                    for (; x + 4 <= input_w; x += 4) {
                        v128_t acc = combine<IsMax>(load_f32x4(rows[0] + x), load_f32x4(rows[1] + x));
                        for (size_t r = 2; r < row_count; ++r) acc = combine<IsMax>(acc, load_f32x4(rows[r] + x));
                        store_f32x4(data + x, acc);
                    }
                    for (; x < input_w; ++x) {
                        float acc = combine<IsMax>(rows[0][x], rows[1][x]);
                        for (size_t r = 2; r < row_count; ++r) acc = combine<IsMax>(acc, rows[r][x]);
                        data[x] = acc;
                    }
                }
                // Horizontal pass: output ox covers line[ox * stride + kx * dilation].
                float* out = out_plane + oy * ow;
                const float* base = line.data();
                int64_t ox = 0;
                if (stride_1) {
                    for (; ox + 4 <= ow; ox += 4) {
                        v128_t acc = load_f32x4(base + ox);
                        for (int64_t kx = 1; kx < g.kernel_w; ++kx) acc = combine<IsMax>(acc, load_f32x4(base + ox + kx * g.dilation_w));
                        store_f32x4(out + ox, acc);
                    }
                } else if (stride_2) {
                    for (; ox + 4 <= ow; ox += 4) {
                        const float* q = base + 2 * ox;
                        v128_t acc = wasm_i32x4_shuffle(load_f32x4(q), load_f32x4(q + 4), 0, 2, 4, 6);
                        for (int64_t kx = 1; kx < g.kernel_w; ++kx) {
                            acc = combine<IsMax>(acc, wasm_i32x4_shuffle(load_f32x4(q + kx), load_f32x4(q + kx + 4), 0, 2, 4, 6));
                        }
                        store_f32x4(out + ox, acc);
                    }
                }
                for (; ox < ow; ++ox) {
                    const float* q = base + ox * g.stride_w;
                    float acc = q[0];
                    for (int64_t kx = 1; kx < g.kernel_w; ++kx) acc = combine<IsMax>(acc, q[kx * g.dilation_w]);
                    out[ox] = acc;
                }
                if (!IsMax) {
                    int64_t taps_y = average_taps(y0, g.kernel_h, g.dilation_h, input_h, g.pad_bottom, g.count_include_pad);
                    if (taps_y != scale_taps_y) {
                        for (int64_t i = 0; i < ow; ++i) {
                            int64_t count = taps_y * taps_x[i];
                            scale[i] = count > 0 ? 1.0f / static_cast<float>(count) : 0.0f;
                        }
                        scale_taps_y = taps_y;
                    }
                    int64_t i = 0;
                    for (; i + 4 <= ow; i += 4) store_f32x4(out + i, wasm_f32x4_mul(load_f32x4(out + i), load_f32x4(scale.data() + i)));
                    for (; i < ow; ++i) out[i] *= scale[i];
                }
            }
        }
    }, std::max<int64_t>(1, 4096 / std::max<int64_t>(oh * ow, 1)));
}

}  // namespace

void pool2d_nchw(PoolKind kind, const Pool2DGeometry& geometry, const float* input, int64_t planes,
                 int64_t input_h, int64_t input_w, float* output) {
    if (kind == PoolKind::max) pool2d_nchw_impl<true>(geometry, input, planes, input_h, input_w, output);
    else pool2d_nchw_impl<false>(geometry, input, planes, input_h, input_w, output);
}

void global_pool_nchw(PoolKind kind, const float* input, int64_t planes, int64_t pixels, float* output) {
    using namespace simd;
    const bool is_max = kind == PoolKind::max;
    parallel_for(planes, [&](int64_t first_plane, int64_t end_plane) {
    for (int64_t plane     = first_plane; plane < end_plane; ++plane) {
            const float* in = input + plane * pixels;
            int64_t i = 0;
            float result;
            if (is_max) {
                result = -std::numeric_limits<float>::infinity();
                if (pixels >= 4) {
                    v128_t acc = load_f32x4(in);
                    for (i = 4; i + 4 <= pixels; i += 4) acc = max_f32x4(acc, load_f32x4(in + i));
                    result = reduce_max_f32x4(acc);
                }
                for (; i < pixels; ++i) result = std::max(result, in[i]);
            } else {
                // Four independent sums keep the adds pipelined.
                v128_t acc0 = zero_f32x4(), acc1 = zero_f32x4(), acc2 = zero_f32x4(), acc3 = zero_f32x4();
                for (; i + 16 <= pixels; i += 16) {
                    acc0 = wasm_f32x4_add(acc0, load_f32x4(in + i));
                    acc1 = wasm_f32x4_add(acc1, load_f32x4(in + i + 4));
                    acc2 = wasm_f32x4_add(acc2, load_f32x4(in + i + 8));
                    acc3 = wasm_f32x4_add(acc3, load_f32x4(in + i + 12));
                }
                for (; i + 4 <= pixels; i += 4) acc0 = wasm_f32x4_add(acc0, load_f32x4(in + i));
                result = reduce_add_f32x4(wasm_f32x4_add(wasm_f32x4_add(acc0, acc1), wasm_f32x4_add(acc2, acc3)));
                for (; i < pixels; ++i) result += in[i];
                result /= static_cast<float>(pixels);
            }
            output[plane] = result;
        }
    }, std::max<int64_t>(1, 8192 / std::max<int64_t>(pixels, 1)));
}

}  // namespace convscope
