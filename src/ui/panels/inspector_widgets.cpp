#include "ui/panels/inspector_widgets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/formats/npy.h"
#include "core/inspect/image_export.h"

namespace convscope::ui {

HeatmapStyle style_for(ColorMap map, const float* values, size_t count) {
    float low = 0.0f, high = 0.0f;
    ExportColorMap export_map = map == ColorMap::diverging ? ExportColorMap::diverging
                                : map == ColorMap::viridis ? ExportColorMap::viridis
                                                           : ExportColorMap::grayscale;
    color_range(values, count, export_map, &low, &high);
    HeatmapStyle style;
    style.color_map = map;
    style.low = low;
    style.high = high;
    return style;
}

bool draw_map(const std::string& key, uint64_t version, const float* values, int64_t width, int64_t height,
              float cell, const HeatmapStyle& style, const char* title) {
    if (width <= 0 || height <= 0 || !values) {
        ImGui::Dummy(ImVec2(cell, cell));
        return false;
    }
    HeatmapRenderer& renderer = heatmap_renderer();
    HeatmapTexture texture = renderer.upload(key, version, values, static_cast<int>(width), static_cast<int>(height));
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const ImVec2 size(cell * static_cast<float>(width), cell * static_cast<float>(height));
    renderer.draw(texture, size, style);
    const bool clicked = ImGui::IsItemClicked();
    if (title && ImGui::IsItemHovered()) {
        const ImVec2 mouse = ImGui::GetIO().MousePos;
        const int64_t x = std::clamp<int64_t>(static_cast<int64_t>((mouse.x - origin.x) / cell), 0, width - 1);
        const int64_t y = std::clamp<int64_t>(static_cast<int64_t>((mouse.y - origin.y) / cell), 0, height - 1);
        ImGui::SetTooltip("%s\n(y %lld, x %lld) = %.6g", title, static_cast<long long>(y),
                          static_cast<long long>(x), values[y * width + x]);
    }
    return clicked;
}

void draw_numbers(const float* values, int64_t width, int64_t height) {
    if (width <= 0 || height <= 0 || width > 16 || height > 16) return;
    if (!ImGui::BeginTable("numbers", static_cast<int>(width), ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit)) return;
    for (int64_t y = 0; y < height; ++y) {
        ImGui::TableNextRow();
        for (int64_t x = 0; x < width; ++x) {
            ImGui::TableSetColumnIndex(static_cast<int>(x));
            const float v = values[y * width + x];
            ImGui::TextColored(v < 0 ? ImVec4(0.55f, 0.7f, 1.0f, 1.0f) : ImVec4(1.0f, 0.6f, 0.55f, 1.0f), "%+.4f", v);
        }
    }
    ImGui::EndTable();
}

void tooltip(const char* text) {
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", text);
}

std::string file_safe(const std::string& name) {
    std::string out;
    for (char c : name) {
        const bool safe = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        out += safe ? c : '_';
    }
    while (!out.empty() && out.front() == '_') out.erase(out.begin());
    return out.empty() ? "array" : out;
}

void save_npy_button(AppState& app, const char* label, const std::string& file_name, const Tensor& tensor) {
    if (ImGui::SmallButton(label)) {
        app.request_download({file_name, "application/octet-stream", npy::write(tensor)});
    }
    tooltip("Save this array as a NumPy .npy file (numpy.load returns it exactly)");
}

void save_png_button(AppState& app, const char* label, const std::string& file_name, const float* values, int64_t width,
                     int64_t height, ColorMap map) {
    if (ImGui::SmallButton(label)) {
        const ExportColorMap export_map = map == ColorMap::diverging ? ExportColorMap::diverging
                                          : map == ColorMap::viridis ? ExportColorMap::viridis
                                                                     : ExportColorMap::grayscale;
        // Small maps are magnified so a 3x3 kernel is not three pixels wide.
        const int magnify = static_cast<int>(std::clamp<int64_t>(256 / std::max<int64_t>(1, std::max(width, height)), 1, 32));
        app.request_download({file_name, "image/png",
                              heatmap_png(values, static_cast<int>(width), static_cast<int>(height), export_map, magnify)});
    }
    tooltip("Save this picture as a .png, coloured as shown");
}

void handle_inspector_keys(AppState& app) {
    const ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput || ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) return;
    Inspection& inspection = app.inspection();
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) inspection.step_layer(-1, false);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) inspection.step_layer(+1, false);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) inspection.step_kernel(-1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) inspection.step_kernel(+1);
}

}  // namespace convscope::ui
