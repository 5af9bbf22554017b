// Shared between the Keras readers (keras_config.cpp, keras_h5.cpp,
// keras_v3.cpp); not part of the public API, which is keras.h.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/formats/json_text.h"
#include "core/model/model.h"

namespace convscope::keras {

using Json = nlohmann::ordered_json;

// Parses JSON text from a file, refusing nesting deeper than
// limits::max_nesting_depth; errors name `where` ("model_config attribute").
using convscope::parse_json_text;  // core/formats/json_text.h

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
    // Layers the model would have with every nested model flattened
    // (saturating): decides whether an enclosing model may flatten it.
    uint64_t expanded_layers = 0;
};

// [keras_nested.cpp] Nested models flattened into the enclosing model.

// The attribute naming the nested model path a flattened layer came from
// ("sequential_1/model1" for layer "sequential_1/model1/Conv1"); the UI
// groups layers by it. (An attribute, not a Layer field, while model.h is
// being reworked elsewhere.)
inline const char* const nested_group_attribute = "nested_group";
std::string nested_group_of(const Layer& layer);

// Flattening stops (the nested model stays one opaque layer) once a model
// would hold more layers than this.
constexpr uint64_t max_flattened_layers = 20000;

// A nested model's architecture, parsed once per config entry (see
// parse_nested).
struct NestedParse {
    bool parsed = false;     // false: the inner config could not be read
    Model model;             // flattened itself
    uint64_t expanded_layers = 1;
};
using NestedCache = std::map<const Json*, NestedParse>;

const NestedParse& parse_nested(const Json& entry, const std::string& where, int depth, NestedCache& cache);
uint64_t saturating_add(uint64_t a, uint64_t b);
uint64_t saturating_mul(uint64_t a, uint64_t b);
// Whether `calls` copies of a nested model fit the flattening budget
// (adds them to budget_used when they do).
bool can_flatten(const NestedParse& nested, uint64_t calls, size_t input_count, uint64_t& budget_used);
// The opaque fallback: one Layer holding all the nested model's weights.
void describe_nested_model(Layer& layer, const NestedParse& nested, const std::vector<Shape>& input_shapes);
// The batch dimension of a flattened model's outputs follows its input.
Shape with_batch_of(Shape shape, const Shape& input);

struct SplicedModel {
    std::vector<std::string> output_values;  // the outer names of the inner model's outputs
    std::vector<Shape> output_shapes;
};

// Appends `inner`'s layers to `outer`, each renamed "<prefix>/<name>" with
// group "<prefix>[/<inner group>]"; the inner model's inputs are replaced by
// `input_values` (its InputLayers dropped). When `owner_prefix` is not
// empty (a later call of a shared nested model), every copied layer shares
// the weights of "<owner_prefix>/<name>".
SplicedModel splice_nested_model(Model& outer, const Model& inner, const std::string& prefix,
                                 const std::vector<std::string>& input_values, const std::string& owner_prefix);

// Keras 2 .h5 groups of a flattened nested model: model_weights/<outer>/
// holds all its inner layers' weights, named "<inner layer>/<var>:0"
// (Teachable Machine, tf.keras 2.x) or with more of the path
// ("model1/Conv1/kernel:0"). Attaches each to the flattened layer under
// `root` whose path ends in the weight's layer path; returns the weights
// no layer took.
std::vector<Weight> attach_nested_weights(Model& model, const std::string& root, std::vector<Weight> weights);

// Weights named "<layer path>/<variable>" (TensorFlow.js manifests): each
// to the layer of that path, else to the layer whose own name ends the path
// (inner names without their nested model's prefix); returns the rest.
std::vector<Weight> attach_weights_by_path(Model& model, std::vector<Weight> weights);

// True when some layer was flattened out of the nested model `root`.
bool has_flattened_group(const Model& model, const std::string& root);

// The entries of a nested model's config as Keras 3 lists its model.layers
// (a Sequential's without its InputLayer), for the weight-group keys.
std::vector<ContainerLayer> nested_container(const ContainerLayer& entry);

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
