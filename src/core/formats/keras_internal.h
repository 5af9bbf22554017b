// Shared between the Keras readers (keras_config.cpp, keras_h5.cpp,
// keras_v3.cpp); not part of the public API, which is keras.h.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/model.h"

namespace convscope::keras {

using Json = nlohmann::ordered_json;

// Parses JSON text from a file, refusing nesting deeper than
// limits::max_nesting_depth; errors name `where` ("model_config attribute").
Json parse_json_text(const std::string& text, const std::string& where);

// One entry of Keras's model.layers for the top-level model, in order.
struct ContainerLayer {
    std::string name;
    std::string class_name;
    Json config;                 // the entry's "config"
    bool is_model = false;       // a nested Sequential / Functional
};

struct Architecture {
    Model model;                 // layers and shapes, no weights yet
    std::vector<ContainerLayer> container_layers;
};

// The model described by a Keras model config (the model_config attribute
// of an .h5 or config.json of a .keras). `where` prefixes JSON paths in
// errors. `depth` bounds recursion into nested models.
Architecture parse_architecture(const Json& root, const std::string& where, int depth = 0);

// Keras's weight-name suffixes for a layer's variables in get_weights()
// order, when the class is known ("kernel", "bias"); empty when not.
std::vector<std::string> variable_names(const std::string& class_name, const Json& config);

// Layer name -> index of its first Layer (Model::layer_index is a linear
// scan; attaching weights to 100000 layers with it would be quadratic).
std::unordered_map<std::string, size_t> layer_indices(const Model& model);

// Splits "2.3.0-tf" into producer "tf.keras" and version "2.3.0".
void set_producer(Model& model, const std::string& keras_version);

}  // namespace convscope::keras
