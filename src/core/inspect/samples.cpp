#include "core/inspect/samples.h"

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/formats/image.h"
#include "core/formats/registry.h"

namespace convscope {

namespace {

int64_t positive_int(const nlohmann::json& document, const char* key, const std::string& name) {
    auto it = document.find(key);
    if (it == document.end() || !it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1000000) {
        throw_format_error(name, ": /", key, ": expected a positive integer, found ",
                           it == document.end() ? std::string("nothing") : it->dump());
    }
    return it->get<int64_t>();
}

}  // namespace

SampleSet load_sample_set(ByteSpan json, ByteSpan png, const std::string& name) {
    nlohmann::json document = nlohmann::json::parse(json.data, json.data + json.size, nullptr, false);
    if (document.is_discarded() || !document.is_object()) throw_format_error(name, ": not a JSON object");
    SampleSet set;
    set.tile_width = positive_int(document, "tile_width", name);
    set.tile_height = positive_int(document, "tile_height", name);
    set.columns = positive_int(document, "columns", name);
    set.count = positive_int(document, "count", name);
    const auto labels = document.find("labels");
    if (labels == document.end() || !labels->is_array() || static_cast<int64_t>(labels->size()) != set.count) {
        throw_format_error(name, ": /labels: expected ", set.count, " labels, found ",
                           labels == document.end() || !labels->is_array() ? std::string("no list") : concat(labels->size()));
    }
    for (size_t i = 0; i < labels->size(); ++i) {
        const nlohmann::json& label = (*labels)[i];
        if (!label.is_number_integer() || label.get<int64_t>() < 0 || label.get<int64_t>() > 100000) {
            throw_format_error(name, ": /labels/", i, ": expected a class index, found ", label.dump());
        }
        set.labels.push_back(label.get<int>());
    }
    const auto names = document.find("class_names");
    if (names != document.end() && names->is_array()) {
        for (const nlohmann::json& entry : *names) set.class_names.push_back(entry.is_string() ? entry.get<std::string>() : entry.dump());
    }
    set.sprite = decode_image(png, name + " sprite", 1);
    const int64_t rows = (set.count + set.columns - 1) / set.columns;
    if (set.columns * set.tile_width > set.sprite.shape()[1] || rows * set.tile_height > set.sprite.shape()[0]) {
        throw_format_error(name, ": ", set.count, " tiles of ", set.tile_width, "x", set.tile_height, " in ", set.columns,
                           " columns need ", set.columns * set.tile_width, "x", rows * set.tile_height,
                           " pixels; the sprite is ", set.sprite.shape()[1], "x", set.sprite.shape()[0]);
    }
    return set;
}

SampleSet load_sample_set_file(const std::string& json_path) {
    FileBytes json = read_file_bytes(json_path);
    nlohmann::json document = nlohmann::json::parse(json->begin(), json->end(), nullptr, false);
    std::string image = "fashion_samples.png";
    if (document.is_object() && document.contains("image") && document["image"].is_string()) image = document["image"].get<std::string>();
    if (image.find('/') != std::string::npos || image.find('\\') != std::string::npos) {
        throw_format_error(json_path, ": /image: expected a file name beside the JSON, found '", image, "'");
    }
    const size_t slash = json_path.find_last_of('/');
    const std::string folder = slash == std::string::npos ? std::string() : json_path.substr(0, slash + 1);
    FileBytes png = read_file_bytes(folder + image);
    return load_sample_set(ByteSpan(json->data(), json->size()), ByteSpan(png->data(), png->size()), json_path);
}

Tensor SampleSet::tile(int64_t index) const {
    if (index < 0 || index >= count) throw Error(concat("sample ", index, " requested; the set has samples 0..", count - 1));
    const int64_t column = index % columns, row = index / columns;
    const int64_t sprite_width = sprite.shape()[1];
    Tensor out = Tensor::zeros(DType::f32, {tile_height, tile_width, 1});
    float* dst = out.mutable_f32();
    const float* src = sprite.f32();
    for (int64_t y = 0; y < tile_height; ++y) {
        for (int64_t x = 0; x < tile_width; ++x) {
            dst[y * tile_width + x] = src[(row * tile_height + y) * sprite_width + column * tile_width + x];
        }
    }
    return out;
}

std::string SampleSet::class_name(int label) const {
    if (label >= 0 && static_cast<size_t>(label) < class_names.size()) return class_names[static_cast<size_t>(label)];
    return concat("class ", label);
}

int64_t SampleSet::first_of_class(int label) const {
    for (size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] == label) return static_cast<int64_t>(i);
    }
    return -1;
}

}  // namespace convscope
