#include "core/ops/pool.h"

#include <algorithm>
#include <limits>

#include "core/base/error.h"
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
