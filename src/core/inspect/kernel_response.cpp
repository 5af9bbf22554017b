#include "core/inspect/kernel_response.h"

#include "core/base/error.h"
#include "core/engine/builders.h"
#include "core/engine/keras_params.h"
#include "core/engine/layer_params_of.h"
#include "core/inspect/kernels.h"

namespace convscope {

namespace {

// Strides, dilations and padding of a 2-D convolution, as its layer resolves them.
struct ConvWindow {
    int64_t stride_h = 1, stride_w = 1;
    int64_t dilation_h = 1, dilation_w = 1;
    PaddingRule padding;
};

// Keras: the compiler's own resolver (keras_params.h).
ConvWindow keras_window(const Model& model, const Layer& layer) {
    const KerasConvParams p = keras_conv_params(model, layer);
    return ConvWindow{p.geometry.stride_h, p.geometry.stride_w, p.geometry.dilation_h, p.geometry.dilation_w, p.padding};
}

// ONNX Conv: the ConvParams the ONNX compiler resolves.
ConvWindow onnx_window(const Model& model, const Layer& layer) {
    const LayerParams params = layer_params_of(model, layer);
    const auto* p = std::get_if<ConvParams>(&params);
    if (!p || p->spatial != 2) throw UnsupportedError(concat("layer '", layer.name, "' is not a 2-D convolution"));
    return ConvWindow{p->stride_h, p->stride_w, p->dilation_h, p->dilation_w, p->padding};
}

}  // namespace

Tensor convolve_single_kernel(const Model& model, const Layer& layer, const Tensor& input_any,
                              const KernelResponseRequest& request) {
    const bool onnx = model.is_onnx();
    Tensor input = input_any.to_float32();
    if (input.rank() == 4 && input.shape()[0] == 1) input = input.reshaped({input.shape()[1], input.shape()[2], input.shape()[3]});
    if (input.rank() != 3) throw Error(concat("kernel response: expected one image, got ", shape_to_string(input.shape())));
    // Work in HWC.
    int64_t h = onnx ? input.shape()[1] : input.shape()[0], w = onnx ? input.shape()[2] : input.shape()[1];
    int64_t channels = onnx ? input.shape()[0] : input.shape()[2];
    auto at = [&](int64_t y, int64_t x, int64_t c) {
        return onnx ? input.f32()[(c * h + y) * w + x] : input.f32()[(y * w + x) * channels + c];
    };
    // The kernels in their stored layout (kernels.h), the window from the layer's resolver.
    const std::optional<ConvKernels> kernels = conv_kernels(model, layer);
    if (!kernels) throw UnsupportedError(concat("layer '", layer.name, "' has no 2-D convolution kernel"));
    const ConvWindow window = onnx ? onnx_window(model, layer) : keras_window(model, layer);
    const int64_t kh = kernels->height, kw = kernels->width, cig = kernels->in_channels_per_group();
    if (request.output_channel < 0 || request.output_channel >= kernels->out_channels) {
        throw Error(concat("kernel response: output channel ", request.output_channel, " of ", kernels->out_channels));
    }
    if (kernels->in_channels != channels) {
        throw Error(concat("kernel response: the kernel reads ", kernels->in_channels, " channels, the image has ", channels));
    }
    const int64_t first_channel = kernels->first_input_channel(request.output_channel);
    PadPair ph = resolve_padding(window.padding, true, h, kh, window.stride_h, window.dilation_h);
    PadPair pw = resolve_padding(window.padding, false, w, kw, window.stride_w, window.dilation_w);
    int64_t oh = conv_output_size(h, kh, window.stride_h, window.dilation_h, ph.begin, ph.end);
    int64_t ow = conv_output_size(w, kw, window.stride_w, window.dilation_w, pw.begin, pw.end);
    Tensor out = Tensor::zeros(DType::f32, {oh, ow});
    float* dst = out.mutable_f32();
    for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
            float sum = 0.0f;
            for (int64_t ky = 0; ky < kh; ++ky) {
                int64_t iy = oy * window.stride_h - ph.begin + ky * window.dilation_h;
                if (iy < 0 || iy >= h) continue;
                for (int64_t kx = 0; kx < kw; ++kx) {
                    int64_t ix = ox * window.stride_w - pw.begin + kx * window.dilation_w;
                    if (ix < 0 || ix >= w) continue;
                    for (int64_t i = 0; i < cig; ++i) {
                        int64_t c = first_channel + i;
                        if (request.input_channel >= 0 && c != request.input_channel) continue;
                        sum += at(iy, ix, c) * kernels->at(request.output_channel, i, ky, kx);
                    }
                }
            }
            dst[oy * ow + ox] = sum;
        }
    }
    return out;
}

}  // namespace convscope
