// Messages: every file opened or refused, with the full error text (the
// status line shows only the latest).
#pragma once

#include <cstddef>

#include "ui/panels/panel.h"

namespace convscope::ui {

class MessagesPanel : public Panel {
public:
    const char* title() const override { return "Messages"; }
    PanelSlot slot() const override { return PanelSlot::side_bottom; }
    void draw(AppState& app) override;

private:
    size_t entries_seen_ = 0;  // to scroll to a new entry once, not every frame
};

}  // namespace convscope::ui
