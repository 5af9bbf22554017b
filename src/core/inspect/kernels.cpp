#include "core/inspect/kernels.h"

#include <algorithm>

#include "core/base/error.h"

namespace convscope {

namespace {

// PyTorch state dicts and SafeTensors: nn.Conv2d weights, Cout x Cin/groups x kH x kW.
bool is_pytorch_layout(const Model& model) {
    return model.format == ModelFormat::pytorch || model.format == ModelFormat::safetensors || model.format == ModelFormat::torchscript;
}

}  // namespace

const Weight* onnx_input_weight(const Layer& layer, size_t input_index) {
    if (layer.inputs.size() <= input_index) return nullptr;
    for (const Weight& weight : layer.weights) {
        if (weight.name == layer.inputs[input_index]) return &weight;
    }
    return nullptr;
}

bool is_conv2d_layer(const Model& model, const Layer& layer) {
    if (model.is_onnx()) return layer.type == "Conv";
    if (is_pytorch_layout(model)) return layer.type == "Conv2d";
    return layer.type == "Conv2D" || layer.type == "DepthwiseConv2D";
}

std::optional<ConvKernels> conv_kernels(const Model& model, const Layer& layer) {
    if (!is_conv2d_layer(model, layer)) return std::nullopt;
    ConvKernels kernels;
    if (model.is_onnx()) {
        kernels.weight = onnx_input_weight(layer, 1);
        kernels.bias = onnx_input_weight(layer, 2);
        kernels.layout = KernelLayout::onnx_oihw;
    } else if (is_pytorch_layout(model)) {
        kernels.weight = layer.weight("weight");
        kernels.bias = layer.weight("bias");
        kernels.layout = KernelLayout::onnx_oihw;
    } else if (layer.type == "DepthwiseConv2D") {
        kernels.weight = layer.weight("depthwise_kernel");
        kernels.bias = layer.weight("bias");
        kernels.layout = KernelLayout::keras_depthwise;
    } else {
        kernels.weight = layer.weight("kernel");
        kernels.bias = layer.weight("bias");
        kernels.layout = KernelLayout::keras_hwio;
    }
    if (!kernels.weight || kernels.weight->tensor.rank() != 4) return std::nullopt;
    const Shape& shape = kernels.weight->tensor.shape();
    for (int64_t dimension : shape) {
        if (dimension <= 0) return std::nullopt;
    }
    switch (kernels.layout) {
    case KernelLayout::onnx_oihw:
        kernels.out_channels = shape[0];
        kernels.groups = std::max<int64_t>(1, layer.attribute_int("group", 1));
        kernels.in_channels = shape[1] * kernels.groups;
        kernels.height = shape[2];
        kernels.width = shape[3];
        break;
    case KernelLayout::keras_depthwise:
        kernels.height = shape[0];
        kernels.width = shape[1];
        kernels.in_channels = shape[2];
        kernels.groups = shape[2];
        kernels.out_channels = shape[2] * shape[3];
        break;
    case KernelLayout::keras_hwio:
        kernels.height = shape[0];
        kernels.width = shape[1];
        kernels.groups = std::max<int64_t>(1, layer.attribute_int("groups", 1));
        kernels.in_channels = shape[2] * kernels.groups;
        kernels.out_channels = shape[3];
        break;
    }
    if (kernels.out_channels % kernels.groups != 0) return std::nullopt;
    kernels.values = kernels.weight->tensor.to_float32();
    return kernels;
}

int64_t ConvKernels::first_input_channel(int64_t output_channel) const {
    const int64_t kernels_per_group = out_channels / groups;
    return (output_channel / kernels_per_group) * in_channels_per_group();
}

bool ConvKernels::reads(int64_t output_channel, int64_t input_channel) const {
    const int64_t first = first_input_channel(output_channel);
    return input_channel >= first && input_channel < first + in_channels_per_group();
}

float ConvKernels::at(int64_t output_channel, int64_t local, int64_t y, int64_t x) const {
    const int64_t cig = in_channels_per_group();
    int64_t index = 0;
    switch (layout) {
    case KernelLayout::onnx_oihw: index = ((output_channel * cig + local) * height + y) * width + x; break;
    case KernelLayout::keras_depthwise: index = (y * width + x) * out_channels + output_channel; break;
    case KernelLayout::keras_hwio: index = ((y * width + x) * cig + local) * out_channels + output_channel; break;
    }
    return values.f32()[index];
}

std::vector<float> ConvKernels::slice(int64_t output_channel, int64_t input_channel) const {
    if (output_channel < 0 || output_channel >= out_channels) {
        throw Error(concat("kernel ", output_channel, " requested; the layer has kernels 0..", out_channels - 1));
    }
    if (input_channel < 0 || input_channel >= in_channels) {
        throw Error(concat("input channel ", input_channel, " requested; the layer reads channels 0..", in_channels - 1));
    }
    std::vector<float> map(static_cast<size_t>(height * width), 0.0f);
    if (!reads(output_channel, input_channel)) return map;
    const int64_t local = input_channel - first_input_channel(output_channel);
    for (int64_t y = 0; y < height; ++y) {
        for (int64_t x = 0; x < width; ++x) map[static_cast<size_t>(y * width + x)] = at(output_channel, local, y, x);
    }
    return map;
}

std::vector<float> ConvKernels::rgb_patch(int64_t output_channel) const {
    std::vector<float> patch(static_cast<size_t>(height * width * 3), 0.0f);
    const int64_t first = first_input_channel(output_channel);
    for (int64_t c = 0; c < 3 && c < in_channels_per_group(); ++c) {
        std::vector<float> plane = slice(output_channel, first + c);
        for (size_t i = 0; i < plane.size(); ++i) patch[i * 3 + static_cast<size_t>(c)] = plane[i];
    }
    return patch;
}

double ConvKernels::bias_value(int64_t output_channel) const {
    if (!bias || output_channel < 0 || static_cast<uint64_t>(output_channel) >= bias->tensor.element_count()) return 0.0;
    return bias->tensor.value_at(static_cast<uint64_t>(output_channel));
}

}  // namespace convscope
