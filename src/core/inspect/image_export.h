// Pictures for export: float maps coloured with the UI's colour maps
// (color_map.h, the same tables the renderer uploads) and
// encoded as PNG (stb_image_write), so `convscope response --out x.png` and
// the app's "Save .png" produce the same picture.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/inspect/color_map.h"

namespace convscope {

// Value range for a map: [min, max] of the finite values, or symmetric
// [-m, m] with m = max |value| for the diverging map. A constant map gets a
// range of width 1 that puts it at the neutral colour: the middle (white)
// of the diverging map, the bottom of the others.
void color_range(const float* values, size_t count, ExportColorMap map, float* low, float* high);

// RGB bytes (3 per value) for a row-major map, each value placed in
// [low, high] then looked up in `map`. Non-finite values become black.
std::vector<uint8_t> colorize(const float* values, size_t count, ExportColorMap map, float low, float high);

// PNG file bytes for 8-bit pixels (channels 1..4). Each pixel is repeated
// `magnify` times in x and y (nearest neighbour) so a 3x3 kernel is not a
// 3-pixel image. Throws Error for bad sizes.
std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels, int magnify = 1);

// Convenience: colorize + encode with the map's own range.
std::vector<uint8_t> heatmap_png(const float* values, int width, int height, ExportColorMap map, int magnify = 1);

}  // namespace convscope
