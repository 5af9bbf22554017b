#include "ui/panels/model_panel.h"

#include <imgui.h>

#include <algorithm>
#include <map>

#include "core/tensor/tensor.h"

namespace convscope::ui {

static void key_value_row(const char* key, const std::string& value) {
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    ImGui::TextDisabled("%s", key);
    ImGui::TableSetColumnIndex(1);
    ImGui::TextWrapped("%s", value.c_str());
}

static void value_list(const char* label, const std::vector<ValueInfo>& values) {
    for (const ValueInfo& value : values) {
        key_value_row(label, value.name + " " + shape_to_string(value.shape));
    }
}

// A layered drawing of the graph for models with branches (Functional Keras
// models, ONNX): each layer sits one row below the deepest layer it reads;
// lines join producers to consumers. Clicking a box selects the layer.
static void draw_graph(const Model& model, Inspection& inspection) {
    const size_t count = std::min<size_t>(model.layers.size(), 2000);
    std::map<std::string, int> producer;  // value name -> layer index
    std::vector<int> depth(count, 0);
    bool branched = false;
    std::map<std::string, int> readers;
    for (size_t i = 0; i < count; ++i) {
        const Layer& layer = model.layers[i];
        int inputs_from_layers = 0;
        for (const std::string& value : layer.inputs) {
            auto found = producer.find(value);
            if (found == producer.end()) continue;
            depth[i] = std::max(depth[i], depth[static_cast<size_t>(found->second)] + 1);
            ++inputs_from_layers;
            if (++readers[value] > 1) branched = true;
        }
        if (inputs_from_layers > 1) branched = true;
        for (const std::string& value : layer.outputs) producer[value] = static_cast<int>(i);
    }
    if (!branched) return;
    if (!ImGui::CollapsingHeader("Graph")) return;
    const float font = ImGui::GetFontSize();
    const ImVec2 box(font * 7.0f, font * 1.4f);
    const ImVec2 gap(font * 0.8f, font * 1.2f);
    std::map<int, int> row_fill;  // depth -> boxes placed so far
    std::vector<ImVec2> position(count);
    float width = 0.0f, height = 0.0f;
    for (size_t i = 0; i < count; ++i) {
        const int column = row_fill[depth[i]]++;
        position[i] = ImVec2(static_cast<float>(column) * (box.x + gap.x), static_cast<float>(depth[i]) * (box.y + gap.y));
        width = std::max(width, position[i].x + box.x);
        height = std::max(height, position[i].y + box.y);
    }
    ImGui::BeginChild("graph", ImVec2(0, std::min(height + font, font * 30.0f)), true, ImGuiWindowFlags_HorizontalScrollbar);
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    for (size_t i = 0; i < count; ++i) {
        for (const std::string& value : model.layers[i].inputs) {
            auto found = producer.find(value);
            if (found == producer.end() || found->second >= static_cast<int>(i)) continue;
            const ImVec2 from = position[static_cast<size_t>(found->second)];
            draw->AddLine(ImVec2(origin.x + from.x + box.x * 0.5f, origin.y + from.y + box.y),
                          ImVec2(origin.x + position[i].x + box.x * 0.5f, origin.y + position[i].y), IM_COL32(140, 140, 150, 255));
        }
    }
    for (size_t i = 0; i < count; ++i) {
        ImGui::SetCursorScreenPos(ImVec2(origin.x + position[i].x, origin.y + position[i].y));
        ImGui::PushID(static_cast<int>(i));
        const bool selected = inspection.selected_layer() == static_cast<int>(i);
        if (selected) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive));
        if (ImGui::Button(model.layers[i].name.c_str(), box)) inspection.select_layer(static_cast<int>(i));
        if (selected) ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (%s)", model.layers[i].name.c_str(), model.layers[i].type.c_str());
        ImGui::PopID();
    }
    ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y + height));
    ImGui::Dummy(ImVec2(width, font * 0.5f));
    ImGui::EndChild();
}

void ModelPanel::draw(AppState& app) {
    const std::shared_ptr<const Model>& model = app.model();
    if (!model) {
        ImGui::TextWrapped("No model open.");
        ImGui::Spacing();
        ImGui::TextWrapped("Drop a Keras .h5, Keras 3 .keras, ONNX .onnx, PyTorch .pt/.pth or .safetensors file anywhere on the page, "
                           "or choose File > Open. Files stay on this computer: nothing is uploaded.");
        if (ImGui::Button("Open...")) app.request_open_dialog();
        return;
    }
    const ReceivedFile* file = app.model_file();
    if (ImGui::BeginTable("model-summary", 2, ImGuiTableFlags_SizingStretchProp)) {
        ImGui::TableSetupColumn("key", ImGuiTableColumnFlags_WidthFixed);
        ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
        if (file) {
            key_value_row("File", file->name);
            key_value_row("Size", describe_size(file->bytes->size()));
        }
        key_value_row("Format", model->format_name());
        if (!model->producer.empty()) key_value_row("Producer", model->producer + " " + model->producer_version);
        if (!model->name.empty()) key_value_row("Name", model->name);
        key_value_row("Layers", std::to_string(model->layers.size()));
        key_value_row("Parameters", std::to_string(model->total_parameters()));
        key_value_row("Layout", model->layout == DataLayout::channels_last ? "channels last" : "channels first");
        value_list("Input", model->inputs);
        value_list("Output", model->outputs);
        for (const auto& [key, value] : model->metadata) key_value_row(key.c_str(), value);
        ImGui::EndTable();
    }
    draw_graph(*model, app.inspection());
    if (!model->warnings.empty()) {
        ImGui::Separator();
        for (const std::string& warning : model->warnings) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
            ImGui::TextWrapped("%s", warning.c_str());
            ImGui::PopStyleColor();
        }
    }
}

}  // namespace convscope::ui
