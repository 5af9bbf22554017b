// One set of colour maps: .png export colours a value exactly as the
// renderer's lookup table (color_map_table, uploaded as a texture with linear
// filtering at t * 255) shows it.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/base/byte_reader.h"
#include "core/formats/image.h"
#include "core/inspect/color_map.h"
#include "core/inspect/image_export.h"
#include "core/tensor/tensor.h"

using namespace convscope;

namespace {

const ExportColorMap all_maps[] = {ExportColorMap::diverging, ExportColorMap::viridis, ExportColorMap::grayscale};

// What the GPU shows for t: the table's two neighbouring entries blended.
double renderer_channel(const ColorMapTable& table, double t, int channel) {
    const double position = t * (color_map_entries - 1);
    const int left = std::min(static_cast<int>(position), color_map_entries - 2);
    const double fraction = position - left;
    auto value = [&](const Rgba8& c) { return channel == 0 ? c.r : channel == 1 ? c.g : c.b; };
    return value(table[left]) + (value(table[left + 1]) - value(table[left])) * fraction;
}

}  // namespace

TEST_CASE("export colours equal the lookup table's at every entry", "[inspect][color_map]") {
    for (ExportColorMap map : all_maps) {
        const ColorMapTable& table = color_map_table(map);
        // Values 0..255 over the range [0, 255] land on the entries, t = i / 255.
        std::vector<float> values(color_map_entries);
        for (int i = 0; i < color_map_entries; ++i) values[i] = static_cast<float>(i);
        std::vector<uint8_t> rgb = colorize(values.data(), values.size(), map, 0.0f, 255.0f);
        for (int i = 0; i < color_map_entries; ++i) {
            INFO("map " << int(map) << " entry " << i);
            CHECK(rgb[i * 3 + 0] == table[i].r);
            CHECK(rgb[i * 3 + 1] == table[i].g);
            CHECK(rgb[i * 3 + 2] == table[i].b);
            CHECK(table[i].a == 255);
        }
    }
}

TEST_CASE("export colours between entries match the renderer's blend within one step", "[inspect][color_map]") {
    for (ExportColorMap map : all_maps) {
        const ColorMapTable& table = color_map_table(map);
        for (int k = 0; k <= 1000; ++k) {
            const float t = static_cast<float>(k) / 1000.0f;
            uint8_t rgb[3];
            color_at(map, t, rgb);
            for (int channel = 0; channel < 3; ++channel) {
                INFO("map " << int(map) << " t " << t << " channel " << channel);
                CHECK(std::fabs(rgb[channel] - renderer_channel(table, t, channel)) <= 1.0);
            }
        }
    }
}

TEST_CASE("the palettes are the UI's: RdBu with a white centre, viridis, grayscale", "[inspect][color_map]") {
    const ColorMapTable& diverging = color_map_table(ExportColorMap::diverging);
    CHECK((diverging[0].r == 0x05 && diverging[0].g == 0x30 && diverging[0].b == 0x61));
    CHECK((diverging[255].r == 0x67 && diverging[255].g == 0x00 && diverging[255].b == 0x1f));
    const ColorMapTable& viridis = color_map_table(ExportColorMap::viridis);
    CHECK((viridis[0].r == 0x44 && viridis[0].g == 0x01 && viridis[0].b == 0x54));
    CHECK((viridis[255].r == 0xfd && viridis[255].g == 0xe7 && viridis[255].b == 0x25));
    const ColorMapTable& grayscale = color_map_table(ExportColorMap::grayscale);
    for (int i = 0; i < color_map_entries; ++i) CHECK((grayscale[i].r == i && grayscale[i].g == i && grayscale[i].b == i));
    uint8_t rgb[3];
    color_at(ExportColorMap::diverging, 0.5f, rgb);  // zero is pure white
    CHECK((rgb[0] == 255 && rgb[1] == 255 && rgb[2] == 255));
}

TEST_CASE("an exported heatmap .png decodes to the lookup table's colours", "[inspect][color_map][export]") {
    // Symmetric diverging range [-2, 2]: -2, 0 and 2 are t = 0, 0.5 and 1.
    const float map[] = {-2.0f, 0.0f, 2.0f};
    std::vector<uint8_t> png = heatmap_png(map, 3, 1, ExportColorMap::diverging);
    Tensor colours = decode_image(ByteSpan(png.data(), png.size()), "heat.png");
    REQUIRE(colours.shape() == Shape{1, 3, 3});
    const ColorMapTable& table = color_map_table(ExportColorMap::diverging);
    CHECK(colours.f32()[0] == table[0].r);
    CHECK(colours.f32()[1] == table[0].g);
    CHECK(colours.f32()[2] == table[0].b);
    CHECK(colours.f32()[6] == table[255].r);
    CHECK(colours.f32()[7] == table[255].g);
    CHECK(colours.f32()[8] == table[255].b);
    CHECK((colours.f32()[3] == 255.0f && colours.f32()[4] == 255.0f && colours.f32()[5] == 255.0f));
}
