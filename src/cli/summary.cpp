// convscope summary MODEL [--json]: the model.summary()-style table, or the
// JSON form the UI and scripts read.
#include <cstdio>

#include "cli/commands.h"
#include "core/formats/registry.h"
#include "core/model/summary.h"

namespace convscope::cli {

int run_summary(const std::vector<std::string>& args) {
    Arguments arguments(args, {"json"});
    arguments.allow_only({"json"});
    if (arguments.positional().size() != 1) throw UsageError("expected exactly one MODEL file");
    const std::string& path = arguments.positional()[0];
    Model model = open_model_in_place(read_file_bytes_writable(path), path);
    std::string text = arguments.has("json") ? model_to_json(model) + "\n" : summary_to_text(model);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
}

}  // namespace convscope::cli
