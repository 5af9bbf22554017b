// [SECTION] Debug windows of the WebGL2 heatmap renderer, for the page's test hook
// [SECTION] - the stress grid (n maps of 28 x 28) and the test card (known maps at a known place)
// [SECTION] - the functions the hook calls (window.convscope.debugHeatmap*, heatmapStats)
//
// They draw through ui::heatmap_renderer() like any panel, so what they
// measure is the renderer as the app uses it. Emscripten only.
#ifdef __EMSCRIPTEN__

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <emscripten.h>
#include <imgui.h>

#include "platform/webgl_heatmap.h"
#include "ui/heatmap.h"
#include "ui/style.h"

namespace convscope::platform {
namespace {

int stress_map_count = 0;
bool test_card_shown = false;

// Where the test card drew its maps this frame, in framebuffer pixels.
struct TestCardCell {
    const char* name;
    ImVec2 min;
    ImVec2 max;
};
std::vector<TestCardCell> test_card_cells;

// n maps of 28 x 28 in a grid, each uploaded once; half diverging, half
// viridis, each scaled to its own range. Like a panel, the window keeps its
// maps and their ranges and hands them over every frame.
struct StressMap {
    std::vector<float> values;
    ui::ValueRange range;
};
std::vector<StressMap> stress_maps;
double stress_build_ms = 0.0;  // CPU time to lay out the window and queue its maps, last frame

void draw_stress_window() {
    const double start = emscripten_get_now();
    while (int(stress_maps.size()) < stress_map_count) {
        const int i = int(stress_maps.size());
        StressMap map;
        map.values.resize(28 * 28);
        for (int y = 0; y < 28; ++y) {
            for (int x = 0; x < 28; ++x) {
                map.values[size_t(y) * 28 + x] = std::sin(0.3f * x + 0.11f * i) * std::cos(0.25f * y - 0.07f * i);
            }
        }
        map.range = ui::value_range(map.values.data(), map.values.size());
        stress_maps.push_back(std::move(map));
    }
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(ImVec2(viewport->Pos.x + viewport->Size.x * 0.05f, viewport->Pos.y + viewport->Size.y * 0.05f));
    ImGui::SetNextWindowSize(ImVec2(viewport->Size.x * 0.9f, viewport->Size.y * 0.9f));
    ImGui::Begin("Heatmap stress", nullptr, ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoCollapse);
    ImGui::Text("%d maps of 28 x 28; %.2f ms to queue", stress_map_count, stress_build_ms);
    // 28 px cells at DPR 1 (the maps' own size), scaled with the font.
    const float cell = std::round(28.0f * ImGui::GetFontSize() / ui::base_font_size);
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(2.0f, 2.0f));
    const int columns = std::max(1, int((ImGui::GetContentRegionAvail().x + 2.0f) / (cell + 2.0f)));
    for (int i = 0; i < stress_map_count; ++i) {
        const StressMap& map = stress_maps[size_t(i)];
        const ui::HeatmapTexture texture =
            ui::heatmap_renderer().upload("debug/stress/" + std::to_string(i), 1, map.values.data(), 28, 28);
        ui::HeatmapStyle style;
        style.color_map = i % 2 ? ui::ColorMap::viridis : ui::ColorMap::diverging;
        style = ui::with_range(style, map.range);
        if (i % columns != 0) ImGui::SameLine();
        ui::heatmap_renderer().draw(texture, ImVec2(cell, cell), style);
    }
    ImGui::PopStyleVar();
    ImGui::End();
    stress_build_ms = emscripten_get_now() - start;
}

// Known maps at a known place, for the pixel test: each map is a row of
// cells of one value each, drawn 48 px per cell.
void draw_test_card() {
    test_card_cells.clear();
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(ImVec2(viewport->Pos.x + 40.0f, viewport->Pos.y + 80.0f));
    ImGui::Begin("Heatmap test card", nullptr,
                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse);
    struct Card {
        const char* name;
        std::vector<float> values;
        ui::HeatmapStyle style;
    };
    const float nan = std::nanf("");
    const Card cards[] = {
        {"diverging", {-2.0f, -1.0f, 0.0f, 2.0f}, {ui::ColorMap::diverging, -1.0f, 2.0f, 1.0f}},
        {"viridis", {0.0f, 1.0f, 0.5f, 7.0f}, {ui::ColorMap::viridis, 0.0f, 1.0f, 1.0f}},
        {"grayscale", {0.0f, 1.0f, nan, -3.0f}, {ui::ColorMap::grayscale, 0.0f, 1.0f, 1.0f}},
    };
    const float cell = 48.0f;
    for (const Card& card : cards) {
        const int width = int(card.values.size());
        const ui::HeatmapTexture texture =
            ui::heatmap_renderer().upload(std::string("debug/test-card/") + card.name, 1, card.values.data(), width, 1);
        const ImVec2 at = ImGui::GetCursorScreenPos();
        ui::heatmap_renderer().draw(texture, ImVec2(cell * width, cell), card.style);
        test_card_cells.push_back({card.name, at, ImVec2(at.x + cell * width, at.y + cell)});
    }
    const ImVec2 at = ImGui::GetCursorScreenPos();
    ui::heatmap_renderer().draw_color_bar({ui::ColorMap::diverging, -1.0f, 2.0f, 1.0f}, ImVec2(cell * 4, cell * 0.5f));
    test_card_cells.push_back({"color_bar", at, ImVec2(at.x + cell * 4, at.y + cell * 0.5f)});
    ImGui::End();
}

}  // namespace

void draw_heatmap_debug_windows() {
    if (stress_map_count > 0) draw_stress_window();
    if (test_card_shown) draw_test_card();
}

}  // namespace convscope::platform

// ---- exported for the test hook ------------------------------------------------

extern "C" {

EMSCRIPTEN_KEEPALIVE void convscope_debug_heatmap_stress(int count) {
    convscope::platform::stress_map_count = std::clamp(count, 0, 10000);
}

// Bytes of float textures the renderer may hold; 0 restores the default.
EMSCRIPTEN_KEEPALIVE void convscope_debug_heatmap_cap(double bytes) {
    convscope::platform::set_heatmap_texture_byte_cap(bytes > 0 ? size_t(bytes) : 0);
}

EMSCRIPTEN_KEEPALIVE void convscope_debug_heatmap_test_card(int shown) {
    convscope::platform::test_card_shown = shown != 0;
    if (!shown) convscope::platform::test_card_cells.clear();
}

// JSON: the renderer's counters and, while the test card is shown, where
// its maps are (framebuffer pixels). Valid until the next call.
EMSCRIPTEN_KEEPALIVE const char* convscope_heatmap_stats_json() {
    using namespace convscope::platform;
    static std::string json;
    const HeatmapRendererStats stats = heatmap_renderer_stats();
    char buffer[512];
    std::snprintf(buffer, sizeof buffer,
                  "{\"textures\":%zu,\"texture_bytes\":%zu,\"texture_byte_cap\":%zu,\"uploads\":%llu,"
                  "\"evictions\":%llu,\"refused_uploads\":%llu,\"draws_last_frame\":%zu,"
                  "\"program_switches_last_frame\":%zu,\"render_ms_last_frame\":%.3f,\"stress_maps\":%d,"
                  "\"stress_build_ms\":%.3f,\"test_card\":[",
                  stats.textures, stats.texture_bytes, stats.texture_byte_cap,
                  static_cast<unsigned long long>(stats.uploads), static_cast<unsigned long long>(stats.evictions),
                  static_cast<unsigned long long>(stats.refused_uploads), stats.draws_last_frame,
                  stats.program_switches_last_frame, stats.render_ms_last_frame, stress_map_count, stress_build_ms);
    json = buffer;
    bool first = true;
    for (const TestCardCell& cell : test_card_cells) {
        std::snprintf(buffer, sizeof buffer, "%s{\"name\":\"%s\",\"x\":%.1f,\"y\":%.1f,\"width\":%.1f,\"height\":%.1f}",
                      first ? "" : ",", cell.name, cell.min.x, cell.min.y, cell.max.x - cell.min.x,
                      cell.max.y - cell.min.y);
        json += buffer;
        first = false;
    }
    json += "]}";
    return json.c_str();
}

}  // extern "C"

#endif  // __EMSCRIPTEN__
