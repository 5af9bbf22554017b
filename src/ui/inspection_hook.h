// The test hook's view of the inspector: the JSON the page's
// window.convscope.inspect() sends and the state it reads back. Kept apart
// from Inspection so the state class holds state and its queue only; this
// file reads it through Inspection's public interface.
#pragma once

#include <string>

#include "ui/inspection.h"

namespace convscope::ui {

// Applies a selection given as JSON (the page's window.convscope.inspect()
// and URL state): {"layer": name|index, "kernel": k, "channel": c,
// "sample": n (adds and selects a bundled sample), "samples": [n...],
// "image": position, "compare": bool, "compare_images": [positions],
// "compare_kernels": [k...], "layer_output": bool, "invert": bool,
// "scale": x, "mean": [..], "std": [..]}. Returns "" or what was wrong.
// (AppState::inspect_command adds "panel" and "save" on top.)
std::string apply_inspect_command(Inspection& inspection, const std::string& json);

// Everything the e2e test needs, as a JSON object text.
std::string inspection_to_json(const Inspection& inspection);

}  // namespace convscope::ui
