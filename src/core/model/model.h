// The format-neutral model every reader produces and everything else reads.
//
// Vocabulary (after Netron): a Model has Layers in execution order; a Layer
// consumes and produces named Values; it carries Attributes (its
// hyper-parameters) and Weights (named tensors in the framework's own layout:
// a Keras Conv2D kernel is H x W x Cin x Cout exactly as get_weights()
// returns it, an ONNX Conv weight is Cout x Cin x kH x kW).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/tensor/tensor.h"

namespace convscope {

// Ordered attribute values; Tensor covers ONNX tensor attributes.
using AttributeValue = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                                    std::vector<double>, std::vector<std::string>, Tensor>;

std::string attribute_to_string(const AttributeValue& value);

// Affine quantization of an integer weight as its file states it (TFLite):
// real = scale * (q - zero_point), one (scale, zero_point) pair per index
// of dimension `axis` (per-channel), or a single pair with axis -1.
struct WeightQuantization {
    std::vector<float> scale;
    std::vector<int64_t> zero_point;
    int axis = -1;
};

struct Weight {
    std::string name;    // "conv2d/kernel:0", "conv1.weight"
    Tensor tensor;
};

// A named value flowing between layers (a Keras tensor, an ONNX value).
struct ValueInfo {
    std::string name;
    Shape shape;          // framework layout, -1 for unknown dimensions
    DType dtype = DType::f32;
};

enum class DataLayout : uint8_t { channels_last, channels_first };

struct Layer {
    std::string name;
    std::string type;                 // Keras class name ("Conv2D") or ONNX op type ("Conv")
    std::vector<std::string> inputs;  // value names consumed, in order
    std::vector<std::string> outputs; // value names produced
    std::map<std::string, AttributeValue> attributes;
    std::vector<Weight> weights;
    // Quantization of integer weights, by weight name (TFLite int8/uint8 files).
    std::map<std::string, WeightQuantization> weight_quantization;
    Shape output_shape;               // of outputs[0]; empty when not inferred
    std::string config_json;          // the layer's config as the file states it (Keras)
    // Empty when the engine can run this layer; otherwise why it cannot.
    std::string unsupported_reason;

    uint64_t parameter_count() const;
    const AttributeValue* attribute(const std::string& key) const;
    int64_t attribute_int(const std::string& key, int64_t fallback) const;
    double attribute_float(const std::string& key, double fallback) const;
    std::string attribute_string(const std::string& key, const std::string& fallback) const;
    std::vector<int64_t> attribute_ints(const std::string& key, std::vector<int64_t> fallback) const;
    const Weight* weight(const std::string& suffix) const;  // by name suffix ("kernel", "bias")
};

struct Model {
    std::string format;            // "keras-h5", "keras-v3", "keras-weights-h5", "onnx"
    std::string producer;          // "keras", "tf.keras", "pytorch"
    std::string producer_version;  // "2.3.0"
    std::string name;
    DataLayout layout = DataLayout::channels_last;
    bool has_architecture = true;  // false for weights-only files
    std::vector<ValueInfo> inputs;
    std::vector<ValueInfo> outputs;
    std::vector<Layer> layers;     // execution order
    std::vector<std::string> warnings;
    std::map<std::string, std::string> metadata;  // opset, backend, training config...
    std::shared_ptr<const void> file_bytes;       // keeps zero-copy weight views alive

    uint64_t total_parameters() const;
    const Layer* find_layer(const std::string& name) const;
    int layer_index(const std::string& name) const;  // -1 when absent
};

}  // namespace convscope
