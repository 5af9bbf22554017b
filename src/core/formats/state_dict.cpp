#include "core/formats/state_dict.h"

#include <cstring>
#include <unordered_map>

#include "core/base/error.h"
#include "core/base/limits.h"

namespace convscope {

namespace {

std::string last_component(const std::string& key) {
    size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string prefix_of(const std::string& key) {
    size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(0, dot);
}

const NamedTensor* find_by_name(const std::vector<NamedTensor>& tensors, const std::string& name) {
    for (const NamedTensor& tensor : tensors) {
        if (last_component(tensor.key) == name) return &tensor;
    }
    return nullptr;
}

}  // namespace

void bfloat16_to_float32(const uint8_t* bfloat16_bytes, uint8_t* out) {
    float value = bfloat16_to_float(static_cast<uint16_t>(bfloat16_bytes[0] | (bfloat16_bytes[1] << 8)));
    std::memcpy(out, &value, 4);
}

std::string guess_layer_type(const std::vector<NamedTensor>& tensors) {
    if (find_by_name(tensors, "running_mean") || find_by_name(tensors, "running_var")) return "BatchNorm2d";
    const NamedTensor* weight = find_by_name(tensors, "weight");
    if (!weight) return "Tensors";
    switch (weight->tensor.rank()) {
    case 2: return "Linear";
    case 3: return "Conv1d";
    case 4: return "Conv2d";
    case 5: return "Conv3d";
    case 1: return find_by_name(tensors, "bias") ? "LayerNorm?" : "Tensors";
    default: return "Tensors";
    }
}

void add_state_dict_layers(Model& model, const std::vector<NamedTensor>& tensors,
                           const std::map<std::string, ModuleInfo>& modules) {
    std::vector<std::string> order;
    std::unordered_map<std::string, std::vector<NamedTensor>> groups;
    for (const NamedTensor& tensor : tensors) {
        std::string prefix = prefix_of(tensor.key);
        auto [found, inserted] = groups.emplace(prefix, std::vector<NamedTensor>{});
        if (inserted) {
            if (order.size() >= limits::max_layers) {
                throw_limit_error("state dict: more than ", limits::max_layers, " layers");
            }
            order.push_back(prefix);
        }
        found->second.push_back(tensor);
    }
    for (const std::string& prefix : order) {
        const std::vector<NamedTensor>& members = groups[prefix];
        Layer layer;
        layer.name = prefix;
        auto module = modules.find(prefix);
        if (module != modules.end()) {
            layer.type = module->second.class_name;
            layer.attributes = module->second.attributes;
            if (!module->second.full_class_name.empty()) {
                layer.attributes["python_class"] = module->second.full_class_name;
            }
        } else {
            layer.type = guess_layer_type(members);
        }
        for (const NamedTensor& member : members) layer.weights.push_back({member.key, member.tensor});
        const NamedTensor* weight = find_by_name(members, "weight");
        if (weight && weight->tensor.rank() >= 3 && !layer.attributes.count("out_channels")) {
            const Shape& shape = weight->tensor.shape();
            layer.attributes["out_channels"] = shape[0];
            layer.attributes["kernel_size"] = std::vector<int64_t>(shape.begin() + 2, shape.end());
        }
        model.layers.push_back(std::move(layer));
    }
}

}  // namespace convscope
