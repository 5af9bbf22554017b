#include "core/engine/layer_params_of.h"

#include "core/engine/plan.h"

namespace convscope {

LayerParams layer_params_of(const Model& model, const Layer& layer) {
    CompiledLayer compiled = model.is_onnx() ? compile_onnx_node(model, layer) : compile_keras_layer(model, layer);
    return std::move(compiled.params);
}

}  // namespace convscope
