// The ConvScope window: menu bar, a workspace of panels laid out in a fixed
// grid with draggable splitters (ImGui 1.86 has no docking), and a status
// line. Drawn once per frame between ImGui::NewFrame() and ImGui::Render().
//
// ImGui only: the platform layer owns the window, GL and the browser.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <imgui.h>

#include "ui/app_state.h"
#include "ui/panels/panel.h"

namespace convscope::ui {

class App {
public:
    App();

    AppState& state() { return state_; }
    const AppState& state() const { return state_; }

    void draw_frame();

    // The title of the panel shown in the main area (for the URL state).
    const std::string& main_panel() const { return main_panel_; }

private:
    void draw_menu_bar();
    void draw_workspace(float top, float bottom);
    void draw_slot(PanelSlot slot, const char* id, float width, float height, ImVec2 item_spacing);
    void draw_status_line(float height);
    void draw_about_window();
    void draw_limits_window();

    AppState state_;
    std::vector<std::unique_ptr<Panel>> panels_;
    // Splitter positions as fractions so they survive window resizes.
    float side_width_fraction_ = 0.32f;
    float side_top_fraction_ = 0.6f;
    std::string main_panel_;
    bool show_about_ = false;
    bool show_limits_ = false;
};

}  // namespace convscope::ui
