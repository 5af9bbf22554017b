#include "ui/color_maps.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace convscope::ui {
namespace {

// Evenly spaced control points, as 0xRRGGBB.
//
// viridis: the ten evenly spaced samples that matplotlib's and R's viridis
// documentation publish (t = 0, 1/9, ..., 1). Linear interpolation between
// them stays within a few 1/255 steps of the full map.
constexpr uint32_t viridis_points[] = {0x440154, 0x482878, 0x3e4a89, 0x31688e, 0x26828e,
                                       0x1f9e89, 0x35b779, 0x6dcd59, 0xb4de2c, 0xfde725};

// Diverging: ColorBrewer's RdBu ramp run from blue (negative) to red
// (positive), with the centre made pure white so zero reads as "nothing".
constexpr uint32_t diverging_points[] = {0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xffffff,
                                         0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f};

constexpr uint32_t grayscale_points[] = {0x000000, 0xffffff};

template <size_t count>
ColorMapTable interpolate(const uint32_t (&points)[count]) {
    static_assert(count >= 2, "a colour map needs two ends");
    ColorMapTable table{};
    for (int i = 0; i < color_map_entries; ++i) {
        const double position = static_cast<double>(i) / (color_map_entries - 1) * (count - 1);
        const size_t left = std::min(static_cast<size_t>(position), count - 2);
        const double fraction = position - static_cast<double>(left);
        auto channel = [&](int shift) {
            const double a = (points[left] >> shift) & 0xff;
            const double b = (points[left + 1] >> shift) & 0xff;
            return static_cast<uint8_t>(std::lround(a + (b - a) * fraction));
        };
        table[i] = Rgba8{channel(16), channel(8), channel(0), 255};
    }
    return table;
}

}  // namespace

const ColorMapTable& color_map_table(ColorMap map) {
    static const ColorMapTable diverging = interpolate(diverging_points);
    static const ColorMapTable viridis = interpolate(viridis_points);
    static const ColorMapTable grayscale = interpolate(grayscale_points);
    switch (map) {
    case ColorMap::diverging: return diverging;
    case ColorMap::grayscale: return grayscale;
    case ColorMap::viridis: break;
    }
    return viridis;
}

Rgba8 color_map_lookup(ColorMap map, float t) {
    if (std::isnan(t)) return nan_color;
    const float clamped = std::clamp(t, 0.0f, 1.0f);
    return color_map_table(map)[static_cast<size_t>(std::lround(clamped * (color_map_entries - 1)))];
}

}  // namespace convscope::ui
