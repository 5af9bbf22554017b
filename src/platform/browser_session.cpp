// [SECTION] Browser session: URL view state, theme, frame fault guard, test
// hook additions (see browser_session.h).
#ifdef __EMSCRIPTEN__

#include "platform/browser_session.h"

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <emscripten.h>
#include <imgui.h>
#include <imgui_internal.h>  // ErrorCheckEndFrameRecover: closing a frame an exception cut short
#include <nlohmann/json.hpp>

#include "platform/webgl_heatmap.h"
#include "ui/app.h"
#include "ui/inspection_hook.h"
#include "ui/style.h"
#include "ui/view_state.h"

// ---- page side (JS run in the module's scope) -------------------------------------

// The page's query string ("?model=..."), malloc'd; the caller frees it.
EM_JS(char*, convscope_session_read_query, (), {
    var query = window.location.search || '';
    var length = lengthBytesUTF8(query) + 1;
    var pointer = _malloc(length);
    if (pointer) stringToUTF8(query, pointer, length);
    return pointer;
});

// Writes the view into the address bar without adding a history entry (the
// view changes on every click; Back should leave the app, not undo clicks).
EM_JS(void, convscope_session_replace_query, (const char* query_pointer), {
    var query = UTF8ToString(query_pointer);
    var page = (window.convscope && window.convscope._page) || {};
    page.viewQuery = query;
    try {
        var url = window.location.pathname + (query ? '?' + query : '') + window.location.hash;
        if (url !== window.location.pathname + window.location.search + window.location.hash) {
            window.history.replaceState(window.history.state, '', url);
        }
    } catch (e) {
        // file:// pages and sandboxed frames may refuse; the view still works.
    }
});

// 1 for light, 0 for dark: the stored choice.
EM_JS(int, convscope_session_stored_theme, (), {
    var stored = null;
    try { stored = window.localStorage.getItem('convscope.theme'); } catch (e) {}
    if (stored === 'light') return 1;
    // Dark unless chosen otherwise: heatmap colours read best on dark.
    return 0;
});

// Remembers the theme and lets the page's own overlays follow it.
EM_JS(void, convscope_session_show_theme, (int light, int remember), {
    var name = light ? 'light' : 'dark';
    document.documentElement.setAttribute('data-theme', name);
    if (remember) {
        try { window.localStorage.setItem('convscope.theme', name); } catch (e) {}
    }
});

// The hook's functions for what this file keeps.
EM_JS(void, convscope_session_install_hook, (), {
    var hook = window.convscope = window.convscope || {};
    hook.view = function() { return JSON.parse(UTF8ToString(Module['_convscope_view_json']())); };
    hook.debugViewState = function(query) {
        return JSON.parse(Module['ccall']('convscope_debug_view_state', 'string', ['string'], [String(query)]));
    };
    hook.setTheme = function(name) { Module['_convscope_set_theme'](name === 'light' ? 1 : 0); };
    hook.noteModelSource = function(url) {
        url = String(url || '');
        var length = lengthBytesUTF8(url) + 1;
        var pointer = _malloc(length);
        if (!pointer) return;
        stringToUTF8(url, pointer, length);
        Module['_convscope_note_model_source'](pointer);
        _free(pointer);
    };
    // Faults on purpose, in the next frame, to test recovery: 'exception'
    // (a C++ exception), 'bad_alloc' (an allocation larger than memory can
    // grow to), 'trap' (WASM unreachable), 'abort' (abort()).
    hook.debugFault = function(kind) {
        var kinds = {exception: 1, bad_alloc: 2, trap: 3, abort: 4};
        Module['_convscope_debug_fault'](kinds[kind] || 0);
    };
});

namespace convscope::platform {
namespace {

struct Session {
    ui::ViewState requested;        // from the page's query; cleared field by field once applied
    bool requested_pending = false;
    int requested_wait_frames = 0;  // frames waited for the sample images
    std::string pending_model_source;  // set by the page just before it opens fetched bytes
    const void* seen_file = nullptr;   // the last file the app received, to notice a new open
    const void* seen_model = nullptr;
    std::string model_url;             // where the model shown came from; empty for local files
    std::string written_query;
    bool light = false;
    bool theme_written = false;
    int fault = 0;
    uint64_t caught_faults = 0;
    std::string last_fault;
};

Session session;

// Sample images appear as "sample:<index>" in links; the user's own
// pictures cannot be shared and are left out.
constexpr const char* sample_prefix = "sample:";

ui::ViewState shown_view(ui::App& app) {
    ui::ViewState view;
    view.model_url = session.model_url;
    const ui::Inspection& inspection = app.state().inspection();
    const Model* model = inspection.model();
    const int layer = inspection.selected_layer();
    if (model && layer >= 0 && layer < static_cast<int>(model->layers.size())) {
        view.layer = model->layers[static_cast<size_t>(layer)].name;
        if (inspection.selected_kernels()) {
            view.kernel = static_cast<int>(inspection.kernel());
            view.channel = inspection.input_channel() >= 0 ? static_cast<int>(inspection.input_channel()) : -1;
        }
    }
    const int image = inspection.current_image();
    if (image >= 0 && image < static_cast<int>(inspection.images().size())) {
        const ui::InspectImage& shown = inspection.images()[static_cast<size_t>(image)];
        if (shown.sample_index >= 0) view.image = sample_prefix + std::to_string(shown.sample_index);
    }
    view.panel = app.main_panel();
    return view;
}

// Notices opens: a new model from the file the page just fetched keeps its
// URL; any other new model (a dropped file) has none. A failed open keeps
// the model and its URL.
void follow_model_source(ui::App& app) {
    const void* file = app.state().last_file();
    const void* model = app.state().model().get();
    if (file == session.seen_file && model == session.seen_model) return;
    if (model != session.seen_model) {
        session.model_url = file == session.seen_file ? session.model_url : session.pending_model_source;
    }
    if (file != session.seen_file) session.pending_model_source.clear();
    session.seen_file = file;
    session.seen_model = model;
}

// Applies what the link asked for once its model is open: the selection
// through the inspector's command interface, the panel through the App.
void apply_requested_view(ui::App& app) {
    if (!session.requested_pending) return;
    ui::ViewState& wanted = session.requested;
    if (!wanted.model_url.empty() && session.model_url != wanted.model_url) {
        // Still loading, or another model was opened instead (the link's
        // fetch failed): then the link's view no longer applies.
        if (app.state().model()) session.requested_pending = false;
        return;
    }
    ui::Inspection& inspection = app.state().inspection();
    if (!inspection.model()) {
        if (wanted.model_url.empty() && wanted.layer.empty() && wanted.image.empty()) {
            // Nothing to wait for: only a panel, or nothing at all.
            if (!wanted.panel.empty()) app.state().request_panel(wanted.panel);
            session.requested_pending = false;
        }
        return;
    }
    const bool wants_sample = wanted.image.rfind(sample_prefix, 0) == 0;
    // The bundled samples arrive shortly after start; wait a little for them.
    if (wants_sample && !inspection.samples() && ++session.requested_wait_frames < 600) return;

    nlohmann::json command = nlohmann::json::object();
    if (!wanted.layer.empty()) command["layer"] = wanted.layer;
    if (wanted.kernel >= 0) command["kernel"] = wanted.kernel;
    if (wanted.channel >= 0) command["channel"] = wanted.channel;
    if (wants_sample && inspection.samples()) {
        const std::string index = wanted.image.substr(std::char_traits<char>::length(sample_prefix));
        char* end = nullptr;
        const long long sample = std::strtoll(index.c_str(), &end, 10);
        if (end && *end == '\0' && !index.empty() && sample >= 0) command["sample"] = sample;
    }
    session.requested_pending = false;
    // After the model is open, so the panel the link names wins over any
    // panel the app brings forward for a new model.
    if (!wanted.panel.empty()) app.state().request_panel(wanted.panel);
    if (command.empty()) return;
    const std::string problem = ui::apply_inspect_command(inspection, command.dump());
    if (!problem.empty()) app.state().report_error("The link's view could not be restored: " + problem);
}

void run_debug_fault(int kind) {
    switch (kind) {
    case 1: throw std::runtime_error("debug fault: an exception thrown inside a frame");
    case 2: {
        // More than the 4 GB wasm32 can address: operator new throws.
        std::vector<uint8_t> huge;
        huge.reserve(size_t(-1) / 2);
        break;
    }
    case 3: __builtin_trap();
    case 4: std::abort();
    default: break;
    }
}

}  // namespace

void start_browser_session(ui::App& app) {
    install_webgl_heatmap_renderer();
    convscope_session_install_hook();
    session.light = convscope_session_stored_theme() != 0;
    ui::set_theme(session.light ? ui::Theme::light : ui::Theme::dark);
    convscope_session_show_theme(session.light ? 1 : 0, 0);
    if (char* query = convscope_session_read_query()) {
        session.requested = ui::parse_view_state(query);
        std::free(query);
        session.requested_pending = true;
        // The address keeps the link's view until the app shows something else.
        session.written_query = ui::format_view_state(session.requested);
    }
}

void update_browser_session(ui::App& app) {
    const int fault = session.fault;
    session.fault = 0;
    run_debug_fault(fault);

    draw_heatmap_debug_windows();
    follow_model_source(app);
    apply_requested_view(app);

    ui::apply_theme_change();
    const bool light = ui::theme() == ui::Theme::light;
    if (light != session.light || !session.theme_written) {
        convscope_session_show_theme(light ? 1 : 0, session.theme_written ? 1 : 0);
        session.light = light;
        session.theme_written = true;
    }
    // While a link's view is still being applied, the address keeps it.
    if (session.requested_pending) return;
    const std::string query = ui::format_view_state(shown_view(app));
    if (query != session.written_query) {
        session.written_query = query;
        convscope_session_replace_query(query.c_str());
    }
}

void finish_browser_frame() { end_heatmap_frame(); }

void report_frame_failure(ui::App& app, const char* what, const char* message) {
    ++session.caught_faults;
    session.last_fault = std::string(what) + ": " + message;
    std::fprintf(stderr, "convscope: %s\n", session.last_fault.c_str());
    // Ends every window, child, tab bar and style push the failed code left
    // open, so ImGui::Render() can still close the frame.
    if (ImGui::GetCurrentContext() && ImGui::GetCurrentContext()->WithinFrameScope) {
        ImGui::ErrorCheckEndFrameRecover(nullptr);
    }
    try {
        app.state().report_error("Internal error while " + std::string(what) + " (" + message +
                                 "); the app recovered, but the last action may be incomplete.");
    } catch (...) {
        // Out of memory even for the message: the status line keeps the old one.
    }
}

}  // namespace convscope::platform

// ---- exported for the page and the test hook ---------------------------------------

extern "C" {

// The page calls this just before it opens bytes fetched from `url`
// (?model=URL), so the link can name the model.
EMSCRIPTEN_KEEPALIVE void convscope_note_model_source(const char* url) {
    convscope::platform::session.pending_model_source = url ? url : "";
}

EMSCRIPTEN_KEEPALIVE void convscope_set_theme(int light) {
    convscope::ui::set_theme(light ? convscope::ui::Theme::light : convscope::ui::Theme::dark);
}

EMSCRIPTEN_KEEPALIVE void convscope_debug_fault(int kind) { convscope::platform::session.fault = kind; }

// {"query", "written", "requested_pending", "theme", "caught_faults", "last_fault"}; valid until the next call.
EMSCRIPTEN_KEEPALIVE const char* convscope_view_json() {
    using convscope::platform::session;
    static std::string json;
    nlohmann::json out;
    out["query"] = session.written_query;
    out["model_url"] = session.model_url;
    out["requested_pending"] = session.requested_pending;
    out["theme"] = convscope::ui::theme() == convscope::ui::Theme::light ? "light" : "dark";
    out["caught_faults"] = session.caught_faults;
    out["last_fault"] = session.last_fault;
    json = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return json.c_str();
}

// For the e2e test of ui/view_state: parses `query` and formats the result:
// {"parsed": {...}, "formatted": "..."}; valid until the next call.
EMSCRIPTEN_KEEPALIVE const char* convscope_debug_view_state(const char* query) {
    static std::string json;
    const convscope::ui::ViewState view = convscope::ui::parse_view_state(query ? query : "");
    nlohmann::json out;
    out["parsed"] = {{"model_url", view.model_url}, {"layer", view.layer}, {"kernel", view.kernel},
                     {"channel", view.channel}, {"image", view.image}, {"panel", view.panel}};
    out["formatted"] = convscope::ui::format_view_state(view);
    json = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return json.c_str();
}

}  // extern "C"

#endif  // __EMSCRIPTEN__
