// Weights-only models (PyTorch state dicts, SafeTensors files) as layers:
// named tensors are grouped by key prefix ("layer1.0.conv1.weight" and
// "layer1.0.conv1.bias" -> layer "layer1.0.conv1"), in first-seen order,
// and each layer's type is the module class when the file records it (a
// full pickled model, TorchScript) or guessed from its tensors otherwise:
// running_mean -> BatchNorm2d, a 4-D weight -> Conv2d, 3-D -> Conv1d,
// 5-D -> Conv3d, 2-D -> Linear, a 1-D weight with a bias -> LayerNorm?
// (marked as a guess), anything else -> "Tensors". Weights keep their full
// key as name and PyTorch's layout (Conv2d weight Cout x Cin/groups x kH x kW).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace convscope {

struct NamedTensor {
    std::string key;
    Tensor tensor;
};

struct ModuleInfo {
    std::string class_name;                          // "Conv2d" (short name)
    std::string full_class_name;                     // "torch.nn.modules.conv.Conv2d"
    std::map<std::string, AttributeValue> attributes;  // stride, padding, groups, ...
};

// Appends one Layer per key prefix to `model.layers`. `modules` maps a
// prefix to what the file says about that module (may be empty).
void add_state_dict_layers(Model& model, const std::vector<NamedTensor>& tensors,
                           const std::map<std::string, ModuleInfo>& modules);

// One little-endian bfloat16 (the top half of a float32) as float32 bytes
// at `out`: our DType has no bfloat16, so PyTorch and SafeTensors readers widen it.
void bfloat16_to_float32(const uint8_t* bfloat16_bytes, uint8_t* out);

// The layer type guessed from a layer's tensors (by their last key component).
std::string guess_layer_type(const std::vector<NamedTensor>& tensors);

}  // namespace convscope
