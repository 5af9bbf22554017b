// What a shared link reopens: the model's address and where the user was
// looking (layer, kernel, channel, image, panel), as a URL query string.
//
//   ?model=https%3A%2F%2Fexample.org%2Fnet.onnx&layer=conv2d_1&kernel=3&channel=0&panel=Kernels
//
// The platform writes format_view_state(current view) into the address bar
// (history.replaceState) whenever it changes, and hands the page's query to
// parse_view_state() at start-up. Panels fill a ViewState from their
// selection and apply a requested one once its model is open.
//
// Pure C++ (no ImGui, no core): parsing is total and bounded: unknown keys,
// bad numbers and broken escapes are skipped, never errors, because a link
// may be hand-edited or truncated.
#pragma once

#include <string>

namespace convscope::ui {

struct ViewState {
    std::string model_url;  // empty: a local file (cannot be shared) or none
    std::string layer;      // layer name
    int kernel = -1;        // output channel / filter index; -1: none
    int channel = -1;       // input channel index; -1: none
    std::string image;      // sample image name or URL
    std::string panel;      // the panel shown in the main area, by title

    bool operator==(const ViewState& other) const;
    bool operator!=(const ViewState& other) const { return !(*this == other); }
};

// "model=...&layer=...&kernel=3&channel=0&image=...&panel=..." (no leading
// '?'); fields that are empty or -1 are left out, so the empty view gives "".
// Values are percent-encoded (RFC 3986 unreserved characters stay as they are).
std::string format_view_state(const ViewState& view);

// Accepts what format_view_state() writes, with or without a leading '?' or
// '#', also '+' for space and keys in any order; the last of a repeated key
// wins. Input past max_view_query_bytes is ignored.
ViewState parse_view_state(const std::string& query);

constexpr size_t max_view_query_bytes = 16 * 1024;

}  // namespace convscope::ui
