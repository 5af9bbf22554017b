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

}  // namespace convscope::keras
