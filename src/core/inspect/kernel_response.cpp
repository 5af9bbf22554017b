#include "core/inspect/kernel_response.h"

#include "core/base/error.h"
#include "core/engine/builders.h"

namespace convscope {

Tensor convolve_single_kernel(const Model& model, const Layer& layer, const Tensor& input_any,
                              const KernelResponseRequest& request) {
    const bool onnx = model.format.rfind("onnx", 0) == 0;
    Tensor input = input_any.to_float32();
    if (input.rank() == 4 && input.shape()[0] == 1) input = input.reshaped({input.shape()[1], input.shape()[2], input.shape()[3]});
    if (input.rank() != 3) throw Error(concat("kernel response: expected one image, got ", shape_to_string(input.shape())));
    // Work in HWC.
    int64_t h = onnx ? input.shape()[1] : input.shape()[0], w = onnx ? input.shape()[2] : input.shape()[1];
    int64_t channels = onnx ? input.shape()[0] : input.shape()[2];
    auto at = [&](int64_t y, int64_t x, int64_t c) {
        return onnx ? input.f32()[(c * h + y) * w + x] : input.f32()[(y * w + x) * channels + c];
    };
    const Weight* kernel_weight = nullptr;
    for (const char* suffix : {"depthwise_kernel", "kernel"}) if (!kernel_weight) kernel_weight = layer.weight(suffix);
    if (onnx && layer.inputs.size() > 1) for (const Weight& w8 : layer.weights) if (w8.name == layer.inputs[1]) kernel_weight = &w8;
    if (!kernel_weight || kernel_weight->tensor.rank() != 4) throw UnsupportedError(concat("layer '", layer.name, "' has no 2-D convolution kernel"));
    Tensor kernel = kernel_weight->tensor.to_float32();
    const Shape& ks = kernel.shape();
    bool depthwise = layer.type == "DepthwiseConv2D";
    int64_t groups = onnx ? layer.attribute_int("group", 1) : depthwise ? channels : layer.attribute_int("groups", 1);
    int64_t kh = onnx ? ks[2] : ks[0], kw = onnx ? ks[3] : ks[1];
    int64_t cig = onnx ? ks[1] : (depthwise ? 1 : ks[2]);
    int64_t cout = onnx ? ks[0] : (depthwise ? ks[2] * ks[3] : ks[3]);
    if (request.output_channel < 0 || request.output_channel >= cout) {
        throw Error(concat("kernel response: output channel ", request.output_channel, " of ", cout));
    }
    if (cig * groups != channels) throw Error(concat("kernel response: the kernel reads ", cig * groups, " channels, the image has ", channels));
    int64_t group = request.output_channel / (cout / groups);
    std::vector<int64_t> strides = layer.attribute_ints(onnx ? "strides" : "strides", {1, 1});
    std::vector<int64_t> dilations = layer.attribute_ints(onnx ? "dilations" : "dilation_rate", {1, 1});
    if (strides.size() == 1) strides.push_back(strides[0]);
    if (dilations.size() == 1) dilations.push_back(dilations[0]);
    PadPair ph, pw;
    if (onnx) {
        std::string auto_pad = layer.attribute_string("auto_pad", "NOTSET");
        if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
            ph = same_padding(h, kh, strides[0], dilations[0], auto_pad == "SAME_UPPER");
            pw = same_padding(w, kw, strides[1], dilations[1], auto_pad == "SAME_UPPER");
        } else if (auto_pad != "VALID") {
            std::vector<int64_t> pads = layer.attribute_ints("pads", {0, 0, 0, 0});
            if (pads.size() == 4) { ph = {pads[0], pads[2]}; pw = {pads[1], pads[3]}; }
        }
    } else if (layer.attribute_string("padding", "valid") == "same") {
        ph = same_padding(h, kh, strides[0], dilations[0]);
        pw = same_padding(w, kw, strides[1], dilations[1]);
    }
    int64_t oh = conv_output_size(h, kh, strides[0], dilations[0], ph.begin, ph.end);
    int64_t ow = conv_output_size(w, kw, strides[1], dilations[1], pw.begin, pw.end);
    auto weight_at = [&](int64_t y, int64_t x, int64_t ic_in_group) {
        if (onnx) return kernel.f32()[((request.output_channel * cig + ic_in_group) * kh + y) * kw + x];
        if (depthwise) return kernel.f32()[(y * kw + x) * cout + request.output_channel];
        return kernel.f32()[((y * kw + x) * cig + ic_in_group) * cout + request.output_channel];
    };
    Tensor out = Tensor::zeros(DType::f32, {oh, ow});
    float* dst = out.mutable_f32();
    for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
            float sum = 0.0f;
            for (int64_t ky = 0; ky < kh; ++ky) {
                int64_t iy = oy * strides[0] - ph.begin + ky * dilations[0];
                if (iy < 0 || iy >= h) continue;
                for (int64_t kx = 0; kx < kw; ++kx) {
                    int64_t ix = ox * strides[1] - pw.begin + kx * dilations[1];
                    if (ix < 0 || ix >= w) continue;
                    for (int64_t i = 0; i < cig; ++i) {
                        int64_t c = group * cig + i;
                        if (request.input_channel >= 0 && c != request.input_channel) continue;
                        sum += at(iy, ix, c) * weight_at(ky, kx, i);
                    }
                }
            }
            dst[oy * ow + ox] = sum;
        }
    }
    return out;
}

}  // namespace convscope
