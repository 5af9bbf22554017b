#include "ui/color_maps.h"

namespace convscope::ui {

// The lookup texture's rows are indexed by ui::ColorMap's value.
static_assert(static_cast<int>(ColorMap::diverging) == static_cast<int>(ExportColorMap::diverging) &&
                  static_cast<int>(ColorMap::viridis) == static_cast<int>(ExportColorMap::viridis) &&
                  static_cast<int>(ColorMap::grayscale) == static_cast<int>(ExportColorMap::grayscale),
              "ui::ColorMap and ExportColorMap must list the maps in the same order");

ExportColorMap export_color_map(ColorMap map) { return static_cast<ExportColorMap>(map); }

const ColorMapTable& color_map_table(ColorMap map) { return convscope::color_map_table(export_color_map(map)); }

}  // namespace convscope::ui
