// Several files resolved into one model; the order of resolution is in
// bundle.h.
#include "core/formats/bundle.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/keras.h"
#include "core/formats/tfjs_layers.h"
#include "core/formats/zip.h"

namespace convscope {

namespace {

std::string base_name(const std::string& name) {
    size_t slash = name.find_last_of("/\\");
    return slash == std::string::npos ? name : name.substr(slash + 1);
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string text_of(const FileBytes& bytes) { return std::string(bytes->begin(), bytes->end()); }

bool is_hdf5_name(const std::string& name) {
    std::string l = lower(name);
    return ends_with(l, ".h5") || ends_with(l, ".hdf5");
}

// A zip's members as files; refuses names that would leave the archive.
std::vector<NamedFile> unpack_zip(const NamedFile& zip) {
    ZipArchive archive = ZipArchive::open(zip.bytes, zip.name);
    std::vector<NamedFile> members;
    for (const std::string& name : archive.names()) {
        if (name.empty() || name.back() == '/') continue;  // folders
        if (name[0] == '/' || name[0] == '\\' || name.find("..") != std::string::npos) {
            throw_format_error(zip.name, ": member '", name, "' names a path outside the archive");
        }
        if (base_name(name).rfind("._", 0) == 0 || name.rfind("__MACOSX/", 0) == 0) continue;  // macOS metadata
        members.push_back({name, archive.read(name)});
    }
    return members;
}

std::vector<std::string> class_names_of(const std::string& text) {
    std::vector<std::string> names;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) names.push_back(line);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return names;
}

// Teachable Machine writes labels.txt as "0 cat", "1 dog": the leading
// index is its own, not part of the name.
std::string strip_index(const std::string& line, size_t index) {
    std::string prefix = std::to_string(index) + " ";
    return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : line;
}

std::string names_of(const std::vector<NamedFile>& files) {
    std::string out;
    for (const NamedFile& file : files) out += (out.empty() ? "" : ", ") + base_name(file.name);
    return out.empty() ? "no files" : out;
}

Model resolve(const std::vector<NamedFile>& files) {
    std::vector<const NamedFile*> json_files, hdf5_files, others;
    for (const NamedFile& file : files) {
        std::string l = lower(base_name(file.name));
        if (l == "labels.txt" || ends_with(l, ".bin")) continue;
        if (ends_with(l, ".json")) json_files.push_back(&file);
        else if (is_hdf5_name(l)) hdf5_files.push_back(&file);
        else others.push_back(&file);
    }
    for (const NamedFile* json : json_files) {
        std::string text = text_of(json->bytes);
        if (!tfjs::looks_like_layers_model(text)) continue;
        auto shards = [&files](const std::string& path) -> std::optional<FileBytes> {
            std::string wanted = base_name(path);
            for (const NamedFile& file : files) {
                if (base_name(file.name) == wanted) return file.bytes;
            }
            return std::nullopt;
        };
        Model model = tfjs::open_layers_model(text, base_name(json->name), shards);
        model.metadata["bundle"] = "architecture and weights manifest from " + base_name(json->name);
        return model;
    }
    if (!json_files.empty()) {
        const NamedFile& json = *json_files.front();
        if (hdf5_files.empty()) {
            throw_format_error(base_name(json.name), " is an architecture without weights: give its weights .h5 too (given: ",
                               names_of(files), ")");
        }
        if (hdf5_files.size() > 1) {
            throw_format_error("several .h5 files given with ", base_name(json.name), ": give one weights file");
        }
        const NamedFile& weights = *hdf5_files.front();
        Model model = keras::open_config_with_weights(text_of(json.bytes), base_name(json.name), weights.bytes,
                                                      base_name(weights.name));
        model.metadata["bundle"] = "architecture from " + base_name(json.name) + ", weights from " + base_name(weights.name);
        return model;
    }
    std::vector<const NamedFile*> models = hdf5_files;
    models.insert(models.end(), others.begin(), others.end());
    if (models.empty()) throw_format_error("no model file among the files given (", names_of(files), ")");
    if (models.size() > 1) {
        throw_format_error("several model files given (", names_of(files), "): give one model, or an architecture JSON with its weights");
    }
    Model model = open_model(models.front()->bytes, base_name(models.front()->name));
    if (files.size() > 1) model.metadata["bundle"] = "model from " + base_name(models.front()->name);
    return model;
}

}  // namespace

Model open_model_bundle(const std::vector<NamedFile>& given) {
    if (given.empty()) throw_format_error("no files given");
    if (given.size() > limits::max_layers) throw_limit_error("more than ", limits::max_layers, " files given");
    std::vector<NamedFile> files = given;
    if (files.size() == 1 && looks_like_zip(ByteSpan(files[0].bytes->data(), files[0].bytes->size())) &&
        !keras::looks_like_keras_v3(ByteSpan(files[0].bytes->data(), files[0].bytes->size()))) {
        std::string zip_name = base_name(files[0].name);
        files = unpack_zip(files[0]);
        if (files.empty()) throw_format_error(zip_name, ": an empty archive");
    }
    Model model = resolve(files);
    for (const NamedFile& file : files) {
        if (lower(base_name(file.name)) != "labels.txt") continue;
        std::vector<std::string> names = class_names_of(text_of(file.bytes));
        std::string joined;
        for (size_t i = 0; i < names.size(); ++i) joined += (i ? "\n" : "") + strip_index(names[i], i);
        model.metadata["class_names"] = joined;
        std::string& bundle = model.metadata["bundle"];
        bundle += (bundle.empty() ? "" : "; ") + std::string("class names from ") + base_name(file.name);
    }
    return model;
}

Model open_model_files(const std::vector<std::string>& paths) {
    if (paths.size() == 1 && !std::filesystem::is_directory(paths[0])) {
        FileBytes bytes = read_file_bytes(paths[0]);
        ByteSpan span(bytes->data(), bytes->size());
        if (!looks_like_zip(span) || keras::looks_like_keras_v3(span)) {
            return open_model_in_place(read_file_bytes_writable(paths[0]), paths[0]);
        }
        return open_model_bundle({{paths[0], bytes}});
    }
    std::vector<NamedFile> files;
    for (const std::string& path : paths) {
        if (std::filesystem::is_directory(path)) {
            std::vector<std::string> entries;
            for (const auto& entry : std::filesystem::directory_iterator(path)) {
                if (entry.is_regular_file()) entries.push_back(entry.path().string());
            }
            std::sort(entries.begin(), entries.end());
            for (const std::string& entry : entries) files.push_back({entry, read_file_bytes(entry)});
        } else {
            files.push_back({path, read_file_bytes(path)});
        }
    }
    return open_model_bundle(files);
}

}  // namespace convscope
