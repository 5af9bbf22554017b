// The Kernel-response computation for any convolution layer of a model:
// the layer's input activations for one model input (the picture itself for
// the first layer, the previous layer's output for deeper ones) convolved
// with one kernel (core/inspect/kernel_response.h: no bias, no activation,
// the layer's padding), or the layer's real output channel for comparison.
// Shared by the app and `convscope response` so both print the same numbers.
#pragma once

#include <cstdint>

#include "core/engine/engine.h"
#include "core/model/model.h"
#include "core/tensor/tensor.h"

namespace convscope {

// What `layer` reads for `model_input` (framework layout, batch 1): the
// input itself when the layer reads a model input, else the engine's
// output for the value it reads. Throws Error when the layer has no input.
Tensor layer_input_activation(const Engine& engine, const Model& model, const Layer& layer, const Tensor& model_input);

// Kernel `kernel` of `layer` applied to the layer's input activations
// (input_channel -1: summed over every input channel the kernel reads).
// Returns [OH, OW] float32.
Tensor kernel_response_for_input(const Engine& engine, const Model& model, const Layer& layer,
                                 const Tensor& model_input, int64_t kernel, int64_t input_channel);

// Same, from already computed input activations (the UI caches them per
// image and layer).
Tensor kernel_response_from_activation(const Model& model, const Layer& layer, const Tensor& activation,
                                       int64_t kernel, int64_t input_channel);

// Channel `kernel` of the layer's actual output (bias and activation
// included) as [OH, OW] float32.
Tensor layer_output_channel(const Engine& engine, const Model& model, const Layer& layer, const Tensor& model_input,
                            int64_t kernel);

}  // namespace convscope
