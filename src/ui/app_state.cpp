#include "ui/app_state.h"

#include <cstdio>
#include <exception>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "ui/checksum.h"

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
    std::string text = model.format + ", " + std::to_string(model.layers.size()) + " layers";
    if (!model.has_architecture) text += " (weights only)";
    return text;
}

void AppState::open_file(const std::string& name, std::shared_ptr<std::vector<uint8_t>> bytes) {
    if (!bytes) bytes = std::make_shared<std::vector<uint8_t>>();
    auto file = std::make_shared<ReceivedFile>();
    file->name = name;
    file->crc32 = crc32(bytes->data(), bytes->size());
    file->bytes = std::move(bytes);
    last_file_ = file;

    const std::string header = name + " - " + describe_size(file->bytes->size());
    try {
        auto model = std::make_shared<Model>(open_model(file->bytes, name));
        model_ = std::move(model);
        model_file_ = file;
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
            {"format", model_->format},
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
    // File names and error messages come from untrusted files; replace
    // invalid UTF-8 instead of throwing while serialising.
    return state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace convscope::ui
