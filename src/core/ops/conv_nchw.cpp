#include "core/ops/conv_nchw.h"

#include <algorithm>

#include "core/ops/depthwise.h"

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

}  // namespace

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
        case Algorithm::nhwc_fallback: return nhwc_kernel_->algorithm();
    }
    return "?";
}

void Conv2DNchwKernel::run_with_padding(const float* input, int64_t batch, int64_t input_h, int64_t input_w,
                                        int64_t pad_top, int64_t pad_left, int64_t pad_bottom, int64_t pad_right,
                                        float* output) const {
    Conv2DGeometry g = geometry_;
    g.pad_top = pad_top;
    g.pad_left = pad_left;
    g.pad_bottom = pad_bottom;
    g.pad_right = pad_right;
    g.validate("convolution");
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    if (batch <= 0 || oh <= 0 || ow <= 0) return;
    switch (algorithm_) {
        case Algorithm::depthwise:
            depthwise_conv2d_nchw(g, input, batch, input_h, input_w, depthwise_weights_.data(), bias_.data(), output);
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
