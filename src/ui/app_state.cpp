#include "ui/app_state.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>

#include <nlohmann/json.hpp>

#include "core/base/crc32.h"
#include "core/base/error.h"
#include "core/formats/npy.h"
#include "core/inspect/image_export.h"
#include "ui/explanations_hook.h"
#include "ui/inspection_hook.h"

namespace convscope::ui {

// The Messages panel keeps the most recent entries only, so a user who drops
// files all day does not grow the tab's memory without bound.
static constexpr size_t max_log_entries = 500;

std::string describe_size(uint64_t bytes) {
    char short_form[32];
    if (bytes >= 1024ull * 1024) {
        std::snprintf(short_form, sizeof short_form, "%.2f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    } else if (bytes >= 1024) {
        std::snprintf(short_form, sizeof short_form, "%.1f KB", static_cast<double>(bytes) / 1024.0);
    } else {
        std::snprintf(short_form, sizeof short_form, "%llu bytes", static_cast<unsigned long long>(bytes));
        return short_form;
    }
    // Group the exact count in thousands so it can be compared with `ls -l`.
    std::string digits = std::to_string(bytes);
    std::string grouped;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
        grouped += digits[i];
    }
    return std::string(short_form) + " (" + grouped + " bytes)";
}

static std::string describe_model(const Model& model) {
    std::string text = std::string(model.format_name()) + ", " + std::to_string(model.layers.size()) + " layers";
    if (!model.has_architecture) text += " (weights only)";
    return text;
}

namespace {

DownloadSink download_sink = nullptr;

// Picture formats stb_image decodes, by their first bytes.
bool looks_like_picture(const std::vector<uint8_t>& bytes) {
    auto starts = [&](std::initializer_list<uint8_t> magic) {
        return bytes.size() >= magic.size() && std::equal(magic.begin(), magic.end(), bytes.begin());
    };
    return starts({0x89, 'P', 'N', 'G'}) || starts({0xFF, 0xD8, 0xFF}) || starts({'B', 'M'}) || starts({'G', 'I', 'F', '8'});
}

bool has_extension(const std::string& name, const std::string& extension) {
    if (name.size() < extension.size()) return false;
    for (size_t i = 0; i < extension.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(name[name.size() - extension.size() + i])) != extension[i]) return false;
    }
    return true;
}

}  // namespace

void set_download_sink(DownloadSink sink) { download_sink = sink; }

static AppState* active_state = nullptr;

AppState::AppState() { active_state = this; }

AppState::~AppState() {
    if (active_state == this) active_state = nullptr;
}

AppState* AppState::active() { return active_state; }

void AppState::begin_frame() {
    ++frame_;
    inspection_.prefetch_view();
    // Enough for a small model's forward pass; bigger work spreads over frames.
    inspection_.do_work(std::chrono::milliseconds(12));
    explanations_.update(inspection_, std::chrono::milliseconds(12));
}

void AppState::load_samples(const std::vector<uint8_t>& json, const std::vector<uint8_t>& png) {
    std::string failure = inspection_.load_samples(json, png);
    if (!failure.empty()) {
        add_log(LogEntry::Kind::error, "Sample images: " + failure);
    } else {
        add_log(LogEntry::Kind::info, concat("Loaded ", inspection_.samples()->count, " sample images"));
    }
}

void AppState::request_download(DownloadRequest request) {
    ++downloads_;
    last_download_ = request.name;
    last_download_size_ = request.bytes.size();
    add_log(LogEntry::Kind::info, "Saved " + request.name + " (" + describe_size(request.bytes.size()) + ")");
    if (download_sink) download_sink(request);
}

bool AppState::take_panel_request(const char* title) {
    if (requested_panel_.empty() || requested_panel_ != title) return false;
    requested_panel_.clear();
    return true;
}

std::string AppState::inspect_command(const std::string& json) {
    std::string problem = apply_inspect_command(inspection_, json);
    if (!problem.empty()) return problem;
    nlohmann::json command = nlohmann::json::parse(json, nullptr, false);
    if (command.is_object() && command.contains("explain")) {
        problem = apply_explain_command(explanations_, command["explain"].dump());
        if (!problem.empty()) return problem;
    }
    if (command.is_object() && command.contains("panel") && command["panel"].is_string()) {
        request_panel(command["panel"].get<std::string>());
    }
    if (!command.is_object() || !command.contains("save") || !command["save"].is_string()) return {};
    const std::string what = command["save"].get<std::string>();
    const Model* model = inspection_.model();
    const auto& kernels = inspection_.selected_kernels();
    if (!model || !kernels) return "save: no convolution layer selected";
    const std::string layer = model->layers[static_cast<size_t>(inspection_.selected_layer())].name;
    auto safe = [](const std::string& name) {
        std::string out;
        for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
        while (!out.empty() && out.front() == '_') out.erase(out.begin());
        return out;
    };
    const bool png = what.size() > 4 && what.compare(what.size() - 4, 4, ".png") == 0;
    Tensor map;
    std::string base;
    ExportColorMap colors = ExportColorMap::diverging;
    if (what.rfind("kernel.", 0) == 0) {
        const int64_t channel = inspection_.input_channel() >= 0 ? inspection_.input_channel()
                                                                  : kernels->first_input_channel(inspection_.kernel());
        map = Tensor::from_floats({kernels->height, kernels->width}, kernels->slice(inspection_.kernel(), channel));
        base = concat(safe(layer), "_kernel", inspection_.kernel(), "_in", channel);
    } else if (what.rfind("response.", 0) == 0) {
        const int current = inspection_.current_image();
        const Map2D* response = inspection_.request_response(current, inspection_.selected_layer(), inspection_.kernel(),
                                                             inspection_.input_channel(), inspection_.show_layer_output);
        if (!response || response->values.empty()) return "save: the response is not computed yet";
        map = Tensor::from_floats({response->height, response->width}, response->values);
        base = concat(safe(layer), "_k", inspection_.kernel(), "_", safe(inspection_.images()[static_cast<size_t>(current)].name));
        if (inspection_.show_layer_output) colors = ExportColorMap::viridis;
    } else {
        return "save: expected response.npy, response.png, kernel.npy or kernel.png, got " + what;
    }
    if (png) {
        const int magnify = static_cast<int>(std::clamp<int64_t>(256 / std::max(map.shape()[0], map.shape()[1]), 1, 32));
        request_download({base + ".png", "image/png",
                          heatmap_png(map.f32(), static_cast<int>(map.shape()[1]), static_cast<int>(map.shape()[0]), colors, magnify)});
    } else {
        request_download({base + ".npy", "application/octet-stream", npy::write(map)});
    }
    return {};
}

void AppState::open_file(const std::string& name, std::shared_ptr<std::vector<uint8_t>> bytes) {
    if (!bytes) bytes = std::make_shared<std::vector<uint8_t>>();
    if (looks_like_picture(*bytes)) {
        try {
            inspection_.add_image_file(name, *bytes);
            status_ = name + " - " + describe_size(bytes->size()) + " - added to the images";
            error_.clear();
            add_log(LogEntry::Kind::info, "Image " + name);
        } catch (const std::exception& failure) {
            report_error(failure.what());
        }
        return;
    }
    if (has_extension(name, ".txt")) {
        inspection_.set_labels(name, std::string(bytes->begin(), bytes->end()));
        status_ = name + " - class labels for the prediction";
        error_.clear();
        add_log(LogEntry::Kind::info, "Labels " + name);
        return;
    }
    auto file = std::make_shared<ReceivedFile>();
    file->name = name;
    file->crc32 = crc32(bytes->data(), bytes->size());
    file->bytes = bytes;
    last_file_ = file;

    const std::string header = name + " - " + describe_size(file->bytes->size());
    try {
        // The bytes are this app's private copy and only their size and the
        // CRC above are used later, so a reader may rewrite them in place
        // (ONNX aligns its weights there instead of copying them).
        auto model = std::make_shared<Model>(open_model_in_place(bytes, name));
        model_ = std::move(model);
        model_file_ = file;
        inspection_.set_model(model_, name, file->crc32 ^ (static_cast<uint64_t>(file->bytes->size()) << 32));
        error_.clear();
        status_ = header + " - " + describe_model(*model_);
        add_log(LogEntry::Kind::info, "Opened " + status_);
    } catch (const std::exception& failure) {
        // The previous model (if any) stays on screen; the status says both
        // what failed and what is still shown.
        error_ = failure.what();
        status_ = header + " - could not open: " + error_;
        if (model_file_) status_ += " (still showing " + model_file_->name + ")";
        // Core errors usually start with the file name already.
        add_log(LogEntry::Kind::error, error_.rfind(name, 0) == 0 ? error_ : name + ": " + error_);
    }
}

void AppState::report_error(const std::string& message) {
    error_ = message;
    status_ = message;
    if (model_file_) status_ += " (still showing " + model_file_->name + ")";
    add_log(LogEntry::Kind::error, message);
}

bool AppState::take_open_dialog_request() {
    bool requested = open_dialog_requested_;
    open_dialog_requested_ = false;
    return requested;
}

void AppState::add_log(LogEntry::Kind kind, std::string text) {
    if (log_.size() >= max_log_entries) log_.erase(log_.begin());
    log_.push_back({kind, std::move(text)});
}

static nlohmann::json file_to_json(const ReceivedFile& file) {
    char crc_hex[9];
    std::snprintf(crc_hex, sizeof crc_hex, "%08x", static_cast<unsigned>(file.crc32));
    return {{"name", file.name}, {"size", file.bytes->size()}, {"crc32", crc_hex}};
}

std::string AppState::to_json() const {
    nlohmann::json state;
    state["frame"] = frame_;
    state["file"] = last_file_ ? file_to_json(*last_file_) : nlohmann::json(nullptr);
    if (model_) {
        state["model"] = {
            {"file", file_to_json(*model_file_)},
            {"format", model_->format_name()},
            {"producer", model_->producer},
            {"name", model_->name},
            {"layers", model_->layers.size()},
            {"parameters", model_->total_parameters()},
            {"inputs", model_->inputs.size()},
            {"outputs", model_->outputs.size()},
            {"warnings", model_->warnings.size()},
        };
    } else {
        state["model"] = nullptr;
    }
    state["error"] = error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(error_);
    state["status"] = status_;
    state["log_entries"] = log_.size();
    state["inspect"] = nlohmann::json::parse(inspection_to_json(inspection_));
    state["explain"] = nlohmann::json::parse(explanations_to_json(explanations_));
    state["downloads"] = {{"count", downloads_}, {"last", last_download_}, {"last_size", last_download_size_}};
    // File names and error messages come from untrusted files; replace
    // invalid UTF-8 instead of throwing while serialising.
    return state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace convscope::ui
