// [SECTION] The inspector's browser glue: window.convscope.inspect(command)
// (select layer/kernel/images from tests, embedders and URL state),
// window.convscope.loadSamples(json, png) (the bundled sample images the page
// fetches at start) and browser downloads for exported .npy/.png files.
// Installed from a static initialiser so browser_app.cpp needs no change.
#ifdef __EMSCRIPTEN__

#include <cstdint>
#include <string>
#include <vector>

#include <emscripten.h>

#include "ui/app_state.h"

// Saves bytes as a file through a temporary blob: URL and an <a download>.
EM_JS(void, convscope_browser_download, (const char* name, const char* mime, const uint8_t* data, size_t size), {
    var start = data >>> 0;
    var bytes = HEAPU8.slice(start, start + (size >>> 0));
    var blob = new Blob([bytes], {type: UTF8ToString(mime)});
    var url = URL.createObjectURL(blob);
    var link = document.createElement('a');
    link.href = url;
    link.download = UTF8ToString(name);
    link.style.display = 'none';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function() { URL.revokeObjectURL(url); }, 30000);
});

EM_JS(void, convscope_install_inspect_hook, (), {
    var hook = window.convscope = window.convscope || {};
    // Applies a selection ({layer, kernel, channel, sample, samples, image,
    // compare, compare_images, compare_kernels, layer_output, invert, scale,
    // mean, std}); returns '' or what was wrong.
    hook.inspect = function(command) {
        var text = typeof command === 'string' ? command : JSON.stringify(command);
        return Module['ccall']('convscope_inspect', 'string', ['string'], [text]);
    };
    // The sample set: description JSON and sprite PNG bytes (Uint8Array).
    hook.loadSamples = function(json, png) {
        var jsonPointer = Module['_malloc'](Math.max(1, json.length)) >>> 0;
        var pngPointer = Module['_malloc'](Math.max(1, png.length)) >>> 0;
        try {
            HEAPU8.set(json, jsonPointer);
            HEAPU8.set(png, pngPointer);
            Module['_convscope_load_samples'](jsonPointer, json.length, pngPointer, png.length);
        } finally {
            Module['_free'](jsonPointer);
            Module['_free'](pngPointer);
        }
    };
});

namespace {

void download_to_browser(const convscope::ui::DownloadRequest& request) {
    convscope_browser_download(request.name.c_str(), request.mime.c_str(), request.bytes.data(), request.bytes.size());
}

// Runs while the module starts, before main(): the page's hook object exists
// by then (web/app.js creates it before loading convscope.js).
const bool installed = [] {
    convscope::ui::set_download_sink(download_to_browser);
    convscope_install_inspect_hook();
    return true;
}();

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* convscope_inspect(const char* command) {
    static std::string result;
    convscope::ui::AppState* app = convscope::ui::AppState::active();
    result = app ? app->inspect_command(command ? command : "") : std::string("the app is not running");
    return result.c_str();
}

EMSCRIPTEN_KEEPALIVE void convscope_load_samples(const uint8_t* json, size_t json_size, const uint8_t* png, size_t png_size) {
    convscope::ui::AppState* app = convscope::ui::AppState::active();
    if (!app) return;
    app->load_samples(std::vector<uint8_t>(json, json + json_size), std::vector<uint8_t>(png, png + png_size));
}

}  // extern "C"

#endif  // __EMSCRIPTEN__
