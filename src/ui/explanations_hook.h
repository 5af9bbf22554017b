// The test hook's view of the explanations: the "explain" member of the
// page's window.convscope.inspect() and the state it reads back. Apart from
// Explanations (like ui/inspection_hook.h) and through its public interface.
#pragma once

#include <string>

#include "ui/explanations.h"

namespace convscope::ui {

// {"class": n (-1 = predicted), "gradcam_layer": name, "window": n,
//  "stride": n, "fill": x, "smoothgrad_samples": n, "ig_steps": n,
//  "filter": {"layer": name, "channel": c, "steps": n}, "stop_filter": true}.
// Also activates. Returns "" or what was wrong.
std::string apply_explain_command(Explanations& explanations, const std::string& json);

// Methods computed, shapes, ranges, checksums, timings, small maps' values.
std::string explanations_to_json(const Explanations& explanations);

}  // namespace convscope::ui
