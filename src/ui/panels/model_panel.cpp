#include "ui/panels/model_panel.h"

#include <imgui.h>

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

void ModelPanel::draw(AppState& app) {
    const std::shared_ptr<const Model>& model = app.model();
    if (!model) {
        ImGui::TextWrapped("No model open.");
        ImGui::Spacing();
        ImGui::TextWrapped("Drop a Keras .h5, Keras 3 .keras or ONNX .onnx file anywhere on the page, "
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
        key_value_row("Format", model->format);
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
