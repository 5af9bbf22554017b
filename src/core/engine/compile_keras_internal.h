// Internals of the Keras compiler shared by its two files: compile_keras.cpp
// (context, helpers, the class-name table, the simple layers) and
// compile_keras_conv.cpp (convolutions and pooling). Not for use outside
// src/core/engine.
//
// Each layer class has one compile function. It reads the layer's config
// attributes once, into typed values, and builds its step from those only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/engine/builders.h"
#include "core/engine/keras_params.h"
#include "core/engine/plan.h"

namespace convscope {
namespace keras_compile {

struct KerasContext {
    const Model& model;
    const Layer& layer;
    const Layer& weight_owner;  // the first call of a shared layer holds the weights
    bool keras3;
};

using KerasCompileFunction = CompiledLayer (*)(const KerasContext&);

// The context of `layer`: its weight owner (shared layers) and Keras version.
KerasContext make_context(const Model& model, const Layer& layer);

// A weight by name suffix ("/kernel"), else by get_weights() position when
// no weight carries a recognisable name. Throws when required and absent.
const Tensor* find_weight(const KerasContext& c, const std::string& suffix, int position, bool required = true);

// A 1- or `rank`-element spatial attribute expanded to `rank` values.
std::vector<int64_t> spatial(const Layer& layer, const std::string& key, size_t rank, std::vector<int64_t> fallback);

// The `activation=` of a layer (or of an Activation layer), "softmax" included.
OutputActivation keras_activation(const KerasContext& c, const std::string& name);
void require_channels_last(const Layer& layer);
// "valid", "same" or "causal".
PaddingRule keras_padding(const Layer& layer);

// A one-input, one-output step running `function`; its inputs are the layer's.
CompiledLayer single(const KerasContext& c, OpKind op, std::function<Tensor(const Tensor&)> function,
                     std::string algorithm = "");

// `compiled` carrying `params`: the typed parameters its step was built from,
// which gradients and inspection read from the plan step.
CompiledLayer with_params(CompiledLayer compiled, LayerParams params);

// Convolutions and pooling (compile_keras_conv.cpp). compile_conv and
// compile_pool serve every class name keras_conv_params / keras_pool_params know.
KerasConvParams resolve_conv_params(const KerasContext& c);
CompiledLayer compile_conv(const KerasContext& c);
CompiledLayer compile_conv_transpose(const KerasContext& c, bool one_dimensional);
CompiledLayer compile_pool(const KerasContext& c);
CompiledLayer compile_global_pool(const KerasContext& c, PoolKind kind);

}  // namespace keras_compile
}  // namespace convscope
