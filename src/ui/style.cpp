#include "ui/style.h"

#include <cmath>

#include <imgui.h>

namespace convscope::ui {

namespace {
Theme chosen_theme = Theme::dark;
Theme applied_theme = Theme::dark;
float current_scale = 1.0f;
}  // namespace

void apply_style(float scale) {
    current_scale = scale;
    applied_theme = chosen_theme;
    ImGuiStyle style;
    if (applied_theme == Theme::light) {
        ImGui::StyleColorsLight(&style);
        style.Colors[ImGuiCol_WindowBg] = ImVec4(0.96f, 0.96f, 0.97f, 1.0f);
        style.Colors[ImGuiCol_ChildBg] = ImVec4(1.0f, 1.0f, 1.0f, 1.0f);
        style.Colors[ImGuiCol_MenuBarBg] = ImVec4(0.88f, 0.89f, 0.91f, 1.0f);
        // ImGui's light borders are faint on white; panels need edges.
        style.Colors[ImGuiCol_Border] = ImVec4(0.0f, 0.0f, 0.0f, 0.22f);
    } else {
        ImGui::StyleColorsDark(&style);
        style.Colors[ImGuiCol_WindowBg] = ImVec4(0.11f, 0.12f, 0.14f, 1.0f);
        style.Colors[ImGuiCol_ChildBg] = ImVec4(0.13f, 0.14f, 0.17f, 1.0f);
        style.Colors[ImGuiCol_MenuBarBg] = ImVec4(0.17f, 0.19f, 0.23f, 1.0f);
    }
    style.WindowRounding = 0.0f;
    style.ChildRounding = 2.0f;
    style.FrameRounding = 3.0f;
    style.TabRounding = 3.0f;
    style.ScrollbarRounding = 3.0f;
    style.WindowBorderSize = 0.0f;
    style.FramePadding = ImVec2(6.0f, 4.0f);
    style.ItemSpacing = ImVec2(8.0f, 5.0f);
    style.ScaleAllSizes(scale);
    ImGui::GetStyle() = style;
}

void set_theme(Theme theme) { chosen_theme = theme; }

Theme theme() { return chosen_theme; }

void apply_theme_change() {
    if (chosen_theme != applied_theme && ImGui::GetCurrentContext()) apply_style(current_scale);
}

void rebuild_fonts(const uint8_t* ttf, size_t ttf_size, float scale) {
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    // Rounded to whole pixels: stb_truetype renders fractional sizes blurry.
    const float pixels = std::round(base_font_size * scale);
    if (ttf && ttf_size > 0) {
        ImFontConfig config;
        config.FontDataOwnedByAtlas = false;
        config.OversampleH = 2;
        config.OversampleV = 1;
        io.Fonts->AddFontFromMemoryTTF(const_cast<uint8_t*>(ttf), static_cast<int>(ttf_size), pixels, &config,
                                       io.Fonts->GetGlyphRangesDefault());
    } else {
        ImFontConfig config;
        config.SizePixels = std::round(13.0f * scale);
        io.Fonts->AddFontDefault(&config);
    }
    io.Fonts->Build();
}

}  // namespace convscope::ui
