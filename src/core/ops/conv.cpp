#include "core/ops/conv.h"

#include <algorithm>
#include <cstring>

#include "core/base/error.h"
#include "core/base/thread_pool.h"
#include "core/simd/simd.h"

namespace convscope {

namespace {
int64_t effective_kernel(int64_t kernel, int64_t dilation) { return (kernel - 1) * dilation + 1; }
}  // namespace

PadPair same_padding(int64_t input_size, int64_t kernel, int64_t stride, int64_t dilation, bool extra_at_end) {
    int64_t output = (input_size + stride - 1) / stride;
    int64_t total = std::max<int64_t>(0, (output - 1) * stride + effective_kernel(kernel, dilation) - input_size);
    PadPair pads;
    pads.begin = extra_at_end ? total / 2 : total - total / 2;
    pads.end = total - pads.begin;
    return pads;
}

int64_t conv_output_size(int64_t input_size, int64_t kernel, int64_t stride, int64_t dilation,
                         int64_t pad_begin, int64_t pad_end) {
    int64_t span = input_size + pad_begin + pad_end - effective_kernel(kernel, dilation);
    return span < 0 ? 0 : span / stride + 1;
}

int64_t Conv2DGeometry::output_h(int64_t input_h) const {
    return conv_output_size(input_h, kernel_h, stride_h, dilation_h, pad_top, pad_bottom);
}

int64_t Conv2DGeometry::output_w(int64_t input_w) const {
    return conv_output_size(input_w, kernel_w, stride_w, dilation_w, pad_left, pad_right);
}

void Conv2DGeometry::validate(const std::string& context) const {
    if (groups < 1 || in_channels < 1 || out_channels < 1 || in_channels % groups || out_channels % groups) {
        throw UnsupportedError(concat(context, ": ", in_channels, " input and ", out_channels,
                                      " output channels do not split into ", groups, " groups"));
    }
    // The upper bound keeps (kernel - 1) * dilation and the padded sizes from overflowing.
    constexpr int64_t max_extent = int64_t(1) << 24;
    auto positive = [](int64_t v) { return v >= 1 && v <= max_extent; };
    auto non_negative = [](int64_t v) { return v >= 0 && v <= max_extent; };
    if (!positive(kernel_h) || !positive(kernel_w) || !positive(stride_h) || !positive(stride_w) ||
        !positive(dilation_h) || !positive(dilation_w) || !non_negative(pad_top) || !non_negative(pad_left) ||
        !non_negative(pad_bottom) || !non_negative(pad_right)) {
        throw UnsupportedError(concat(context, ": kernel ", kernel_h, "x", kernel_w, ", strides ", stride_h, "x",
                                      stride_w, ", dilations ", dilation_h, "x", dilation_w, ", pads ", pad_top,
                                      ",", pad_left, ",", pad_bottom, ",", pad_right,
                                      " must be positive (pads non-negative) and at most ", max_extent));
    }
}

Conv2DGeometry Conv2DGeometry::with_padding(int64_t top, int64_t left, int64_t bottom, int64_t right,
                                            const std::string& context) const {
    Conv2DGeometry g = *this;
    g.pad_top = top;
    g.pad_left = left;
    g.pad_bottom = bottom;
    g.pad_right = right;
    g.validate(context);
    return g;
}

void conv2d_reference(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                      int64_t input_w, const float* weights, const float* bias, float* output) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oy = 0; oy < oh; ++oy) {
            for (int64_t ox = 0; ox < ow; ++ox) {
                float* out = output + ((n * oh + oy) * ow + ox) * g.out_channels;
                for (int64_t oc = 0; oc < g.out_channels; ++oc) {
                    int64_t group = oc / cog;
                    float sum = bias ? bias[oc] : 0.0f;
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                        if (iy < 0 || iy >= input_h) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                            if (ix < 0 || ix >= input_w) continue;
                            const float* in = input + ((n * input_h + iy) * input_w + ix) * g.in_channels + group * cig;
                            const float* w = weights + ((ky * g.kernel_w + kx) * cig) * g.out_channels + oc;
                            for (int64_t ic = 0; ic < cig; ++ic) sum += in[ic] * w[ic * g.out_channels];
                        }
                    }
                    out[oc] = sum;
                }
            }
        }
    }
}

Conv2DKernel::Conv2DKernel(const Conv2DGeometry& geometry, const float* weights, const float* bias)
    : geometry_(geometry) {
    const Conv2DGeometry& g = geometry_;
    g.validate("convolution");
    bias_.assign(static_cast<size_t>(g.out_channels), 0.0f);
    if (bias) std::copy(bias, bias + g.out_channels, bias_.begin());
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    const int64_t taps = g.kernel_h * g.kernel_w;
    if (g.groups == g.in_channels && cig == 1 && g.groups > 1) {
        algorithm_ = Algorithm::depthwise;
        depthwise_weights_.assign(weights, weights + taps * g.out_channels);
        return;
    }
    bool one_by_one = g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
                      g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0;
    algorithm_ = one_by_one && g.groups == 1 ? Algorithm::pointwise : Algorithm::im2col;
    // Group g's weights are rows (ky, kx, ic) of columns [g*cog, (g+1)*cog):
    // packed straight from the model's weights (row stride out_channels), with
    // no temporary copy, so building an engine for a large model costs only
    // the packed weights.
    for (int64_t group = 0; group < g.groups; ++group) {
        packed_groups_.push_back(gemm_pack_b(weights + group * cog, taps * cig, cog, g.out_channels, false));
    }
}

const char* Conv2DKernel::algorithm() const {
    switch (algorithm_) {
        case Algorithm::depthwise: return "depthwise";
        case Algorithm::pointwise: return "pointwise-gemm";
        case Algorithm::im2col: return "im2col-gemm";
    }
    return "?";
}

void Conv2DKernel::run(const float* input, int64_t batch, int64_t input_h, int64_t input_w, float* output) const {
    run_with_padding(input, batch, input_h, input_w, geometry_.pad_top, geometry_.pad_left, geometry_.pad_bottom,
                     geometry_.pad_right, output);
}

void Conv2DKernel::run_with_padding(const float* input, int64_t batch, int64_t input_h, int64_t input_w,
                                    int64_t pad_top, int64_t pad_left, int64_t pad_bottom, int64_t pad_right,
                                    float* output) const {
    const Conv2DGeometry g = geometry_.with_padding(pad_top, pad_left, pad_bottom, pad_right, "convolution");
    bool unpadded = pad_top == 0 && pad_left == 0 && pad_bottom == 0 && pad_right == 0;
    if (algorithm_ == Algorithm::depthwise) {
        run_depthwise(g, input, batch, input_h, input_w, output);
    } else if (algorithm_ == Algorithm::pointwise && unpadded) {
        gemm_packed(batch * input_h * input_w, input, g.in_channels, packed_groups_[0], output, g.out_channels,
                    bias_.data());
    } else {
        run_im2col(g, input, batch, input_h, input_w, output);
    }
}

void Conv2DKernel::run_depthwise(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                                 int64_t input_w, float* output) const {
    using namespace simd;
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t channels = g.out_channels;
    const int64_t multiplier = g.out_channels / g.in_channels;
    // A depth multiplier > 1 reads input channel oc / multiplier; repeating
    // each input channel once per multiplier turns it into the 1:1 case.
    std::vector<float> expanded;
    if (multiplier > 1) {
        int64_t pixels = batch * input_h * input_w;
        expanded.resize(static_cast<size_t>(pixels * channels));
        for (int64_t p = 0; p < pixels; ++p) {
            for (int64_t c = 0; c < g.in_channels; ++c) {
                for (int64_t m = 0; m < multiplier; ++m) {
                    expanded[p * channels + c * multiplier + m] = input[p * g.in_channels + c];
                }
            }
        }
        input = expanded.data();
    }
    const int64_t vector_end = channels - channels % 4;
    // Threads split the output rows (independent pixels) of every image.
    parallel_for(batch * oh, [&](int64_t first_row, int64_t end_row) {
        for (int64_t row = first_row; row < end_row; ++row) {
            const int64_t n = row / oh, oy = row % oh;
            for (int64_t ox = 0; ox < ow; ++ox) {
                float* out = output + ((n * oh + oy) * ow + ox) * channels;
                std::memcpy(out, bias_.data(), channels * sizeof(float));
                for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                    int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                    if (iy < 0 || iy >= input_h) continue;
                    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                        int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                        if (ix < 0 || ix >= input_w) continue;
                        const float* in = input + ((n * input_h + iy) * input_w + ix) * channels;
                        const float* w = depthwise_weights_.data() + (ky * g.kernel_w + kx) * channels;
                        int64_t c = 0;
                        for (; c < vector_end; c += 4) {
                            store_f32x4(out + c, madd_f32x4(load_f32x4(out + c), load_f32x4(in + c), load_f32x4(w + c)));
                        }
                        for (; c < channels; ++c) out[c] += in[c] * w[c];
                    }
                }
            }
        }
    }, std::max<int64_t>(1, 2048 / std::max<int64_t>(ow * channels, 1)));
}

void Conv2DKernel::run_im2col(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                              int64_t input_w, float* output) const {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    const int64_t row_length = g.kernel_h * g.kernel_w * cig;
    const int64_t pixels = oh * ow;
    // About 1 MB of scratch whatever the layer size.
    int64_t chunk = std::max<int64_t>(4, std::min<int64_t>(pixels, 262144 / std::max<int64_t>(row_length, 1)));
    std::vector<float> rows(static_cast<size_t>(chunk * row_length));
    for (int64_t n = 0; n < batch; ++n) {
        const float* image = input + n * input_h * input_w * g.in_channels;
        float* image_out = output + n * pixels * g.out_channels;
        for (int64_t group = 0; group < g.groups; ++group) {
            for (int64_t first = 0; first < pixels; first += chunk) {
                int64_t count = std::min(chunk, pixels - first);
                // Rows are independent copies; the GEMM below splits itself.
                parallel_for(count, [&](int64_t first_r, int64_t end_r) {
                    for (int64_t r = first_r; r < end_r; ++r) {
                        int64_t oy = (first + r) / ow, ox = (first + r) % ow;
                        float* row = rows.data() + r * row_length;
                        for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                            int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                            for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                                int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                                float* dst = row + (ky * g.kernel_w + kx) * cig;
                                if (iy < 0 || iy >= input_h || ix < 0 || ix >= input_w) {
                                    std::memset(dst, 0, cig * sizeof(float));
                                } else {
                                    std::memcpy(dst, image + (iy * input_w + ix) * g.in_channels + group * cig,
                                                cig * sizeof(float));
                                }
                            }
                        }
                    }
                }, std::max<int64_t>(1, 4096 / std::max<int64_t>(row_length, 1)));
                gemm_packed(count, rows.data(), row_length, packed_groups_[group],
                            image_out + first * g.out_channels + group * cog, g.out_channels,
                            bias_.data() + group * cog);
            }
        }
    }
}

void conv_transpose2d_reference(const ConvTranspose2DGeometry& geometry, const float* input, int64_t batch,
                                int64_t input_h, int64_t input_w, const float* weights, const float* bias,
                                float* output) {
    const Conv2DGeometry& g = geometry.conv;
    const int64_t oh = geometry.output_h, ow = geometry.output_w;
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    for (int64_t n = 0; n < batch; ++n) {
        float* out_image = output + n * oh * ow * g.out_channels;
        for (int64_t p = 0; p < oh * ow; ++p) {
            for (int64_t oc = 0; oc < g.out_channels; ++oc) out_image[p * g.out_channels + oc] = bias ? bias[oc] : 0.0f;
        }
        for (int64_t iy = 0; iy < input_h; ++iy) {
            for (int64_t ix = 0; ix < input_w; ++ix) {
                const float* in = input + ((n * input_h + iy) * input_w + ix) * g.in_channels;
                for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                    int64_t oy = iy * g.stride_h + ky * g.dilation_h - g.pad_top;
                    if (oy < 0 || oy >= oh) continue;
                    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                        int64_t ox = ix * g.stride_w + kx * g.dilation_w - g.pad_left;
                        if (ox < 0 || ox >= ow) continue;
                        float* out = out_image + (oy * ow + ox) * g.out_channels;
                        for (int64_t ic = 0; ic < g.in_channels; ++ic) {
                            int64_t group = ic / cig;
                            const float* w = weights + ((ic * g.kernel_h + ky) * g.kernel_w + kx) * cog;
                            for (int64_t co = 0; co < cog; ++co) out[group * cog + co] += in[ic] * w[co];
                        }
                    }
                }
            }
        }
    }
}

ConvTranspose2DKernel::ConvTranspose2DKernel(const ConvTranspose2DGeometry& geometry, const float* weights,
                                             const float* bias)
    : geometry_(geometry) {
    const Conv2DGeometry& g = geometry_.conv;
    g.validate("transposed convolution");
    bias_.assign(static_cast<size_t>(g.out_channels), 0.0f);
    if (bias) std::copy(bias, bias + g.out_channels, bias_.begin());
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    const int64_t columns = g.kernel_h * g.kernel_w * cog;
    for (int64_t group = 0; group < g.groups; ++group) {
        packed_groups_.push_back(gemm_pack_b(weights + group * cig * columns, cig, columns, columns, false));
    }
}

void ConvTranspose2DKernel::run(const float* input, int64_t batch, int64_t input_h, int64_t input_w,
                                float* output) const {
    run_sized(geometry_, input, batch, input_h, input_w, output);
}

void ConvTranspose2DKernel::run_sized(const ConvTranspose2DGeometry& geometry, const float* input, int64_t batch,
                                      int64_t input_h, int64_t input_w, float* output) const {
    const Conv2DGeometry& g = geometry.conv;
    const int64_t oh = geometry.output_h, ow = geometry.output_w;
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    const int64_t columns = g.kernel_h * g.kernel_w * cog;
    const int64_t pixels = input_h * input_w;
    int64_t chunk = std::max<int64_t>(4, std::min<int64_t>(pixels, 262144 / std::max<int64_t>(columns, 1)));
    std::vector<float> cols(static_cast<size_t>(chunk * columns));
    for (int64_t n = 0; n < batch; ++n) {
        const float* image = input + n * pixels * g.in_channels;
        float* out_image = output + n * oh * ow * g.out_channels;
        for (int64_t p = 0; p < oh * ow; ++p) {
            std::memcpy(out_image + p * g.out_channels, bias_.data(), g.out_channels * sizeof(float));
        }
        for (int64_t group = 0; group < g.groups; ++group) {
            for (int64_t first = 0; first < pixels; first += chunk) {
                int64_t count = std::min(chunk, pixels - first);
                // Every input pixel's contribution to its kh x kw output patch...
                gemm_packed(count, image + first * g.in_channels + group * cig, g.in_channels,
                            packed_groups_[group], cols.data(), columns, nullptr);
                // ...scattered into the output (col2im).
                for (int64_t r = 0; r < count; ++r) {
                    int64_t iy = (first + r) / input_w, ix = (first + r) % input_w;
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t oy = iy * g.stride_h + ky * g.dilation_h - g.pad_top;
                        if (oy < 0 || oy >= oh) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ox = ix * g.stride_w + kx * g.dilation_w - g.pad_left;
                            if (ox < 0 || ox >= ow) continue;
                            const float* src = cols.data() + r * columns + (ky * g.kernel_w + kx) * cog;
                            float* dst = out_image + (oy * ow + ox) * g.out_channels + group * cog;
                            for (int64_t co = 0; co < cog; ++co) dst[co] += src[co];
                        }
                    }
                }
            }
        }
    }
}

}  // namespace convscope
