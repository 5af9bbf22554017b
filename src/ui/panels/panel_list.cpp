// The one place that lists the panels.
#include "ui/panels/layers_panel.h"
#include "ui/panels/messages_panel.h"
#include "ui/panels/model_panel.h"

namespace convscope::ui {

std::vector<std::unique_ptr<Panel>> make_panels() {
    std::vector<std::unique_ptr<Panel>> panels;
    panels.push_back(std::make_unique<ModelPanel>());
    panels.push_back(std::make_unique<MessagesPanel>());
    panels.push_back(std::make_unique<LayersPanel>());
    return panels;
}

}  // namespace convscope::ui
