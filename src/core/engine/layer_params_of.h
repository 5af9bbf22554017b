// A layer's typed parameters as its compiler resolves them, for readers that
// hold a Model but no Engine (kernel response, inspection): the compile
// function runs and its LayerParams are returned, so there is no second
// reading of the layer's attributes anywhere.
#pragma once

#include "core/model/layer_params.h"
#include "core/model/model.h"

namespace convscope {

// Throws UnsupportedError when the layer cannot be compiled.
LayerParams layer_params_of(const Model& model, const Layer& layer);

}  // namespace convscope
