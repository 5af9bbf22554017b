#include "ui/heatmap.h"

#include <cmath>
#include <cstdio>

namespace convscope::ui {
namespace {

// Draws placeholders so panels work before (or without) a GPU renderer.
class NullHeatmapRenderer : public HeatmapRenderer {
public:
    HeatmapTexture upload(const std::string&, uint64_t, const float*, int width, int height) override {
        return HeatmapTexture{1, width, height};
    }
    void draw(const HeatmapTexture&, ImVec2 size, const HeatmapStyle&) override {
        ImVec2 at = ImGui::GetCursorScreenPos();
        ImGui::GetWindowDrawList()->AddRectFilled(at, ImVec2(at.x + size.x, at.y + size.y), IM_COL32(90, 90, 90, 255));
        ImGui::Dummy(size);
    }
    void draw_color_bar(const HeatmapStyle& style, ImVec2 size) override {
        ImGui::Dummy(size);
        ImGui::Text("%.3g .. %.3g", style.low, style.high);
    }
    void end_frame() override {}
};

NullHeatmapRenderer null_renderer;
HeatmapRenderer* current_renderer = &null_renderer;

}  // namespace

HeatmapStyle with_range(HeatmapStyle style, const ValueRange& range) {
    style.low = range.empty ? 0.0f : range.low;
    style.high = range.empty ? 1.0f : range.high;
    return style;
}

HeatmapRenderer& heatmap_renderer() { return *current_renderer; }

void set_heatmap_renderer(HeatmapRenderer* renderer) { current_renderer = renderer ? renderer : &null_renderer; }

}  // namespace convscope::ui
