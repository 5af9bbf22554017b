// The UI's colour maps are core's (core/inspect/color_map.h): one set of
// palettes for the GPU renderer's lookup texture and for .png export. This
// header maps the UI's ColorMap onto them.
//
// ImGui-free and GL-free.
#pragma once

#include "core/inspect/color_map.h"
#include "ui/heatmap.h"

namespace convscope::ui {

using convscope::color_map_count;
using convscope::color_map_entries;
using convscope::ColorMapTable;
using convscope::nan_color;
using convscope::Rgba8;

// The core map with the same palette as `map` (the enums share one order).
ExportColorMap export_color_map(ColorMap map);

// The table for `map`: entry 0 is the low end, entry 255 the high end.
const ColorMapTable& color_map_table(ColorMap map);

}  // namespace convscope::ui
