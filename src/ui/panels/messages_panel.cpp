#include "ui/panels/messages_panel.h"

#include <imgui.h>

namespace convscope::ui {

void MessagesPanel::draw(AppState& app) {
    const std::vector<LogEntry>& log = app.log();
    if (log.empty()) {
        ImGui::TextDisabled("Nothing yet.");
        return;
    }
    for (const LogEntry& entry : log) {
        if (entry.kind == LogEntry::Kind::error) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.45f, 0.4f, 1.0f));
            ImGui::TextWrapped("%s", entry.text.c_str());
            ImGui::PopStyleColor();
        } else {
            ImGui::TextWrapped("%s", entry.text.c_str());
        }
    }
    if (app.frame() > 0 && log.size() != entries_seen_) {
        ImGui::SetScrollHereY(1.0f);
        entries_seen_ = log.size();
    }
}

}  // namespace convscope::ui
