// The one place that lists the panels.
#include "ui/panels/explain_panel.h"
#include "ui/panels/feature_maps_panel.h"
#include "ui/panels/images_panel.h"
#include "ui/panels/layers_panel.h"
#include "ui/panels/messages_panel.h"
#include "ui/panels/model_panel.h"
#include "ui/panels/prediction_panel.h"
#include "ui/panels/response_panel.h"
#include "ui/panels/weights_panel.h"

namespace convscope::ui {

std::vector<std::unique_ptr<Panel>> make_panels() {
    std::vector<std::unique_ptr<Panel>> panels;
    panels.push_back(std::make_unique<ModelPanel>());
    panels.push_back(std::make_unique<ImagesPanel>());
    panels.push_back(std::make_unique<PredictionPanel>());
    panels.push_back(std::make_unique<MessagesPanel>());
    panels.push_back(std::make_unique<LayersPanel>());
    panels.push_back(std::make_unique<WeightsPanel>());
    panels.push_back(std::make_unique<ResponsePanel>());
    panels.push_back(std::make_unique<FeatureMapsPanel>());
    panels.push_back(std::make_unique<ExplainPanel>());
    return panels;
}

}  // namespace convscope::ui
