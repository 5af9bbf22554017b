// ONNX shape inference (onnx_shapes.cpp), used by the ONNX reader only.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/model/model.h"

namespace convscope {

// What the file states before inference: declared shapes (value_info and
// graph outputs, used when a rule does not apply), graph input shapes, and
// the initializers (shapes and constant values).
struct OnnxShapeSeeds {
    std::unordered_map<std::string, Shape> declared;
    std::vector<std::pair<std::string, Shape>> inputs;
    const std::vector<std::pair<std::string, Tensor>>& initializers;
};

// Sets Layer::output_shape of every layer whose shape follows from its
// inputs (or is declared); leaves it empty otherwise. Never throws on odd
// attributes: an unknown shape is the answer.
void infer_onnx_shapes(Model& model, const OnnxShapeSeeds& seeds);

}  // namespace convscope
