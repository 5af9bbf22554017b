#include "core/inspect/color_map.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace convscope {

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

struct Points {
    const uint32_t* colours;
    size_t count;
};

Points points_of(ExportColorMap map) {
    switch (map) {
    case ExportColorMap::diverging: return {diverging_points, std::size(diverging_points)};
    case ExportColorMap::grayscale: return {grayscale_points, std::size(grayscale_points)};
    case ExportColorMap::viridis: break;
    }
    return {viridis_points, std::size(viridis_points)};
}

// The map's piecewise-linear function at t in [0, 1]. Computed in double
// from t's position so the table (t = i / 255) and color_at agree exactly.
Rgba8 evaluate(const Points& points, double t) {
    const double position = t * static_cast<double>(points.count - 1);
    const size_t left = std::min(static_cast<size_t>(position), points.count - 2);
    const double fraction = position - static_cast<double>(left);
    auto channel = [&](int shift) {
        const double a = (points.colours[left] >> shift) & 0xff;
        const double b = (points.colours[left + 1] >> shift) & 0xff;
        return static_cast<uint8_t>(std::lround(a + (b - a) * fraction));
    };
    return Rgba8{channel(16), channel(8), channel(0), 255};
}

ColorMapTable make_table(ExportColorMap map) {
    const Points points = points_of(map);
    ColorMapTable table{};
    for (int i = 0; i < color_map_entries; ++i) {
        table[i] = evaluate(points, static_cast<double>(i) / (color_map_entries - 1));
    }
    return table;
}

}  // namespace

const ColorMapTable& color_map_table(ExportColorMap map) {
    static const ColorMapTable diverging = make_table(ExportColorMap::diverging);
    static const ColorMapTable viridis = make_table(ExportColorMap::viridis);
    static const ColorMapTable grayscale = make_table(ExportColorMap::grayscale);
    switch (map) {
    case ExportColorMap::diverging: return diverging;
    case ExportColorMap::grayscale: return grayscale;
    case ExportColorMap::viridis: break;
    }
    return viridis;
}

void color_at(ExportColorMap map, float t, uint8_t rgb[3]) {
    t = std::isfinite(t) ? std::clamp(t, 0.0f, 1.0f) : 0.0f;
    // A t that is an entry's position (i / 255 in float) gives that entry
    // exactly: snap it to the double the table was built from.
    double position = static_cast<double>(t) * (color_map_entries - 1);
    const double nearest = std::round(position);
    if (static_cast<float>(nearest / (color_map_entries - 1)) == t) position = nearest;
    const Rgba8 colour = evaluate(points_of(map), position / (color_map_entries - 1));
    rgb[0] = colour.r;
    rgb[1] = colour.g;
    rgb[2] = colour.b;
}

}  // namespace convscope
