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

// Which kind of file the model came from. Display strings are derived
// (format_name), never parsed back.
enum class ModelFormat : uint8_t {
    unknown,
    keras_h5,          // Keras 2 / tf.keras / Keras 3 legacy .h5 with model_config
    keras_v3,          // Keras 3 .keras zip
    keras_weights_h5,  // weights only (save_weights, model.weights.h5)
    keras_json,        // to_json() architecture (+ weights)
    tfjs_layers,       // TensorFlow.js layers model.json
    onnx,
    tflite,
    pytorch,           // torch.save zip / pickle
    torchscript,
    safetensors,
};
const char* format_name(ModelFormat format);  // "keras-h5", "onnx", ...
bool is_keras_format(ModelFormat format);

// A framework version as numbers ("2.13.1" -> 2, 13, 1); known is false
// when the file states none or it does not start with a number.
struct FrameworkVersion {
    int major = 0, minor = 0, patch = 0;
    bool known = false;
    static FrameworkVersion parse(const std::string& text);
};

struct Layer {
    std::string name;
    std::string type;                 // Keras class name ("Conv2D") or ONNX op type ("Conv")
    std::vector<std::string> inputs;  // value names consumed, in order
    std::vector<std::string> outputs; // value names produced
    std::map<std::string, AttributeValue> attributes;
    std::vector<Weight> weights;
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
    ModelFormat format = ModelFormat::unknown;
    std::string producer;          // "keras", "tf.keras", "pytorch"
    std::string producer_version;  // "2.3.0"
    FrameworkVersion framework_version;  // producer_version parsed (Keras: the Keras version)
    // ONNX operator sets imported, by domain ("" is the default ai.onnx domain).
    std::map<std::string, int64_t> opset_imports;
    std::string name;
    DataLayout layout = DataLayout::channels_last;
    bool has_architecture = true;  // false for weights-only files
    std::vector<ValueInfo> inputs;
    std::vector<ValueInfo> outputs;
    std::vector<Layer> layers;     // execution order
    std::vector<std::string> warnings;
    std::map<std::string, std::string> metadata;  // for display only: opset, backend, training config...
    std::shared_ptr<const void> file_bytes;       // keeps zero-copy weight views alive

    uint64_t total_parameters() const;
    const char* format_name() const { return convscope::format_name(format); }
    bool is_onnx() const { return format == ModelFormat::onnx; }
    bool is_keras() const { return is_keras_format(format); }
    // Keras 3 semantics (config schema, defaults): a .keras file, or any
    // Keras file whose version is 3.x.
    bool is_keras3() const;
    // The imported opset of `domain` ("" or "ai.onnx": the default domain);
    // 0 when the model does not import it.
    int64_t onnx_opset(const std::string& domain = "") const;
    const Layer* find_layer(const std::string& name) const;
    int layer_index(const std::string& name) const;  // -1 when absent
};

}  // namespace convscope
