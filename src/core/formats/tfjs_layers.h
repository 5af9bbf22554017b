// TensorFlow.js layers models (model.json + group1-shard*.bin) into the
// format-neutral Model. The architecture is a Keras config, read by the
// Keras reader; the weights are raw little-endian arrays in binary shards.
//
// On-disk layout (tfjs-layers io, tfjs-converter keras_h5_conversion):
//  1. model.json: {"format": "layers-model", "generatedBy", "convertedBy",
//     "modelTopology": T, "weightsManifest": [G, ...]}
//  2. T is either the Keras model config itself ({"class_name", "config",
//     "keras_version", "backend"}; tfjs model.save) or wraps it as
//     {"model_config": {...}, "training_config", "keras_version"}
//     (tensorflowjs_converter from a Keras .h5, Teachable Machine)
//  3. G = {"paths": ["group1-shard1of2.bin", ...], "weights": [W, ...]}: the
//     group's shards concatenated hold its weights back to back, in order
//  4. W = {"name": "conv2d/kernel", "shape": [3, 3, 1, 8], "dtype":
//     "float32" | "int32" | "bool", "quantization"?: {"dtype": "uint8" |
//     "uint16", "scale", "min"} (value = min + scale * q) or {"dtype":
//     "float16"}}; the name is "<layer path>/<variable>"
//  5. Shard paths are relative to model.json; only names in the given set
//     are read (a path never leaves it)
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/formats/registry.h"

namespace convscope::tfjs {

// model.json text that names modelTopology and weightsManifest.
bool looks_like_layers_model(const std::string& json_text);

// The same check on a file's bytes (the registry's magic check).
bool looks_like_layers_model_bytes(ByteSpan bytes);

// model.json alone (the registry's entry): the architecture, no weights,
// and a warning naming the shards that were not given.
Model open_model_json(const FileBytes& bytes, const std::string& file_name);

// Finds a shard by its manifest path; nullopt when it was not given.
using ShardLookup = std::function<std::optional<FileBytes>(const std::string& path)>;

// Throws FormatError naming the JSON path or shard ("model.json names
// group1-shard2of2.bin, which was not given").
// weights_wanted = false: the architecture only (shards are still looked
// up, so the caller learns their names).
Model open_layers_model(const std::string& json_text, const std::string& file_name, const ShardLookup& shards,
                        bool weights_wanted = true);

}  // namespace convscope::tfjs
