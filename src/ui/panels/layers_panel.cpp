#include "ui/panels/layers_panel.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
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

// 1234567 -> "1.23 M": FLOP counts span many orders of magnitude.
static std::string format_count(uint64_t count) {
    char text[32];
    if (count >= 1000000000ull) std::snprintf(text, sizeof text, "%.2f G", static_cast<double>(count) / 1e9);
    else if (count >= 1000000ull) std::snprintf(text, sizeof text, "%.2f M", static_cast<double>(count) / 1e6);
    else if (count >= 1000ull) std::snprintf(text, sizeof text, "%.1f K", static_cast<double>(count) / 1e3);
    else std::snprintf(text, sizeof text, "%llu", static_cast<unsigned long long>(count));
    return text;
}

void LayersPanel::draw(AppState& app) {
    const std::shared_ptr<const Model>& model = app.model();
    if (!model) {
        ImGui::TextDisabled("Layers appear here once a model is open.");
        return;
    }
    // The selection is shared with every inspector panel (Inspection).
    Inspection& inspection = app.inspection();
    const int selected = inspection.selected_layer();
    const bool selection_moved = selected != last_selected_;
    last_selected_ = selected;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 16);
    ImGui::InputTextWithHint("##filter", "filter by name or type", filter_, sizeof filter_);
    ImGui::SameLine();
    ImGui::TextDisabled("%zu layers", model->layers.size());

    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                  ImGuiTableFlags_ScrollY | ImGuiTableFlags_Resizable |
                                  ImGuiTableFlags_SizingStretchProp;
    if (cost_generation_ != inspection.model_generation()) {
        cost_generation_ = inspection.model_generation();
        cost_ = model_cost(*model);
    }
    if (!ImGui::BeginTable("layers", 6, flags)) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("Name");
    ImGui::TableSetupColumn("Type");
    ImGui::TableSetupColumn("Output shape");
    ImGui::TableSetupColumn("Parameters");
    ImGui::TableSetupColumn("FLOPs");
    ImGui::TableHeadersRow();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("FLOPs: multiply-adds x 2 plus bias adds, conv and dense layers only");
    for (size_t i = 0; i < model->layers.size(); ++i) {
        const Layer& layer = model->layers[i];
        if (!contains_ignoring_case(layer.name, filter_) && !contains_ignoring_case(layer.type, filter_)) continue;
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::PushID(static_cast<int>(i));
        const bool is_selected = selected == static_cast<int>(i);
        if (ImGui::Selectable(std::to_string(i).c_str(), is_selected, ImGuiSelectableFlags_SpanAllColumns)) {
            inspection.select_layer(static_cast<int>(i));
        }
        // Keyboard navigation moves the selection: keep it in view.
        if (is_selected && selection_moved) ImGui::SetScrollHereY();
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
        ImGui::TableSetColumnIndex(5);
        const LayerCost& cost = cost_.layers[i];
        if (!cost.known) ImGui::TextDisabled("?");
        else if (cost.flops) ImGui::TextUnformatted(format_count(cost.flops).c_str());
    }
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(1);
    ImGui::TextDisabled("Total");
    ImGui::TableSetColumnIndex(4);
    ImGui::Text("%llu", static_cast<unsigned long long>(model->total_parameters()));
    ImGui::TableSetColumnIndex(5);
    ImGui::Text("%s%s", format_count(cost_.total_flops).c_str(), cost_.complete ? "" : "+");
    ImGui::EndTable();
}

}  // namespace convscope::ui
