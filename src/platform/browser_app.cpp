// [SECTION] Browser platform: GLFW + WebGL2 main loop, DPR-aware sizing,
// fonts, and the exported C API the page (web/app.js) and the JS library
// (src/platform/browser_library.js) use.
//
// Sizing model: ImGui works in device pixels. Each frame the canvas's CSS
// size times devicePixelRatio becomes the canvas backing-store size (and so
// GLFW's window and framebuffer size, and the mouse coordinate space, since
// Emscripten scales mouse positions by backing/CSS size). When the ratio
// changes (zoom, moving to another screen) the style and the font are
// rebuilt at the new scale, so text is rasterised at its on-screen size.
#ifdef __EMSCRIPTEN__

#include "platform/browser_app.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <emscripten.h>
#define GLFW_INCLUDE_ES3
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include "core/base/limits.h"
#include "core/base/thread_pool.h"
#include "platform/browser_session.h"
#include "ui/app.h"
#include "ui/style.h"

extern "C" {
// Implemented in src/platform/browser_library.js.
void convscope_browser_install_hook();
void convscope_browser_first_frame();
void convscope_browser_measure_canvas(int* width, int* height, float* ratio);
void convscope_browser_resize_canvas(int width, int height);
uint8_t* convscope_browser_take_font(size_t* size);
void convscope_browser_open_file_dialog();
void convscope_browser_no_webgl2();
void convscope_browser_set_cursor(const char* css_name);
}

namespace convscope::platform {
namespace {

// ImGui asserts on a zero frame delta; a page whose clock does not advance
// between two frames (headless, throttled tabs) would trip it.
constexpr float min_delta_seconds = 1.0f / 1000.0f;

struct BrowserApp {
    GLFWwindow* window = nullptr;
    ui::App app;
    std::vector<uint8_t> font_ttf;  // empty: ImGui's built-in font
    float pixel_ratio = 0.0f;       // 0 until the first frame sizes everything
    int canvas_width = 0;
    int canvas_height = 0;
    ImGuiMouseCursor cursor = ImGuiMouseCursor_Arrow;
    bool first_frame_reported = false;
    bool gl_objects_created = false;  // by ImGui's GL backend, in its first NewFrame
};

// One app per page; the exported C functions below reach it through this.
BrowserApp* the_app = nullptr;

const char* css_cursor(ImGuiMouseCursor cursor) {
    switch (cursor) {
    case ImGuiMouseCursor_TextInput: return "text";
    case ImGuiMouseCursor_ResizeAll: return "move";
    case ImGuiMouseCursor_ResizeNS: return "ns-resize";
    case ImGuiMouseCursor_ResizeEW: return "ew-resize";
    case ImGuiMouseCursor_ResizeNESW: return "nesw-resize";
    case ImGuiMouseCursor_ResizeNWSE: return "nwse-resize";
    case ImGuiMouseCursor_Hand: return "pointer";
    case ImGuiMouseCursor_NotAllowed: return "not-allowed";
    case ImGuiMouseCursor_None: return "none";
    default: return "default";
    }
}

// Follows the canvas's CSS size and the device pixel ratio. Runs before
// ImGui's NewFrame so the new sizes and fonts apply to the whole frame.
void follow_canvas_size(BrowserApp& app) {
    int width = 0;
    int height = 0;
    float ratio = 1.0f;
    convscope_browser_measure_canvas(&width, &height, &ratio);
    if (!(ratio > 0.0f) || !std::isfinite(ratio)) ratio = 1.0f;
    if (width != app.canvas_width || height != app.canvas_height) {
        convscope_browser_resize_canvas(width, height);
        app.canvas_width = width;
        app.canvas_height = height;
    }
    if (ratio != app.pixel_ratio) {
        app.pixel_ratio = ratio;
        ui::apply_style(ratio);
        ui::rebuild_fonts(app.font_ttf.empty() ? nullptr : app.font_ttf.data(), app.font_ttf.size(), ratio);
        // Only the font texture is replaced: ImGui 1.86's GL3 backend keeps
        // its buffer sizes across DestroyDeviceObjects(), so recreating all
        // device objects would make it write past fresh, empty buffers.
        // Before the first frame the backend has no GL objects yet and makes
        // the texture itself.
        if (app.gl_objects_created) {
            ImGui_ImplOpenGL3_DestroyFontsTexture();
            ImGui_ImplOpenGL3_CreateFontsTexture();
        }
    }
}

void draw_frame(void* argument) {
    BrowserApp& app = *static_cast<BrowserApp*>(argument);
    glfwPollEvents();
    follow_canvas_size(app);
    guarded_frame_part(app.app, "running queued work", [&] { app.app.state().begin_frame(); });

    ImGui_ImplOpenGL3_NewFrame();
    app.gl_objects_created = true;
    ImGui_ImplGlfw_NewFrame();
    ImGuiIO& io = ImGui::GetIO();
    io.DeltaTime = std::max(io.DeltaTime, min_delta_seconds);
    ImGui::NewFrame();
    guarded_frame_part(app.app, "drawing the app", [&] { app.app.draw_frame(); });
    guarded_frame_part(app.app, "updating the page", [&] { update_browser_session(app.app); });
    ImGui::Render();

    int framebuffer_width = 0;
    int framebuffer_height = 0;
    glfwGetFramebufferSize(app.window, &framebuffer_width, &framebuffer_height);
    glViewport(0, 0, framebuffer_width, framebuffer_height);
    glClearColor(0.08f, 0.09f, 0.10f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    finish_browser_frame();

    if (app.app.state().take_open_dialog_request()) convscope_browser_open_file_dialog();
    const ImGuiMouseCursor cursor = ImGui::GetMouseCursor();
    if (cursor != app.cursor) {
        app.cursor = cursor;
        convscope_browser_set_cursor(css_cursor(cursor));
    }
    if (!app.first_frame_reported) {
        app.first_frame_reported = true;
        convscope_browser_first_frame();
    }
}

}  // namespace

int run_browser_app() {
    if (!glfwInit()) {
        std::fprintf(stderr, "convscope: glfwInit failed\n");
        convscope_browser_no_webgl2();
        return 1;
    }
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    auto app = std::make_unique<BrowserApp>();
    // The real size is set from the canvas's CSS size on the first frame.
    app->window = glfwCreateWindow(640, 480, "ConvScope", nullptr, nullptr);
    if (!app->window) {
        std::fprintf(stderr, "convscope: could not create a WebGL2 context\n");
        convscope_browser_no_webgl2();
        return 1;
    }
    glfwMakeContextCurrent(app->window);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // no file system to keep a layout in
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    ImGui_ImplGlfw_InitForOpenGL(app->window, true);
    ImGui_ImplOpenGL3_Init("#version 300 es");
    start_browser_session(app->app);

    size_t font_size = 0;
    if (uint8_t* font = convscope_browser_take_font(&font_size)) {
        app->font_ttf.assign(font, font + font_size);
        std::free(font);
    } else {
        std::fprintf(stderr, "convscope: font not loaded; using ImGui's built-in font\n");
    }

    the_app = app.release();
    convscope_browser_install_hook();
    // Never returns: the browser calls draw_frame once per animation frame.
    emscripten_set_main_loop_arg(draw_frame, the_app, 0, true);
    return 0;
}

}  // namespace convscope::platform

// Files the page is still writing into (see convscope_file_buffer below).
namespace {
std::map<int, std::shared_ptr<std::vector<uint8_t>>>& pending_file_buffers() {
    static std::map<int, std::shared_ptr<std::vector<uint8_t>>> buffers;
    return buffers;
}
int next_file_buffer = 1;
}  // namespace

// ---- exported C API (listed in EXPORTED_FUNCTIONS in CMakeLists.txt) ------

extern "C" {

// Receiving a file without holding it twice: the page asks for a buffer of
// the file's size (convscope_file_buffer), writes the file into it chunk by
// chunk as the browser reads it (File.stream(), a fetch body), then hands
// the buffer over (convscope_open_file_buffer). The buffer becomes the app's
// file bytes as is, and the model reader may align weights inside it, so a
// model takes about its file size in WASM memory. Buffers are numbered so
// that a second file arriving while the first streams cannot free memory
// the first is still being written into.
// A zero-filled buffer of `size` bytes; returns its number, or 0 (with the
// reason in the status line) when the size is over the limit or memory is short.
EMSCRIPTEN_KEEPALIVE int convscope_file_buffer(double size) {
    using convscope::platform::the_app;
    if (!(size >= 0) || size > static_cast<double>(convscope::limits::max_file_bytes)) {
        if (the_app) the_app->app.state().report_error("a file of " + std::to_string(size) + " bytes is over the limit");
        return 0;
    }
    try {
        auto buffer = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(size));
        int number = next_file_buffer++;
        pending_file_buffers()[number] = std::move(buffer);
        return number;
    } catch (const std::exception& failure) {
        if (the_app) {
            the_app->app.state().report_error("not enough memory for a file of " + std::to_string(size_t(size)) +
                                              " bytes (" + failure.what() + ")");
        }
        return 0;
    }
}

// Where to write buffer `number`'s bytes (0 when there is no such buffer or
// it is empty). Valid until the buffer is opened or discarded.
EMSCRIPTEN_KEEPALIVE uint8_t* convscope_file_buffer_data(int number) {
    auto found = pending_file_buffers().find(number);
    if (found == pending_file_buffers().end() || found->second->empty()) return nullptr;
    return found->second->data();
}

EMSCRIPTEN_KEEPALIVE void convscope_discard_file_buffer(int number) { pending_file_buffers().erase(number); }

// Opens buffer `number` as the file `name` (as if dropped) and forgets it.
EMSCRIPTEN_KEEPALIVE void convscope_open_file_buffer(int number, const char* name) {
    using convscope::platform::the_app;
    auto found = pending_file_buffers().find(number);
    if (found == pending_file_buffers().end()) return;
    std::shared_ptr<std::vector<uint8_t>> bytes = std::move(found->second);
    pending_file_buffers().erase(found);
    if (!the_app) return;
    try {
        the_app->app.state().open_file(name ? name : "", std::move(bytes));
    } catch (const std::exception& failure) {
        the_app->app.state().report_error(std::string(name ? name : "") + ": " + failure.what());
    }
}

// Hands a file to the app. The bytes are copied; the caller frees its buffer.
// (The page uses the buffers above, which need no copy.)
EMSCRIPTEN_KEEPALIVE void convscope_open_file(const char* name, uint8_t* bytes, size_t size) {
    using convscope::platform::the_app;
    if (!the_app) return;
    try {
        auto copy = std::make_shared<std::vector<uint8_t>>(bytes, bytes + size);
        the_app->app.state().open_file(name ? name : "", std::move(copy));
    } catch (const std::exception& failure) {
        // open_file catches reader errors itself; this is std::bad_alloc.
        the_app->app.state().report_error(std::string(name ? name : "") + ": " + failure.what());
    }
}

EMSCRIPTEN_KEEPALIVE void convscope_report_error(const char* message) {
    using convscope::platform::the_app;
    if (the_app && message) the_app->app.state().report_error(message);
}

// Largest file the page may hand over; checked in JS before copying. A double
// because JS numbers hold it exactly and wasm32's size_t may not.
EMSCRIPTEN_KEEPALIVE double convscope_max_file_bytes() {
    return static_cast<double>(convscope::limits::max_file_bytes);
}

// Sizes the kernels' thread pool (web/app.js calls it before main()); returns
// the count in effect: 1 in a build without pthreads.
EMSCRIPTEN_KEEPALIVE int convscope_set_threads(int threads) { return convscope::set_thread_count(threads); }

// The app state as JSON for window.convscope.state(). The pointer stays
// valid until the next call.
EMSCRIPTEN_KEEPALIVE const char* convscope_state_json() {
    using convscope::platform::the_app;
    static std::string json;
    json = the_app ? the_app->app.state().to_json() : std::string("{}");
    return json.c_str();
}

}  // extern "C"

#endif  // __EMSCRIPTEN__
