// Several files that together make one model (a drop of files, a folder,
// or a .zip of them), resolved into one Model.
//
// Resolution, in this order (names compared by their last path component,
// case-insensitively for extensions):
//  1. a single .zip that is not a Keras 3 .keras (no config.json) is
//     replaced by its members (Teachable Machine's converted_keras.zip:
//     keras_model.h5 + labels.txt); member names with ".." or a leading
//     "/" are refused, so no path leaves the set
//  2. a TensorFlow.js model.json (modelTopology + weightsManifest) with the
//     shards its manifest names, looked up in the set by name
//  3. an architecture JSON (model.to_json(), or that text as a JSON
//     string) with one weights .h5
//  4. otherwise exactly one model file, opened by the registry
//  5. labels.txt (one class name a line) becomes metadata class_names
//     (newline-joined) whichever way the model was found
// The pairing is recorded in metadata "bundle" ("architecture from
// model.json, weights from weights.h5"); a missing partner is named.
#pragma once

#include <string>
#include <vector>

#include "core/formats/registry.h"

namespace convscope {

struct NamedFile {
    std::string name;   // as given: a path, or a member name inside a zip
    FileBytes bytes;
};

Model open_model_bundle(const std::vector<NamedFile>& files);

// Native: each path a file or a folder (its files, not recursing); one
// path that is a file opens as open_model_in_place does.
Model open_model_files(const std::vector<std::string>& paths);

}  // namespace convscope
