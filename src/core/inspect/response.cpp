#include "core/inspect/response.h"

#include "core/base/error.h"
#include "core/inspect/kernel_response.h"
#include "core/inspect/feature_maps.h"

namespace convscope {

Tensor layer_input_activation(const Engine& engine, const Model& model, const Layer& layer, const Tensor& model_input) {
    if (layer.inputs.empty()) throw Error(concat("layer '", layer.name, "' reads no input"));
    const std::string& value = layer.inputs[0];
    for (const ValueInfo& input : model.inputs) {
        if (input.name == value) return model_input;
    }
    return engine.run_until(model_input, value);
}

Tensor kernel_response_from_activation(const Model& model, const Layer& layer, const Tensor& activation,
                                       int64_t kernel, int64_t input_channel) {
    KernelResponseRequest request;
    request.output_channel = kernel;
    request.input_channel = input_channel;
    return convolve_single_kernel(model, layer, activation, request);
}

Tensor kernel_response_for_input(const Engine& engine, const Model& model, const Layer& layer,
                                 const Tensor& model_input, int64_t kernel, int64_t input_channel) {
    return kernel_response_from_activation(model, layer, layer_input_activation(engine, model, layer, model_input),
                                           kernel, input_channel);
}

Tensor layer_output_channel(const Engine& engine, const Model& model, const Layer& layer, const Tensor& model_input,
                            int64_t kernel) {
    FeatureMaps maps = feature_maps(engine.run_until(model_input, layer.name), model.layout);
    if (kernel < 0 || kernel >= maps.channels) {
        throw Error(concat("channel ", kernel, " requested; layer '", layer.name, "' has channels 0..", maps.channels - 1));
    }
    return Tensor::from_floats({maps.height, maps.width}, maps.channel_copy(kernel));
}

}  // namespace convscope
