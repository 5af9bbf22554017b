// Colour maps for heatmaps, as 256-entry sRGB tables built at start-up from
// a few control points (piecewise-linear interpolation in sRGB), so no table
// is copied in from elsewhere. The GPU renderer uploads them as a lookup
// texture; anything drawing on the CPU (exports, tests) can use them too.
//
// ImGui-free and GL-free.
#pragma once

#include <array>
#include <cstdint>

#include "ui/heatmap.h"

namespace convscope::ui {

constexpr int color_map_entries = 256;
constexpr int color_map_count = 3;  // diverging, viridis, grayscale (the ColorMap order)

struct Rgba8 {
    uint8_t r = 0, g = 0, b = 0, a = 255;
};

using ColorMapTable = std::array<Rgba8, color_map_entries>;

// The table for `map`: entry 0 is the low end, entry 255 the high end.
const ColorMapTable& color_map_table(ColorMap map);

// The colour for t in [0, 1] (clamped; NaN gives the NaN colour below).
Rgba8 color_map_lookup(ColorMap map, float t);

// Shown where a map holds NaN: a colour none of the maps produce.
constexpr Rgba8 nan_color{255, 0, 255, 255};

}  // namespace convscope::ui
