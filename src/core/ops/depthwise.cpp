#include "core/ops/depthwise.h"

namespace convscope {

void depthwise_conv2d_nchw(const Conv2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
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

}  // namespace convscope
