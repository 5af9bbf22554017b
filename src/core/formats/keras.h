// Keras model files into the format-neutral Model.
//
// Implemented:
//  [X] .h5 full models from Keras 1/2, tf.keras and Keras 3's legacy h5 writer
//      (root attrs keras_version, backend, model_config; /model_weights with
//      layer_names / weight_names, also split as layer_names0, 1, ...)
//  [X] weights-only .h5 (Keras 1 "_W"/"_b", Keras 2 save_weights, Keras 3
//      model.weights.h5): has_architecture = false and a warning
//  [X] Keras 3 .keras zips (config.json, metadata.json, model.weights.h5;
//      weight groups matched by snake_case(class name) with counters as
//      Keras 3 keys them, falling back to the layer name)
//  [X] Sequential and Functional (shared layers, branches, merges, multiple
//      inputs/outputs), Keras 1/2/3 config schemas
//  [X] nested models at any depth (a Sequential/Functional/Model used as a
//      layer, shared ones too) FLATTENED: each inner layer is a full Layer
//      named by its path ("sequential_1/model1/Conv1") with attribute
//      nested_group = its parent path, the outer graph rewired through the
//      inner layers, the inner InputLayers dropped; a later call k of a
//      shared nested model is "<name>#k/<inner>" sharing weights with
//      "<name>/<inner>". Weights found (keras_nested.cpp):
//        1. Keras 2 / tf.keras .h5: model_weights/<outer>/ with weight_names
//           "<inner layer>/<var>:0", possibly with more of the path
//           ("model1/Conv1/kernel:0"); Teachable Machine's keras_model.h5
//           stores all of sequential_1 > model1 flat this way
//        2. Keras 3 .keras: layers/<outer key>/layers/<inner key>/vars, keys
//           counted per container as for the top level
//      Nested models too large to flatten (> max_flattened_layers in all)
//      or whose config cannot be read stay one Layer holding all their
//      weights, with a note
//  [X] output shape inference for common CNN layers (channels_last and
//      channels_first)
// Missing:
//  [ ] Keras 1 layer vocabulary (Convolution2D...) maps to no shapes and is
//      marked unsupported; subclassed models load as weights only
//
// Mapping conventions the engine relies on: layout channels_last;
// Layer.type = Keras class_name; attributes = the config's scalars and lists
// under Keras's names (bools as int64 0/1, nested tuples flattened);
// weights in get_weights() order with the file's names; a shared layer's
// later calls are "<name>#<k>" with attribute shares_weights_with; the
// InputLayer of a Sequential carries attribute implicit = 1.
#pragma once

#include <string>

#include "core/formats/registry.h"

namespace convscope::keras {

// A ZIP archive whose central directory names config.json. Never throws.
bool looks_like_keras_v3(ByteSpan bytes);

// Any Keras HDF5 file: full model ("keras-h5") or weights only
// ("keras-weights-h5"). Throws FormatError naming the HDF5 path or JSON path.
Model open_h5(const FileBytes& bytes, const std::string& file_name);

// A Keras 3 .keras archive ("keras-v3").
Model open_v3(const FileBytes& bytes, const std::string& file_name);

// The architecture alone from a model config JSON text (no weights).
Model model_from_config(const std::string& json_text, const std::string& where = "model config");

// An architecture JSON (model.to_json(), also saved double-encoded as a
// JSON string) with a weights file of any version (Keras 1/2 save_weights
// .h5, a full .h5, Keras 3 / tf.keras 2.13 .weights.h5) ("keras-json+h5").
Model open_config_with_weights(const std::string& json_text, const std::string& json_name, const FileBytes& weights,
                               const std::string& weights_name);

// keras.src.utils.naming.to_snake_case ("MaxPooling2D" -> "max_pooling2d").
std::string snake_case(const std::string& class_name);

}  // namespace convscope::keras
