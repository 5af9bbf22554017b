// convscope summary MODEL [--json]: the model.summary()-style table, or the
// JSON form the UI and scripts read.
#include <cstdio>

#include "cli/commands.h"
#include "core/formats/bundle.h"
#include "core/formats/registry.h"
#include "core/model/summary.h"

namespace convscope::cli {

int run_summary(const std::vector<std::string>& args) {
    Arguments arguments(args, {"json"});
    arguments.allow_only({"json"});
    if (arguments.positional().empty()) throw UsageError("give a MODEL (or the files of one model: model.json weights.h5, a folder, a .zip)");
    Model model = open_model_files(arguments.positional());
    std::string text = arguments.has("json") ? model_to_json(model) + "\n" : summary_to_text(model);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

}  // namespace convscope::cli
