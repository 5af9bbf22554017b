#include "ui/panels/layers_panel.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <imgui.h>

#include "core/tensor/tensor.h"

namespace convscope::ui {

static bool contains_ignoring_case(const std::string& text, const char* needle) {
    if (!needle[0]) return true;
    std::string lower_text = text;
    std::string lower_needle = needle;
    auto to_lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
    std::transform(lower_text.begin(), lower_text.end(), lower_text.begin(), to_lower);
    std::transform(lower_needle.begin(), lower_needle.end(), lower_needle.begin(), to_lower);
    return lower_text.find(lower_needle) != std::string::npos;
}

void LayersPanel::draw(AppState& app) {
    const std::shared_ptr<const Model>& model = app.model();
    if (!model) {
        ImGui::TextDisabled("Layers appear here once a model is open.");
        return;
    }
    if (selection_model_ != model.get()) {
        selection_model_ = model.get();
        selected_ = -1;
    }
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16);
    ImGui::InputTextWithHint("##filter", "filter by name or type", filter_, sizeof filter_);
    ImGui::SameLine();
    ImGui::TextDisabled("%zu layers", model->layers.size());

    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                  ImGuiTableFlags_ScrollY | ImGuiTableFlags_Resizable |
                                  ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("layers", 5, flags)) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("Name");
    ImGui::TableSetupColumn("Type");
    ImGui::TableSetupColumn("Output shape");
    ImGui::TableSetupColumn("Parameters");
    ImGui::TableHeadersRow();
    for (size_t i = 0; i < model->layers.size(); ++i) {
        const Layer& layer = model->layers[i];
        if (!contains_ignoring_case(layer.name, filter_) && !contains_ignoring_case(layer.type, filter_)) continue;
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::PushID(static_cast<int>(i));
        const bool is_selected = selected_ == static_cast<int>(i);
        if (ImGui::Selectable(std::to_string(i).c_str(), is_selected, ImGuiSelectableFlags_SpanAllColumns)) {
            selected_ = static_cast<int>(i);
        }
        ImGui::PopID();
        ImGui::TableSetColumnIndex(1);
        ImGui::TextUnformatted(layer.name.c_str());
        ImGui::TableSetColumnIndex(2);
        if (layer.unsupported_reason.empty()) {
            ImGui::TextUnformatted(layer.type.c_str());
        } else {
            ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.3f, 1.0f), "%s *", layer.type.c_str());
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", layer.unsupported_reason.c_str());
        }
        ImGui::TableSetColumnIndex(3);
        ImGui::TextUnformatted(layer.output_shape.empty() ? "" : shape_to_string(layer.output_shape).c_str());
        ImGui::TableSetColumnIndex(4);
        ImGui::Text("%llu", static_cast<unsigned long long>(layer.parameter_count()));
    }
    ImGui::EndTable();
}

}  // namespace convscope::ui
