// A panel draws one view of the app state and keeps only view state
// (selection, scroll, filters). Model data stays in core objects owned by
// AppState. Adding a panel: one class here plus one line in panel_list.cpp.
#pragma once

#include <memory>
#include <vector>

#include "ui/app_state.h"

namespace convscope::ui {

// Where the workspace places a panel. Panels sharing a slot become tabs.
enum class PanelSlot { side_top, side_bottom, main };

class Panel {
public:
    virtual ~Panel() = default;
    // Shown on the tab; also the ImGui ID scope, so it must be unique.
    virtual const char* title() const = 0;
    virtual PanelSlot slot() const = 0;
    // Draws the panel's contents into the current child region.
    virtual void draw(AppState& app) = 0;
};

// Every panel the app shows, in tab order. Defined in panel_list.cpp.
std::vector<std::unique_ptr<Panel>> make_panels();

}  // namespace convscope::ui
