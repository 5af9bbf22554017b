// The colour maps of every heatmap, defined once: the app's GPU renderer
// uploads color_map_table() as its lookup texture, and .png export
// (image_export.h) colours with color_at(), so an exported picture is
// coloured as shown.
//
// Each map is a list of evenly spaced control colours (sRGB), interpolated
// linearly. color_at() evaluates that function; the 256-entry table samples
// it at t = i / 255, so color_at(map, i / 255.0f) == color_map_table(map)[i]
// exactly, and between entries the two differ by at most one 1/255 step
// (the renderer blends neighbouring entries linearly).
#pragma once

#include <array>
#include <cstdint>

namespace convscope {

// The order is the lookup texture's row order and the UI's ui::ColorMap order.
enum class ExportColorMap : uint8_t {
    diverging,  // blue - white - red, symmetric around zero (ColorBrewer RdBu)
    viridis,    // dark blue - green - yellow
    grayscale,
};

constexpr int color_map_entries = 256;
constexpr int color_map_count = 3;

struct Rgba8 {
    uint8_t r = 0, g = 0, b = 0, a = 255;
};

using ColorMapTable = std::array<Rgba8, color_map_entries>;

// The table for `map`: entry 0 is the low end, entry 255 the high end.
const ColorMapTable& color_map_table(ExportColorMap map);

// One colour of `map` at t in [0, 1] (clamped; non-finite gives the low end),
// as 0..255 RGB.
void color_at(ExportColorMap map, float t, uint8_t rgb[3]);

// Where the app shows a NaN: a colour none of the maps produce.
constexpr Rgba8 nan_color{255, 0, 255, 255};

}  // namespace convscope
