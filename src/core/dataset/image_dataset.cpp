#include "core/dataset/image_dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/image.h"
#include "core/formats/npy.h"
#include "core/formats/zip.h"

namespace convscope {

namespace {

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string normalised_class_name(const std::string& name) {
    std::string out;
    for (char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    std::string part;
    for (char c : path) {
        if (c == '/' || c == '\\') {
            if (!part.empty() && part != ".") parts.push_back(part);
            part.clear();
        } else {
            part += c;
        }
    }
    if (!part.empty()) parts.push_back(part);
    return parts;
}

// [H, W, C] 0..255 float from one image of an array set, whatever its layout.
Tensor array_image(const Tensor& images, size_t index) {
    const Shape& s = images.shape();
    int64_t h = 0, w = 0, c = 1;
    bool channels_first = false;
    if (s.size() == 3) {
        h = s[1];
        w = s[2];
    } else if (s[3] >= 1 && s[3] <= 4) {
        h = s[1]; w = s[2]; c = s[3];
    } else {
        channels_first = true;
        c = s[1]; h = s[2]; w = s[3];
    }
    uint64_t per_image = static_cast<uint64_t>(h * w * c);
    uint64_t base = per_image * index;
    // Float arrays in [0, 1] are scaled to 0..255 like integer pictures, so
    // the model's preprocessing applies to both the same way.
    bool unit_range = images.dtype() == DType::f32 || images.dtype() == DType::f64 || images.dtype() == DType::f16;
    if (unit_range) {
        double peak = 0.0;
        for (uint64_t i = 0; i < per_image; ++i) peak = std::max(peak, images.value_at(base + i));
        unit_range = peak <= 1.0;
    }
    std::vector<float> values(per_image);
    for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
            for (int64_t k = 0; k < c; ++k) {
                uint64_t source = channels_first ? static_cast<uint64_t>((k * h + y) * w + x)
                                                 : static_cast<uint64_t>((y * w + x) * c + k);
                double v = images.value_at(base + source);
                values[static_cast<size_t>((y * w + x) * c + k)] = static_cast<float>(unit_range ? v * 255.0 : v);
            }
        }
    }
    return Tensor::from_floats({h, w, c}, std::move(values));
}

bool image_shaped(const Shape& s) {
    if (s.size() == 3) return s[0] >= 1 && s[1] >= 1 && s[2] >= 1;
    if (s.size() != 4 || s[0] < 1) return false;
    return (s[3] >= 1 && s[3] <= 4) || (s[1] >= 1 && s[1] <= 4);
}

}  // namespace

bool is_image_file_name(const std::string& name) {
    std::string n = lower(name);
    for (const char* ext : {".png", ".jpg", ".jpeg", ".bmp", ".gif"}) {
        size_t length = std::char_traits<char>::length(ext);
        if (n.size() > length && n.compare(n.size() - length, length, ext) == 0) return true;
    }
    return false;
}

const std::string& ImageDataset::name(size_t index) const {
    if (index >= entries_.size()) throw Error(concat(source_, ": image ", index, " of ", entries_.size(), " asked for"));
    return entries_[index].name;
}

int ImageDataset::label(size_t index) const {
    if (index >= entries_.size()) throw Error(concat(source_, ": image ", index, " of ", entries_.size(), " asked for"));
    return entries_[index].label;
}

Tensor ImageDataset::image(size_t index) const {
    if (index >= entries_.size()) throw Error(concat(source_, ": image ", index, " of ", entries_.size(), " asked for"));
    return decode_(index);
}

std::string ImageDataset::describe() const {
    std::string text = concat(source_, ": ", entries_.size(), entries_.size() == 1 ? " image" : " images");
    if (labelled()) text += concat(" in ", class_names_.size(), class_names_.size() == 1 ? " class" : " classes");
    else text += ", unlabelled";
    return text;
}

void ImageDataset::label_by_folder(const std::vector<std::string>& relative_paths) {
    std::vector<std::vector<std::string>> parts;
    parts.reserve(relative_paths.size());
    for (const std::string& path : relative_paths) parts.push_back(split_path(path));
    // A zipped folder: every member sits inside one top-level folder.
    bool common_top = !parts.empty();
    for (const auto& p : parts) {
        if (p.size() < 2 || p[0] != parts[0][0]) { common_top = false; break; }
    }
    bool deeper = false;
    for (const auto& p : parts) deeper = deeper || p.size() >= 3;
    if (common_top && deeper) {
        for (auto& p : parts) p.erase(p.begin());
    }
    std::set<std::string> folders;
    for (const auto& p : parts) if (p.size() >= 2) folders.insert(p[0]);
    class_names_.assign(folders.begin(), folders.end());
    std::map<std::string, int> index;
    for (size_t i = 0; i < class_names_.size(); ++i) index[class_names_[i]] = static_cast<int>(i);
    entries_.clear();
    for (size_t i = 0; i < parts.size(); ++i) {
        Entry entry;
        entry.name = relative_paths[i];
        if (parts[i].size() >= 2) entry.label = index[parts[i][0]];
        entries_.push_back(std::move(entry));
    }
}

ImageDataset ImageDataset::from_folder(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code error;
    if (!fs::is_directory(path, error)) throw Error(concat(path, ": not a folder"));
    std::vector<std::string> relative;
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, error), end;
    if (error) throw Error(concat(path, ": cannot list the folder (", error.message(), ")"));
    for (; it != end; it.increment(error)) {
        if (error) throw Error(concat(path, ": cannot list the folder (", error.message(), ")"));
        if (it.depth() > limits::max_nesting_depth) throw LimitError(concat(path, ": folders nested deeper than ", limits::max_nesting_depth));
        if (!it->is_regular_file(error) || !is_image_file_name(it->path().filename().string())) continue;
        relative.push_back(fs::relative(it->path(), path, error).generic_string());
        if (relative.size() > limits::max_layers * 10) throw LimitError(concat(path, ": more than ", limits::max_layers * 10, " images"));
    }
    std::sort(relative.begin(), relative.end());
    if (relative.empty()) throw Error(concat(path, ": no PNG/JPEG/BMP/GIF images in the folder"));
    ImageDataset set;
    set.source_ = fs::path(path).filename().string();
    if (set.source_.empty()) set.source_ = path;
    set.source_ += " (folder)";
    set.label_by_folder(relative);
    std::string root = path;
    set.decode_ = [root, names = relative](size_t i) {
        std::string full = root + "/" + names[i];
        FileBytes bytes = read_file_bytes(full);
        return decode_image(ByteSpan(bytes->data(), bytes->size()), full);
    };
    return set;
}

ImageDataset ImageDataset::from_zip(const FileBytes& bytes, const std::string& name) {
    auto archive = std::make_shared<ZipArchive>(ZipArchive::open(bytes, name));
    std::vector<std::string> members;
    for (const ZipEntry& entry : archive->entries()) {
        if (entry.is_directory() || !is_image_file_name(entry.name)) continue;
        // macOS archives carry resource forks beside every picture.
        if (entry.name.rfind("__MACOSX/", 0) == 0 || split_path(entry.name).back().rfind("._", 0) == 0) continue;
        members.push_back(entry.name);
    }
    std::sort(members.begin(), members.end());
    if (members.empty()) throw Error(concat(name, ": the archive holds no PNG/JPEG/BMP/GIF images"));
    ImageDataset set;
    set.source_ = name + " (zip)";
    set.label_by_folder(members);
    set.decode_ = [archive, name, members](size_t i) {
        ZipMemberBytes member = archive->view(members[i]);
        return decode_image(member.span, name + ": " + members[i]);
    };
    return set;
}

ImageDataset ImageDataset::from_files(std::vector<std::pair<std::string, FileBytes>> files) {
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    auto kept = std::make_shared<std::vector<std::pair<std::string, FileBytes>>>();
    for (auto& file : files) if (is_image_file_name(file.first)) kept->push_back(std::move(file));
    if (kept->empty()) throw Error("the dropped files hold no PNG/JPEG/BMP/GIF images");
    std::vector<std::string> names;
    for (const auto& file : *kept) names.push_back(file.first);
    ImageDataset set;
    set.source_ = concat(kept->size(), " dropped files");
    set.label_by_folder(names);
    set.decode_ = [kept](size_t i) {
        const auto& [path, bytes] = (*kept)[i];
        return decode_image(ByteSpan(bytes->data(), bytes->size()), path);
    };
    return set;
}

ImageDataset ImageDataset::from_npy(const FileBytes& bytes, const std::string& name) {
    Tensor images = npy::read(bytes);
    if (!image_shaped(images.shape())) {
        throw Error(concat(name, ": expected images [N, H, W], [N, H, W, C] or [N, C, H, W] with C in 1..4, got ",
                           shape_to_string(images.shape())));
    }
    ImageDataset set;
    set.source_ = name + " (npy)";
    set.entries_.resize(static_cast<size_t>(images.shape()[0]));
    for (size_t i = 0; i < set.entries_.size(); ++i) set.entries_[i].name = concat(name, "[", i, "]");
    set.decode_ = [images](size_t i) { return array_image(images, i); };
    return set;
}

ImageDataset ImageDataset::from_npz(const FileBytes& bytes, const std::string& name) {
    ZipArchive archive = ZipArchive::open(bytes, name);
    std::map<std::string, Tensor> arrays;
    for (const ZipEntry& entry : archive.entries()) {
        if (entry.is_directory() || entry.name.size() < 5 || entry.name.compare(entry.name.size() - 4, 4, ".npy") != 0) continue;
        arrays[entry.name.substr(0, entry.name.size() - 4)] = npy::read(archive.read(entry.name));
    }
    const Tensor* images = nullptr;
    std::string image_key;
    for (const char* key : {"images", "x", "x_test", "X", "x_train"}) {
        auto it = arrays.find(key);
        if (it != arrays.end() && image_shaped(it->second.shape())) { images = &it->second; image_key = key; break; }
    }
    for (auto it = arrays.begin(); !images && it != arrays.end(); ++it) {
        if (image_shaped(it->second.shape())) { images = &it->second; image_key = it->first; }
    }
    if (!images) throw Error(concat(name, ": no image-shaped array ([N, H, W], [N, H, W, C], [N, C, H, W]) among ", arrays.size(), " arrays"));
    const Tensor* labels = nullptr;
    for (const char* key : {"labels", "y", "y_test", "Y", "y_train"}) {
        auto it = arrays.find(key);
        if (it != arrays.end()) { labels = &it->second; break; }
    }
    int64_t count = images->shape()[0];
    ImageDataset set;
    set.source_ = name + " (npz)";
    set.entries_.resize(static_cast<size_t>(count));
    for (size_t i = 0; i < set.entries_.size(); ++i) set.entries_[i].name = concat(name, ":", image_key, "[", i, "]");
    if (labels) {
        if (labels->rank() != 1 || labels->shape()[0] != count) {
            throw Error(concat(name, ": labels have shape ", shape_to_string(labels->shape()), "; expected (", count, ",)"));
        }
        int64_t top = -1;
        for (int64_t i = 0; i < count; ++i) {
            double v = labels->value_at(static_cast<uint64_t>(i));
            if (v < 0 || v != static_cast<double>(static_cast<int64_t>(v)) || v > 1e6) {
                throw Error(concat(name, ": label ", i, " is ", v, "; labels must be class indices 0..N"));
            }
            set.entries_[static_cast<size_t>(i)].label = static_cast<int>(v);
            top = std::max(top, static_cast<int64_t>(v));
        }
        for (int64_t c = 0; c <= top; ++c) set.class_names_.push_back(std::to_string(c));
    }
    Tensor kept = *images;
    set.decode_ = [kept](size_t i) { return array_image(kept, i); };
    return set;
}

ImageDataset ImageDataset::open(const std::string& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) return from_folder(path);
    FileBytes bytes = read_file_bytes(path);
    std::string file = std::filesystem::path(path).filename().string();
    std::string l = lower(file);
    auto ends = [&](const char* ext) {
        size_t n = std::char_traits<char>::length(ext);
        return l.size() >= n && l.compare(l.size() - n, n, ext) == 0;
    };
    if (ends(".npz")) return from_npz(bytes, file);
    if (ends(".npy")) return from_npy(bytes, file);
    if (looks_like_zip(ByteSpan(bytes->data(), bytes->size()))) return from_zip(bytes, file);
    if (is_image_file_name(file)) return from_files({{file, bytes}});
    throw Error(concat(path, ": not a folder, .zip, .npy, .npz or image file"));
}

std::vector<int> match_class_names(const std::vector<std::string>& dataset_classes,
                                   const std::vector<std::string>& model_classes, int64_t model_class_count) {
    std::vector<int> mapping(dataset_classes.size(), -1);
    std::map<std::string, int> by_name;
    for (size_t i = 0; i < model_classes.size(); ++i) by_name.emplace(normalised_class_name(model_classes[i]), static_cast<int>(i));
    bool any = false;
    for (size_t i = 0; i < dataset_classes.size(); ++i) {
        auto it = by_name.find(normalised_class_name(dataset_classes[i]));
        if (it != by_name.end() && !it->first.empty()) { mapping[i] = it->second; any = true; }
    }
    if (any) return mapping;
    // Numbered folders ("0" .. "9") are class indices.
    for (size_t i = 0; i < dataset_classes.size(); ++i) {
        const std::string& text = dataset_classes[i];
        if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
            return std::vector<int>(dataset_classes.size(), -1);
        }
        int64_t value = std::stoll(text);
        if (value >= model_class_count) return std::vector<int>(dataset_classes.size(), -1);
        mapping[i] = static_cast<int>(value);
    }
    return mapping;
}

}  // namespace convscope
