#include "core/ops/conv_nchw.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/ops/depthwise.h"
#include "core/simd/simd.h"

namespace convscope {

namespace {

// [n][c][plane] <-> [n][plane][c] for the NHWC fallback.
void nchw_to_nhwc(const float* in, int64_t batch, int64_t channels, int64_t plane, float* out) {
    for (int64_t n = 0; n < batch; ++n) {
        const float* src = in + n * channels * plane;
        float* dst = out + n * channels * plane;
        for (int64_t c = 0; c < channels; ++c)
            for (int64_t p = 0; p < plane; ++p) dst[p * channels + c] = src[c * plane + p];
    }
}

void nhwc_to_nchw(const float* in, int64_t batch, int64_t channels, int64_t plane, float* out) {
    for (int64_t n = 0; n < batch; ++n) {
        const float* src = in + n * channels * plane;
        float* dst = out + n * channels * plane;
        for (int64_t p = 0; p < plane; ++p)
            for (int64_t c = 0; c < channels; ++c) dst[c * plane + p] = src[p * channels + c];
    }
}


// ---------------------------------------------------------------------------
// Dense (groups == 1) convolution as out[Cout x P] = W[Cout x K] * X[K x P].
//
// X is never materialised. Every column of X that a block of output pixels
// needs is a contiguous run of floats in a "source": the input itself for a
// 1x1 stride-1 unpadded conv, otherwise a zero-padded copy of the image whose
// columns are split into `stride_w` phases (so a strided row of taps becomes
// contiguous). A table of K offsets says where row k of X starts relative to
// the first pixel of a block; the micro-kernel walks it.

using namespace simd;

constexpr int dense_tile_channels = 4;  // MR: output channels per micro-tile
constexpr int dense_tile_vectors = 2;   // NR / 4: f32x4 vectors of pixels per micro-tile
constexpr int64_t dense_tile_pixels = dense_tile_vectors * f32_lanes;
// Floats of X (input rows) a pixel tile may span: it stays in L2 while every
// weight panel passes over it.
constexpr int64_t dense_source_budget = 131072;
// Floats of source rows plus weights one block of K may touch per output row.
constexpr int64_t dense_l1_budget = 8192;

// Channels x (Vectors * 4) outputs: acc[r][v] = bias[r] + sum_k w[k][r] * x[offsets[k] + 4v ...].
// `weights` is one packed panel [depth][Channels]; writes `channels` rows of
// `width` pixels, channel rows `channel_stride` floats apart.
template <int Channels, int Vectors>
void dense_micro_tile(int64_t depth, const float* weights, const ptrdiff_t* offsets, const float* x,
                      const float* bias, float* out, int64_t channel_stride, int channels, int64_t width) {
    // A null bias continues a sum over an earlier block of K from `out`.
    v128_t acc[Channels][Vectors];
    for (int r = 0; r < Channels; ++r) {
        if (bias) {
            v128_t b = splat_f32x4(bias[r]);
            for (int v = 0; v < Vectors; ++v) acc[r][v] = b;
        } else {
            for (int v = 0; v < Vectors; ++v) {
                const int64_t lanes = std::min<int64_t>(f32_lanes, width - v * f32_lanes);
                acc[r][v] = r < channels && lanes > 0
                                ? load_partial_f32x4(out + r * channel_stride + v * f32_lanes, static_cast<int>(lanes))
                                : zero_f32x4();
            }
        }
    }
    // A pointer walk, not a 64-bit index (i64 counter + wrap + shift per step
    // in wasm32); unrolling by two or by kernel rows measured slower in V8.
    const ptrdiff_t* offsets_end = offsets + depth;
#if defined(__clang__)
#pragma clang loop unroll(disable)
#endif
    for (const ptrdiff_t* offset = offsets; offset != offsets_end; ++offset) {
        const float* column = x + *offset;
        v128_t xv[Vectors];
        for (int v = 0; v < Vectors; ++v) xv[v] = load_f32x4(column + v * f32_lanes);
        for (int r = 0; r < Channels; ++r) {
            v128_t w = wasm_v128_load32_splat(weights + r);
            for (int v = 0; v < Vectors; ++v) acc[r][v] = madd_f32x4(acc[r][v], w, xv[v]);
        }
        weights += Channels;
    }
    if (width == Vectors * f32_lanes) {
        for (int r = 0; r < Channels; ++r) {
            if (r >= channels) break;
            for (int v = 0; v < Vectors; ++v) store_f32x4(out + r * channel_stride + v * f32_lanes, acc[r][v]);
        }
        return;
    }
    for (int r = 0; r < Channels; ++r) {
        if (r >= channels) break;
        alignas(16) float lanes[Vectors * f32_lanes];
        for (int v = 0; v < Vectors; ++v) store_f32x4(lanes + v * f32_lanes, acc[r][v]);
        std::memcpy(out + r * channel_stride, lanes, static_cast<size_t>(width) * sizeof(float));
    }
}

// The same 2-vector tile over two short row tails (<= 4 pixels each, e.g.
// the last 4 of a 28-pixel row) of rows `second_row_source` /
// `second_row_out` floats apart, instead of two half-empty tiles.
template <int Channels>
void dense_paired_tail_tile(int64_t depth, const float* weights, const ptrdiff_t* offsets, const float* x,
                            ptrdiff_t second_row_source, const float* bias, float* out, int64_t second_row_out,
                            int64_t channel_stride, int channels, int64_t width) {
    v128_t first[Channels], second[Channels];
    for (int r = 0; r < Channels; ++r) {
        if (bias) {
            first[r] = second[r] = splat_f32x4(bias[r]);
        } else if (r < channels) {
            // A null bias continues a sum over an earlier block of K.
            first[r] = load_partial_f32x4(out + r * channel_stride, static_cast<int>(width));
            second[r] = load_partial_f32x4(out + r * channel_stride + second_row_out, static_cast<int>(width));
        } else {
            first[r] = second[r] = zero_f32x4();
        }
    }
    const ptrdiff_t* offsets_end = offsets + depth;
#if defined(__clang__)
#pragma clang loop unroll(disable)
#endif
    for (const ptrdiff_t* offset = offsets; offset != offsets_end; ++offset) {
        const float* column = x + *offset;
        const v128_t x_first = load_f32x4(column), x_second = load_f32x4(column + second_row_source);
        for (int r = 0; r < Channels; ++r) {
            v128_t w = wasm_v128_load32_splat(weights + r);
            first[r] = madd_f32x4(first[r], w, x_first);
            second[r] = madd_f32x4(second[r], w, x_second);
        }
        weights += Channels;
    }
    for (int r = 0; r < Channels; ++r) {
        if (r >= channels) break;
        float* row = out + r * channel_stride;
        if (width == f32_lanes) {
            store_f32x4(row, first[r]);
            store_f32x4(row + second_row_out, second[r]);
        } else {
            store_partial_f32x4(row, first[r], static_cast<int>(width));
            store_partial_f32x4(row + second_row_out, second[r], static_cast<int>(width));
        }
    }
}

// One input row, padded by `pad_left` zeros in front and zeros after, split
// into its even and odd padded columns (phase_w floats each): the stride-2
// source rows. The middle is deinterleaved four pairs at a time.
void split_even_odd(const float* src, int64_t width, int64_t pad_left, int64_t phase_w, float* even, float* odd) {
    auto padded = [&](int64_t column) {
        const int64_t ix = column - pad_left;
        return ix >= 0 && ix < width ? src[ix] : 0.0f;
    };
    int64_t i = 0;
    // Scalar until padded column 2i is a real input column.
    for (; i < phase_w && 2 * i < pad_left; ++i) {
        even[i] = padded(2 * i);
        odd[i] = padded(2 * i + 1);
    }
    for (; i + 4 <= phase_w && 2 * i - pad_left + 8 <= width; i += 4) {
        const float* pair = src + (2 * i - pad_left);
        const v128_t low = load_f32x4(pair), high = load_f32x4(pair + 4);
        store_f32x4(even + i, wasm_i32x4_shuffle(low, high, 0, 2, 4, 6));
        store_f32x4(odd + i, wasm_i32x4_shuffle(low, high, 1, 3, 5, 7));
    }
    for (; i < phase_w; ++i) {
        even[i] = padded(2 * i);
        odd[i] = padded(2 * i + 1);
    }
}

// Per-thread scratch for the padded image, reused across runs instead of a
// fresh allocation per run (the stem's is ~600 KB: natively a new mapping
// and page faults every run). Each thread has its own, so a const run stays
// safe to call from two threads; it only grows (the largest padded image a
// thread has seen stays allocated until the thread ends), and the tensor
// limit is checked before allocating. Fully written before it is read (no
// zero fill). run_dense does not call itself, so one buffer per thread is
// never in use twice.
float* scratch_floats(int64_t count, const char* what) {
    if (count < 0 || static_cast<uint64_t>(count) > limits::max_tensor_elements) {
        throw UnsupportedError(concat("convolution: ", what, " of ", count, " floats exceeds the limit of ",
                                      limits::max_tensor_elements));
    }
    thread_local std::unique_ptr<float[]> buffer;
    thread_local int64_t capacity = 0;
    const int64_t wanted = std::max<int64_t>(count, 1);
    if (wanted > capacity) {
        buffer.reset();  // release the old one first: peak memory is the new size only
        capacity = 0;
        buffer.reset(new float[static_cast<size_t>(wanted)]);
        capacity = wanted;
    }
    return buffer.get();
}

}  // namespace

void Conv2DNchwKernel::pack_dense_weights(const float* weights) {
    const Conv2DGeometry& g = geometry_;
    const int64_t depth = g.in_channels * g.kernel_h * g.kernel_w;
    const int64_t blocks = (g.out_channels + dense_tile_channels - 1) / dense_tile_channels;
    dense_depth_ = depth;
    // Panel b holds channels [b*MR, b*MR + MR) as depth x MR, zero past Cout,
    // so the micro-kernel reads MR consecutive weights per k.
    dense_weights_.assign(static_cast<size_t>(blocks * depth * dense_tile_channels), 0.0f);
    for (int64_t b = 0; b < blocks; ++b) {
        float* panel = dense_weights_.data() + b * depth * dense_tile_channels;
        for (int64_t r = 0; r < dense_tile_channels; ++r) {
            const int64_t oc = b * dense_tile_channels + r;
            if (oc >= g.out_channels) break;
            for (int64_t k = 0; k < depth; ++k) panel[k * dense_tile_channels + r] = weights[oc * depth + k];
        }
    }
    bias_.resize(static_cast<size_t>(blocks * dense_tile_channels), 0.0f);
}

void Conv2DNchwKernel::run_dense(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                                 int64_t input_w, float* output) const {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t depth = dense_depth_;
    const int64_t blocks = (g.out_channels + dense_tile_channels - 1) / dense_tile_channels;
    const int64_t out_plane = oh * ow;
    std::vector<ptrdiff_t> offsets(static_cast<size_t>(depth));
    // The K range the tiles below sum: [block_first, block_first + block_depth);
    // the first block starts from the bias, later ones from the output.
    int64_t block_first = 0, block_depth = depth;
    auto block_bias = [&](int64_t b) { return block_first == 0 ? bias_.data() + b * dense_tile_channels : nullptr; };
    auto tile = [&](const float* panel, const ptrdiff_t* offs, const float* x, int64_t b, float* out,
                    int64_t width) {
        const int channels = static_cast<int>(std::min<int64_t>(dense_tile_channels, g.out_channels - b * dense_tile_channels));
        dense_micro_tile<dense_tile_channels, dense_tile_vectors>(block_depth, panel + block_first * dense_tile_channels,
                                                                 offs + block_first, x, block_bias(b), out, out_plane,
                                                                 channels, width);
    };
    auto narrow_tile = [&](const float* panel, const ptrdiff_t* offs, const float* x, int64_t b, float* out,
                           int64_t width) {
        const int channels = static_cast<int>(std::min<int64_t>(dense_tile_channels, g.out_channels - b * dense_tile_channels));
        dense_micro_tile<dense_tile_channels, 1>(block_depth, panel + block_first * dense_tile_channels,
                                                 offs + block_first, x, block_bias(b), out, out_plane, channels, width);
    };

    const bool pointwise = g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
                           g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0;
    if (pointwise) {
        // X is the input: row k is input channel k. The last block of an
        // image may end inside a plane; it is gathered into a small panel so
        // no load runs past the input.
        const int64_t plane = input_h * input_w;
        for (int64_t k = 0; k < depth; ++k) offsets[k] = static_cast<ptrdiff_t>(k * plane);
        std::vector<ptrdiff_t> tail_offsets(static_cast<size_t>(depth));
        for (int64_t k = 0; k < depth; ++k) tail_offsets[k] = static_cast<ptrdiff_t>(k * dense_tile_pixels);
        std::vector<float> tail(static_cast<size_t>(depth * dense_tile_pixels), 0.0f);
        const int64_t full_end = plane - plane % dense_tile_pixels;
        // Pixel chunks keep the chunk's K rows in L2 while every weight panel passes over them.
        const int64_t chunk = std::max<int64_t>(dense_tile_pixels,
                                                (dense_source_budget / std::max<int64_t>(depth, 1)) / dense_tile_pixels * dense_tile_pixels);
        for (int64_t n = 0; n < batch; ++n) {
            const float* image = input + n * g.in_channels * plane;
            float* image_out = output + n * g.out_channels * out_plane;
            if (full_end < plane) {
                for (int64_t k = 0; k < depth; ++k)
                    std::memcpy(tail.data() + k * dense_tile_pixels, image + k * plane + full_end,
                                static_cast<size_t>(plane - full_end) * sizeof(float));
            }
            for (int64_t first = 0; first < plane; first += chunk) {
                const int64_t last = std::min(plane, first + chunk);
                for (int64_t b = 0; b < blocks; ++b) {
                    const float* panel = dense_weights_.data() + b * depth * dense_tile_channels;
                    float* block_out = image_out + b * dense_tile_channels * out_plane;
                    for (int64_t p = first; p < last; p += dense_tile_pixels) {
                        if (p + dense_tile_pixels <= plane) {
                            tile(panel, offsets.data(), image + p, b, block_out + p, dense_tile_pixels);
                        } else if (plane - p <= f32_lanes) {
                            narrow_tile(panel, tail_offsets.data(), tail.data(), b, block_out + p, plane - p);
                        } else {
                            tile(panel, tail_offsets.data(), tail.data(), b, block_out + p, plane - p);
                        }
                    }
                }
            }
        }
        return;
    }

    // Zero-padded, phase-split copy: [in_channels][padded_h][stride_w phases][phase_w].
    // Output pixel (oy, ox), tap (ky, kx) reads padded row oy*sh + ky*dh and
    // padded column ox*sw + kx*dw, which is phase (kx*dw) % sw, index
    // ox + (kx*dw) / sw: contiguous in ox for every tap.
    const int64_t sh = g.stride_h, sw = g.stride_w;
    const int64_t padded_h = input_h + g.pad_top + g.pad_bottom;
    const int64_t padded_w = input_w + g.pad_left + g.pad_right;
    const int64_t phase_w = (padded_w + sw - 1) / sw;
    const int64_t row_stride = sw * phase_w;
    const int64_t channel_stride = padded_h * row_stride;
    // Blocks past ow read up to one tile beyond a row; the slack keeps the last row's reads inside.
    const int64_t source_size = g.in_channels * channel_stride + dense_tile_pixels;
    float* const source = scratch_floats(source_size, "padded input");
    std::fill(source + g.in_channels * channel_stride, source + source_size, 0.0f);
    for (int64_t ic = 0; ic < g.in_channels; ++ic)
        for (int64_t ky = 0; ky < g.kernel_h; ++ky)
            for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                const int64_t column = kx * g.dilation_w;
                offsets[(ic * g.kernel_h + ky) * g.kernel_w + kx] = static_cast<ptrdiff_t>(
                    ic * channel_stride + ky * g.dilation_h * row_stride + (column % sw) * phase_w + column / sw);
            }
    // Blocks of input channels (K = channels x taps) whose source rows for one
    // output row and whose slice of a weight panel fit in L1 together.
    const int64_t taps = g.kernel_h * g.kernel_w;
    const int64_t channels_per_block = std::max<int64_t>(
        1, dense_l1_budget / (g.kernel_h * row_stride + taps * dense_tile_channels));
    // Output rows per tile: the source rows they read stay in L2 while every weight panel passes.
    const int64_t rows_per_tile = std::max<int64_t>(
        1, std::min<int64_t>(oh, (dense_source_budget / std::max<int64_t>(g.in_channels * row_stride, 1)) / std::max<int64_t>(sh, 1)));
    for (int64_t n = 0; n < batch; ++n) {
        const float* image = input + n * g.in_channels * input_h * input_w;
        float* image_out = output + n * g.out_channels * out_plane;
        for (int64_t ic = 0; ic < g.in_channels; ++ic) {
            const float* plane = image + ic * input_h * input_w;
            float* dst_plane = source + ic * channel_stride;
            for (int64_t r = 0; r < padded_h; ++r) {
                float* dst = dst_plane + r * row_stride;
                const int64_t iy = r - g.pad_top;
                if (iy < 0 || iy >= input_h) {
                    std::fill(dst, dst + row_stride, 0.0f);
                    continue;
                }
                const float* src = plane + iy * input_w;
                if (sw == 1) {
                    std::fill(dst, dst + g.pad_left, 0.0f);
                    std::memcpy(dst + g.pad_left, src, static_cast<size_t>(input_w) * sizeof(float));
                    std::fill(dst + g.pad_left + input_w, dst + row_stride, 0.0f);
                    continue;
                }
                if (sw == 2) {
                    split_even_odd(src, input_w, g.pad_left, phase_w, dst, dst + phase_w);
                    continue;
                }
                for (int64_t phase = 0; phase < sw; ++phase) {
                    float* phase_row = dst + phase * phase_w;
                    for (int64_t i = 0; i < phase_w; ++i) {
                        const int64_t ix = phase + i * sw - g.pad_left;
                        phase_row[i] = ix >= 0 && ix < input_w ? src[ix] : 0.0f;
                    }
                }
            }
        }
        for (int64_t first_row = 0; first_row < oh; first_row += rows_per_tile) {
            const int64_t last_row = std::min(oh, first_row + rows_per_tile);
            for (int64_t first_channel = 0; first_channel < g.in_channels; first_channel += channels_per_block) {
            block_first = first_channel * taps;
            block_depth = std::min(channels_per_block, g.in_channels - first_channel) * taps;
            for (int64_t b = 0; b < blocks; ++b) {
                const float* panel = dense_weights_.data() + b * depth * dense_tile_channels;
                float* block_out = image_out + b * dense_tile_channels * out_plane;
                const int64_t full_end = ow - ow % dense_tile_pixels;
                const int64_t tail = ow - full_end;
                for (int64_t oy = first_row; oy < last_row; ++oy) {
                    const float* row_source = source + oy * sh * row_stride;
                    float* row_out = block_out + oy * ow;
                    for (int64_t ox = 0; ox < full_end; ox += dense_tile_pixels) {
                        tile(panel, offsets.data(), row_source + ox, b, row_out + ox, dense_tile_pixels);
                    }
                    if (tail > f32_lanes) tile(panel, offsets.data(), row_source + full_end, b, row_out + full_end, tail);
                }
                if (tail == 0 || tail > f32_lanes) continue;
                // Short tails (28 = 3 x 8 + 4) two rows at a time.
                const int channels = static_cast<int>(std::min<int64_t>(dense_tile_channels, g.out_channels - b * dense_tile_channels));
                int64_t oy = first_row;
                for (; oy + 1 < last_row; oy += 2) {
                    dense_paired_tail_tile<dense_tile_channels>(
                        block_depth, panel + block_first * dense_tile_channels, offsets.data() + block_first,
                        source + oy * sh * row_stride + full_end, static_cast<ptrdiff_t>(sh * row_stride),
                        block_bias(b), block_out + oy * ow + full_end, ow, out_plane, channels, tail);
                }
                if (oy < last_row) {
                    narrow_tile(panel, offsets.data(), source + oy * sh * row_stride + full_end, b,
                                block_out + oy * ow + full_end, tail);
                }
            }
            }
        }
    }
}

void conv2d_nchw_reference(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                           int64_t input_w, const float* weights, const float* bias, float* output) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oc = 0; oc < g.out_channels; ++oc) {
            const int64_t group = oc / cog;
            for (int64_t oy = 0; oy < oh; ++oy) {
                for (int64_t ox = 0; ox < ow; ++ox) {
                    float sum = bias ? bias[oc] : 0.0f;
                    for (int64_t ic = 0; ic < cig; ++ic) {
                        const float* plane = input + (n * g.in_channels + group * cig + ic) * input_h * input_w;
                        const float* filter = weights + (oc * cig + ic) * g.kernel_h * g.kernel_w;
                        for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                            int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                            if (iy < 0 || iy >= input_h) continue;
                            for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                                int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                                if (ix < 0 || ix >= input_w) continue;
                                sum += plane[iy * input_w + ix] * filter[ky * g.kernel_w + kx];
                            }
                        }
                    }
                    output[((n * g.out_channels + oc) * oh + oy) * ow + ox] = sum;
                }
            }
        }
    }
}

Conv2DNchwKernel::Conv2DNchwKernel(const Conv2DGeometry& geometry, const float* weights, const float* bias)
    : geometry_(geometry) {
    const Conv2DGeometry& g = geometry_;
    g.validate("convolution");
    bias_.assign(static_cast<size_t>(g.out_channels), 0.0f);
    if (bias) std::copy(bias, bias + g.out_channels, bias_.begin());
    const int64_t cig = g.in_channels / g.groups;
    const int64_t taps = g.kernel_h * g.kernel_w;
    if (g.groups == g.in_channels && cig == 1 && g.groups > 1) {
        algorithm_ = Algorithm::depthwise;
        depthwise_weights_.assign(weights, weights + g.out_channels * taps);
        return;
    }
    if (g.groups == 1) {
        algorithm_ = Algorithm::dense;
        pack_dense_weights(weights);
        return;
    }
    // OIHW -> the NHWC kernel's [kh][kw][I/g][O].
    std::vector<float> canonical(static_cast<size_t>(g.out_channels * cig * taps));
    for (int64_t o = 0; o < g.out_channels; ++o)
        for (int64_t i = 0; i < cig; ++i)
            for (int64_t t = 0; t < taps; ++t) canonical[(t * cig + i) * g.out_channels + o] = weights[(o * cig + i) * taps + t];
    algorithm_ = Algorithm::nhwc_fallback;
    nhwc_kernel_ = std::make_unique<Conv2DKernel>(g, canonical.data(), bias);
}

const char* Conv2DNchwKernel::algorithm() const {
    switch (algorithm_) {
        case Algorithm::depthwise: return "depthwise";
        case Algorithm::dense: return "dense-gemm";
        case Algorithm::nhwc_fallback: return nhwc_kernel_->algorithm();
    }
    return "?";
}

void Conv2DNchwKernel::run_with_padding(const float* input, int64_t batch, int64_t input_h, int64_t input_w,
                                        int64_t pad_top, int64_t pad_left, int64_t pad_bottom, int64_t pad_right,
                                        float* output) const {
    const Conv2DGeometry g = geometry_.with_padding(pad_top, pad_left, pad_bottom, pad_right, "convolution");
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    if (batch <= 0 || oh <= 0 || ow <= 0) return;
    switch (algorithm_) {
        case Algorithm::depthwise:
            depthwise_conv2d_nchw(g, input, batch, input_h, input_w, depthwise_weights_.data(), bias_.data(), output);
            return;
        case Algorithm::dense:
            run_dense(g, input, batch, input_h, input_w, output);
            return;
        case Algorithm::nhwc_fallback: {
            std::vector<float> in_nhwc(static_cast<size_t>(batch * g.in_channels * input_h * input_w));
            std::vector<float> out_nhwc(static_cast<size_t>(batch * g.out_channels * oh * ow));
            nchw_to_nhwc(input, batch, g.in_channels, input_h * input_w, in_nhwc.data());
            nhwc_kernel_->run_with_padding(in_nhwc.data(), batch, input_h, input_w, pad_top, pad_left, pad_bottom,
                                           pad_right, out_nhwc.data());
            nhwc_to_nchw(out_nhwc.data(), batch, g.out_channels, oh * ow, output);
            return;
        }
    }
}

}  // namespace convscope
