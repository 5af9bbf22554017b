// Limits the core enforces before it allocates or loops on what a file says.
//
// They are deliberately generous for real CNNs and small enough that a
// hostile file cannot make the browser tab run out of memory. The UI shows
// them (Help > Limits) and the CLI's --help prints them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convscope::limits {

// Largest model file accepted by the app and the CLI.
constexpr uint64_t max_file_bytes = 512ull * 1024 * 1024;
// Largest single tensor (weights or activation) in elements.
constexpr uint64_t max_tensor_elements = 256ull * 1024 * 1024;
// Largest total bytes a reader may decompress from one file.
constexpr uint64_t max_decompressed_bytes = 1024ull * 1024 * 1024;
// Largest tensor rank.
constexpr int max_rank = 8;
// Nesting depth for JSON configs and HDF5 groups.
constexpr int max_nesting_depth = 64;
// Number of layers / nodes in one model.
constexpr uint64_t max_layers = 100000;

}  // namespace convscope::limits
