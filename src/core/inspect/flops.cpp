#include "core/inspect/flops.h"

#include <algorithm>
#include <string>
#include <variant>

#include "core/base/error.h"
#include "core/engine/layer_params_of.h"
#include "core/inspect/kernels.h"

namespace convscope {

namespace {

bool counted_type(const Model& model, const Layer& layer, const Weight** weight, const Weight** bias) {
    const bool onnx = model.is_onnx();
    *weight = nullptr;
    *bias = nullptr;
    if (onnx) {
        if (layer.type != "Conv" && layer.type != "ConvTranspose" && layer.type != "Gemm" && layer.type != "MatMul") {
            return false;
        }
        *weight = onnx_input_weight(layer, 1);
        if (!*weight && layer.type == "MatMul") *weight = onnx_input_weight(layer, 0);
        *bias = onnx_input_weight(layer, 2);
        return true;
    }
    const std::string& type = layer.type;
    const bool conv = type.rfind("Conv", 0) == 0 || type.rfind("DepthwiseConv", 0) == 0;
    if (!conv && type != "Dense") return false;
    *weight = layer.weight(type.rfind("DepthwiseConv", 0) == 0 ? "depthwise_kernel" : "kernel");
    *bias = layer.weight("bias");
    return true;
}

}  // namespace

LayerCost layer_cost(const Model& model, const Layer& layer) {
    LayerCost cost;
    const Weight* weight = nullptr;
    const Weight* bias = nullptr;
    if (!counted_type(model, layer, &weight, &bias)) return cost;
    if (!weight || weight->tensor.element_count() == 0 || layer.output_shape.size() < 2) {
        cost.known = false;
        return cost;
    }
    // Output elements per sample; the channel axis gives the kernel count.
    uint64_t elements = 1;
    for (size_t i = 1; i < layer.output_shape.size(); ++i) {
        if (layer.output_shape[i] <= 0) {
            cost.known = false;
            return cost;
        }
        elements *= static_cast<uint64_t>(layer.output_shape[i]);
    }
    const bool channels_first = model.layout == DataLayout::channels_first && layer.output_shape.size() > 2;
    const int64_t out_channels = channels_first ? layer.output_shape[1] : layer.output_shape.back();
    const uint64_t weight_elements = weight->tensor.element_count();
    if (out_channels <= 0 || weight_elements % static_cast<uint64_t>(out_channels) != 0) {
        cost.known = false;
        return cost;
    }
    uint64_t kernel_length = weight_elements / static_cast<uint64_t>(out_channels);
    // A transposed convolution spreads every input element over a whole
    // kernel: MACs = input elements x kernel size, which is the per-output
    // length divided by the stride product when the output is the input
    // times the stride (exact for "same" padding, close for "valid").
    // The strides are the compiler's (layer_params_of), so a transposed
    // convolution the engine cannot build has an unknown cost.
    if (layer.type.find("Transpose") != std::string::npos) {
        LayerParams params;
        try {
            params = layer_params_of(model, layer);
        } catch (const Error&) {
        }
        const auto* conv = std::get_if<ConvParams>(&params);
        if (!conv) {
            cost.known = false;
            return cost;
        }
        const uint64_t stride_product = static_cast<uint64_t>(std::max<int64_t>(1, conv->stride_h)) *
                                        static_cast<uint64_t>(std::max<int64_t>(1, conv->stride_w));
        kernel_length = std::max<uint64_t>(1, kernel_length / stride_product);
    }
    cost.macs = elements * kernel_length;
    cost.flops = 2 * cost.macs + (bias ? elements : 0);
    return cost;
}

ModelCost model_cost(const Model& model) {
    ModelCost total;
    total.layers.reserve(model.layers.size());
    for (const Layer& layer : model.layers) {
        LayerCost cost = layer_cost(model, layer);
        if (cost.known) {
            total.total_macs += cost.macs;
            total.total_flops += cost.flops;
        } else {
            total.complete = false;
        }
        total.layers.push_back(cost);
    }
    return total;
}

}  // namespace convscope
