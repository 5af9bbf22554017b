// What the app holds: the last file the user handed in, the model currently
// shown, the last error and the status line; plus the requests the UI makes
// of the platform (it cannot open a browser file dialog itself).
//
// The app state owns the model (a core object); panels only read it. It is
// free of ImGui so the platform's test hook can serialise it without a frame.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/formats/registry.h"
#include "core/model/model.h"
#include "ui/explanations.h"
#include "ui/inspection.h"

namespace convscope::ui {

// A file as it arrived from the page: name, bytes and a CRC-32 of the bytes
// (so a test can prove the bytes crossed JS -> WASM intact). The CRC is taken
// on arrival: opening a model may rewrite the bytes in place
// (open_model_in_place), so only their size stays meaningful.
struct ReceivedFile {
    std::string name;
    FileBytes bytes;
    uint32_t crc32 = 0;
};

// A line in the Messages panel.
struct LogEntry {
    enum class Kind { info, error };
    Kind kind;
    std::string text;
};

// A file the UI wants the browser to save (an exported array or picture).
struct DownloadRequest {
    std::string name;   // suggested file name
    std::string mime;   // "application/octet-stream", "image/png"
    std::vector<uint8_t> bytes;
};

// The platform installs where downloads go (src/platform/inspect_api.cpp);
// without one (native builds, tests) requests are only counted.
using DownloadSink = void (*)(const DownloadRequest& request);
void set_download_sink(DownloadSink sink);

class AppState {
public:
    AppState();
    ~AppState();
    AppState(const AppState&) = delete;
    AppState& operator=(const AppState&) = delete;
    // The app state the page's C API reaches (src/platform/inspect_api.cpp):
    // the most recently constructed one still alive, null when none.
    static AppState* active();

    // Hands a file to the app: records it, tries every registered reader and,
    // on success, replaces the model shown. On failure the previous model
    // stays and error() says why. Pictures (PNG/JPEG/BMP/GIF by magic) go to
    // the inspector's image list instead, and a .txt file is taken as class
    // labels (one per line) for the model's outputs.
    void open_file(const std::string& name, std::shared_ptr<std::vector<uint8_t>> bytes);

    // A failure found outside the core (e.g. the page refused a file that is
    // over the size limit before copying it).
    void report_error(const std::string& message);

    // Called once per frame by the platform before drawing: also runs the
    // inspector's queued computations for a few milliseconds.
    void begin_frame();
    uint64_t frame() const { return frame_; }

    const ReceivedFile* last_file() const { return last_file_ ? &*last_file_ : nullptr; }
    // The model shown and the file it came from; null before a model loads.
    const std::shared_ptr<const Model>& model() const { return model_; }
    const ReceivedFile* model_file() const { return model_file_ ? &*model_file_ : nullptr; }
    const std::string& error() const { return error_; }
    const std::string& status() const { return status_; }
    const std::vector<LogEntry>& log() const { return log_; }

    // The inspector: images, selection and computations for the model shown.
    Inspection& inspection() { return inspection_; }
    const Inspection& inspection() const { return inspection_; }
    // The Explanations panel's methods and filter visualisation (reads the inspector).
    Explanations& explanations() { return explanations_; }
    const Explanations& explanations() const { return explanations_; }
    // The bundled sample images (fetched by the page at start).
    void load_samples(const std::vector<uint8_t>& json, const std::vector<uint8_t>& png);

    // apply_inspect_command (ui/inspection_hook.h) plus {"save": "response.npy" | "response.png"
    // | "kernel.npy" | "kernel.png"}: exports what the response view shows
    // for the current image, kernel and channel. Returns "" or the problem.
    std::string inspect_command(const std::string& json);

    // Brings the panel with this title to the front of its tab bar (the
    // workspace takes the request when it draws that tab).
    void request_panel(const std::string& title) { requested_panel_ = title; }
    bool take_panel_request(const char* title);
    const std::string& requested_panel() const { return requested_panel_; }

    // UI -> platform: save these bytes as a file in the browser.
    void request_download(DownloadRequest request);

    // UI -> platform: "show the browser's file chooser". The platform takes
    // the request once per frame.
    void request_open_dialog() { open_dialog_requested_ = true; }
    bool take_open_dialog_request();

    // Everything above as JSON for the page's test hook
    // (window.convscope.state()); the platform adds ready and timings.
    std::string to_json() const;

private:
    void add_log(LogEntry::Kind kind, std::string text);

    uint64_t frame_ = 0;
    std::shared_ptr<ReceivedFile> last_file_;
    std::shared_ptr<ReceivedFile> model_file_;
    std::shared_ptr<const Model> model_;
    std::string error_;
    std::string status_ = "Drop a Keras .h5, .keras or ONNX file anywhere on the page, or use File > Open...";
    std::vector<LogEntry> log_;
    bool open_dialog_requested_ = false;
    Inspection inspection_;
    Explanations explanations_;
    std::string requested_panel_;
    uint64_t downloads_ = 0;
    std::string last_download_;
    uint64_t last_download_size_ = 0;
};

// Human-readable byte count: "1.43 MB (1,502,703 bytes)".
std::string describe_size(uint64_t bytes);

}  // namespace convscope::ui
