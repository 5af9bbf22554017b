// What the page keeps between visits and links: the view in the address bar
// (ui/view_state.h), the theme in localStorage, and the guard that keeps the
// app alive when a frame fails.
//
//  - URL state: at start the page's query is parsed into the requested view;
//    once its model is open (the page fetches ?model=URL itself) the
//    selection is applied through the inspector. Each frame the shown view
//    is formatted and, when it changed, written with history.replaceState.
//  - Theme: dark (default) or light, remembered in localStorage
//    ("convscope.theme"); the View menu changes it.
//  - Faults: C++ exceptions escaping a frame are caught here, the frame is
//    closed with ImGui's error recovery and the message shown; a WASM trap or
//    abort() cannot be caught in C++ and is handled by the page (web/app.js
//    restarts the module in place).
//
// Emscripten only (whole file).
#pragma once

#ifdef __EMSCRIPTEN__

#include <exception>

namespace convscope::ui {
class App;
}

namespace convscope::platform {

// After ImGui and its GL backend are initialised: installs the heatmap
// renderer, applies the stored theme, reads the page's query.
void start_browser_session(ui::App& app);

// Between the app's windows and ImGui::Render(): debug windows, the
// requested view, the address bar, the theme.
void update_browser_session(ui::App& app);

// After the frame is rendered: the heatmap renderer's end of frame.
void finish_browser_frame();

// Reports a C++ exception that escaped part of a frame: shown in the app,
// and ImGui's open windows/stacks are closed so the frame can still end.
void report_frame_failure(ui::App& app, const char* what, const char* message);

// Runs `draw` (part of a frame) and catches what escapes it. Returns false
// when it caught something.
template <typename Draw>
bool guarded_frame_part(ui::App& app, const char* what, Draw draw) {
    try {
        draw();
        return true;
    } catch (const std::exception& failure) {
        report_frame_failure(app, what, failure.what());
    } catch (...) {
        report_frame_failure(app, what, "unknown exception");
    }
    return false;
}

}  // namespace convscope::platform

#endif  // __EMSCRIPTEN__
