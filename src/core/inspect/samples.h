// A set of sample images shipped as one sprite PNG plus a JSON description
// (assets/images/fashion_samples.{png,json}, written by
// scripts/train_demo.py): tile size, grid columns, tile count, the label of
// every tile and the class names. Tile t sits at column t % columns, row
// t / columns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/byte_reader.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct SampleSet {
    int64_t tile_width = 0;
    int64_t tile_height = 0;
    int64_t columns = 0;
    int64_t count = 0;
    std::vector<int> labels;               // one per tile
    std::vector<std::string> class_names;
    Tensor sprite;                         // [H, W, 1] float 0..255

    // Tile `index` as [tile_height, tile_width, 1], values 0..255. Throws
    // Error for an index out of range.
    Tensor tile(int64_t index) const;
    // "Ankle boot" or "class 9" when names are missing.
    std::string class_name(int label) const;
    // First tile with this label, -1 when none.
    int64_t first_of_class(int label) const;
};

// Parses the JSON (errors name the JSON key) and decodes the sprite,
// checking that the grid fits inside it. `name` is used in messages.
SampleSet load_sample_set(ByteSpan json, ByteSpan png, const std::string& name);

// Reads `json_path` and the PNG its "image" key names (beside the JSON).
SampleSet load_sample_set_file(const std::string& json_path);

}  // namespace convscope
