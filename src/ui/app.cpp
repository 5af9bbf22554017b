#include "ui/app.h"

#include <algorithm>

#include <imgui.h>

#include "core/base/limits.h"
#include "ui/style.h"
#include "ui/panels/inspector_widgets.h"

#ifndef CONVSCOPE_VERSION
#define CONVSCOPE_VERSION "dev"
#endif

namespace convscope::ui {

// Windows that form the fixed layout: no title, no moving, never in front of
// the menus or the About/Limits windows.
static constexpr ImGuiWindowFlags fixed_window_flags =
    ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
    ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoScrollWithMouse;

App::App() : panels_(make_panels()) {}

void App::draw_frame() {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    handle_inspector_keys(state_);
    draw_menu_bar();
    const float status_height = ImGui::GetFrameHeight() + ImGui::GetStyle().WindowPadding.y;
    // The menu bar is one frame high; WorkPos only learns that a frame later.
    draw_workspace(viewport->Pos.y + ImGui::GetFrameHeight(), viewport->Pos.y + viewport->Size.y - status_height);
    draw_status_line(status_height);
    if (show_about_) draw_about_window();
    if (show_limits_) draw_limits_window();
}

void App::draw_menu_bar() {
    if (!ImGui::BeginMainMenuBar()) return;
    if (ImGui::BeginMenu("File")) {
        if (ImGui::MenuItem("Open...")) state_.request_open_dialog();
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("View")) {
        if (ImGui::MenuItem("Dark theme", nullptr, theme() == Theme::dark)) set_theme(Theme::dark);
        if (ImGui::MenuItem("Light theme", nullptr, theme() == Theme::light)) set_theme(Theme::light);
        ImGui::EndMenu();
    }
    if (ImGui::BeginMenu("Help")) {
        if (ImGui::MenuItem("About ConvScope")) show_about_ = true;
        if (ImGui::MenuItem("Limits")) show_limits_ = true;
        ImGui::EndMenu();
    }
    ImGui::EndMainMenuBar();
}

// A splitter is an invisible button between two regions; dragging it moves
// `fraction` (of `extent`) and keeps both regions at least `minimum` wide.
static void splitter(const char* id, bool vertical, float thickness, float length, float extent, float minimum,
                     float* fraction) {
    ImGui::InvisibleButton(id, vertical ? ImVec2(thickness, length) : ImVec2(length, thickness));
    const bool hovered = ImGui::IsItemHovered();
    const bool active = ImGui::IsItemActive();
    if (hovered || active) ImGui::SetMouseCursor(vertical ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
    if (active && extent > 0.0f) {
        const float delta = vertical ? ImGui::GetIO().MouseDelta.x : ImGui::GetIO().MouseDelta.y;
        const float lowest = std::min(0.5f, minimum / extent);
        *fraction = std::clamp(*fraction + delta / extent, lowest, 1.0f - lowest);
    }
    const ImVec2 min = ImGui::GetItemRectMin();
    const ImVec2 max = ImGui::GetItemRectMax();
    const ImU32 colour = ImGui::GetColorU32(active ? ImGuiCol_SeparatorActive
                                                   : hovered ? ImGuiCol_SeparatorHovered : ImGuiCol_Separator);
    const ImVec2 centre((min.x + max.x) * 0.5f, (min.y + max.y) * 0.5f);
    if (vertical) {
        ImGui::GetWindowDrawList()->AddLine(ImVec2(centre.x, min.y), ImVec2(centre.x, max.y), colour);
    } else {
        ImGui::GetWindowDrawList()->AddLine(ImVec2(min.x, centre.y), ImVec2(max.x, centre.y), colour);
    }
}

void App::draw_workspace(float top, float bottom) {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    const float height = std::max(1.0f, bottom - top);
    ImGui::SetNextWindowPos(ImVec2(viewport->Pos.x, top));
    ImGui::SetNextWindowSize(ImVec2(viewport->Size.x, height));
    const ImVec2 item_spacing = ImGui::GetStyle().ItemSpacing;
    // Pushed in this order so the pop after Begin removes only the padding.
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0.0f, 0.0f));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(item_spacing.x * 0.5f, item_spacing.y * 0.5f));
    ImGui::Begin("##workspace", nullptr, fixed_window_flags | ImGuiWindowFlags_NoScrollbar);
    // Zero item spacing stays on for the layout itself (slots and splitters
    // abut exactly); each slot pushes normal spacing for its panels.
    ImGui::PopStyleVar();

    const ImVec2 available = ImGui::GetContentRegionAvail();
    const float thickness = std::max(4.0f, ImGui::GetFontSize() * 0.4f);
    const float minimum = ImGui::GetFontSize() * 6.0f;
    const float usable_width = std::max(1.0f, available.x - thickness);
    const float usable_height = std::max(1.0f, available.y - thickness);
    const float side_width = std::max(1.0f, usable_width * side_width_fraction_);
    const float side_top_height = std::max(1.0f, usable_height * side_top_fraction_);

    ImGui::BeginGroup();
    draw_slot(PanelSlot::side_top, "##side_top", side_width, side_top_height, item_spacing);
    splitter("##split_side", false, thickness, side_width, usable_height, minimum, &side_top_fraction_);
    draw_slot(PanelSlot::side_bottom, "##side_bottom", side_width, std::max(1.0f, usable_height - side_top_height),
              item_spacing);
    ImGui::EndGroup();
    ImGui::SameLine();
    splitter("##split_main", true, thickness, available.y, usable_width, minimum, &side_width_fraction_);
    ImGui::SameLine();
    draw_slot(PanelSlot::main, "##main", std::max(1.0f, usable_width - side_width), available.y, item_spacing);
    ImGui::PopStyleVar();
    ImGui::End();
}

void App::draw_slot(PanelSlot slot, const char* id, float width, float height, ImVec2 item_spacing) {
    ImGui::BeginChild(id, ImVec2(width, height), true);
    // Pushed inside the child: EndChild spaces the child in the parent with
    // the spacing in force then, and the layout needs zero there.
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, item_spacing);
    if (ImGui::BeginTabBar("tabs")) {
        for (const std::unique_ptr<Panel>& panel : panels_) {
            if (panel->slot() != slot) continue;
            // A panel asked for by title (test hook, URL state) comes to the front.
            const ImGuiTabItemFlags flags = state_.take_panel_request(panel->title()) ? ImGuiTabItemFlags_SetSelected : 0;
            if (ImGui::BeginTabItem(panel->title(), nullptr, flags)) {
                if (slot == PanelSlot::main) main_panel_ = panel->title();  // for the URL state
                ImGui::BeginChild("content");
                panel->draw(state_);
                ImGui::EndChild();
                ImGui::EndTabItem();
            }
        }
        ImGui::EndTabBar();
    }
    ImGui::PopStyleVar();
    ImGui::EndChild();
}

void App::draw_status_line(float height) {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(ImVec2(viewport->Pos.x, viewport->Pos.y + viewport->Size.y - height));
    ImGui::SetNextWindowSize(ImVec2(viewport->Size.x, height));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(ImGui::GetStyle().WindowPadding.x, ImGui::GetStyle().WindowPadding.y * 0.5f));
    ImGui::PushStyleColor(ImGuiCol_WindowBg, ImGui::GetStyleColorVec4(ImGuiCol_MenuBarBg));
    ImGui::Begin("##status", nullptr, fixed_window_flags);
    ImGui::AlignTextToFramePadding();
    if (!state_.error().empty()) {
        ImGui::TextColored(ImVec4(1.0f, 0.5f, 0.45f, 1.0f), "%s", state_.status().c_str());
    } else {
        ImGui::TextUnformatted(state_.status().c_str());
    }
    // The full text of a long error is one hover away.
    if (ImGui::IsItemHovered() && !state_.status().empty()) ImGui::SetTooltip("%s", state_.status().c_str());
    ImGui::End();
    ImGui::PopStyleColor();
    ImGui::PopStyleVar();
}

void App::draw_about_window() {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 30, 0), ImGuiCond_Appearing);
    if (ImGui::Begin("About ConvScope", &show_about_, ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoCollapse)) {
        ImGui::Text("ConvScope %s", CONVSCOPE_VERSION);
        ImGui::Separator();
        ImGui::TextWrapped("Look inside trained convolutional networks: Keras .h5, Keras 3 .keras, ONNX, PyTorch and SafeTensors files.");
        ImGui::TextWrapped("Everything runs in this browser tab; files are never uploaded.");
        ImGui::Spacing();
        ImGui::TextDisabled("Dear ImGui %s, DejaVu Sans font.", IMGUI_VERSION);
    }
    ImGui::End();
}

void App::draw_limits_window() {
    const ImGuiViewport* viewport = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(viewport->GetCenter(), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::Begin("Limits", &show_limits_,
                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_AlwaysAutoResize)) {
        ImGui::TextWrapped("Files are checked against these limits before anything is allocated:");
        if (ImGui::BeginTable("limits", 2, ImGuiTableFlags_BordersInnerH)) {
            auto row = [](const char* what, const std::string& value) {
                ImGui::TableNextRow();
                ImGui::TableSetColumnIndex(0);
                ImGui::TextUnformatted(what);
                ImGui::TableSetColumnIndex(1);
                ImGui::TextUnformatted(value.c_str());
            };
            row("Largest file", describe_size(limits::max_file_bytes));
            row("Largest tensor", std::to_string(limits::max_tensor_elements) + " elements");
            row("Largest decompressed data", describe_size(limits::max_decompressed_bytes));
            row("Highest tensor rank", std::to_string(limits::max_rank));
            row("Deepest nesting", std::to_string(limits::max_nesting_depth));
            row("Most layers", std::to_string(limits::max_layers));
            ImGui::EndTable();
        }
    }
    ImGui::End();
}

}  // namespace convscope::ui
