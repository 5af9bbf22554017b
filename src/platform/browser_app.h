// The browser platform: GLFW over WebGL2 (Emscripten), the main loop, canvas
// sizing for the device pixel ratio, and the C functions the page calls.
#pragma once

namespace convscope::platform {

// Creates the window and the GL context, starts ImGui and enters the
// browser's frame loop. Returns only on failure (non-zero); on success the
// loop keeps the runtime alive and main() never returns.
int run_browser_app();

}  // namespace convscope::platform
