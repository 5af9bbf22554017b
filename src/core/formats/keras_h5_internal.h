// HDF5 helpers shared by keras_h5.cpp and keras_v3.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/formats/hdf5.h"
#include "core/model/model.h"

namespace convscope::keras {

std::optional<std::string> string_attribute(const hdf5::Object& object, const std::string& name);
bool has_string_list(const hdf5::Object& object, const std::string& name);
// Joins name0, name1, ... when Keras split a long list.
std::vector<std::string> string_list_attribute(const hdf5::Object& object, const std::string& name);

// A Keras 3 object's variables (group/vars/<i>, then sub-objects, depth
// first). Weights are named "<prefix>/<names[i]>" when `names` has one name
// per variable, else "<prefix>/vars/<i>".
std::vector<Weight> read_keras3_variables(const hdf5::Object& group, const std::string& weight_prefix,
                                          const std::vector<std::string>& names, int depth);

struct ContainerLayer;

// Keras 2 weight groups (layer_names, weight_names) onto the layers of the
// architecture, by name; nested models' groups onto their flattened layers.
void attach_h5_weights(Model& model, const hdf5::Object& weights_group);

// A Keras 3 / tf.keras 2.13+ weights store onto the architecture whose
// top-level layer list is `container`.
void attach_keras3_weights(Model& model, const std::vector<ContainerLayer>& container, const hdf5::Object& root);

// Every variables group of a Keras 3 / tf.keras 2.13+ weights store as one
// Layer named by its path without the layers/ and
// _layer_checkpoint_dependencies segments ("encoder/conv2d"), attribute
// nested_group = its parent path; the type is the class its key names
// ("conv2d_1" -> Conv2D, weights "kernel", "bias"), else empty. For files
// without an architecture (subclassed models). Optimizer state is skipped.
std::vector<Layer> weight_layers_by_path(const hdf5::Object& root, const std::string& reason);

}  // namespace convscope::keras
