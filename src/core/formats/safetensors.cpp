// [SECTION] index: magic; header parsing; tensor entries; open_safetensors.
#include "core/formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/json_text.h"
#include "core/formats/state_dict.h"

namespace convscope {

namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t max_header_bytes = 100ull * 1024 * 1024;

uint64_t header_length(ByteSpan bytes) {
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | bytes.data[i];
    return length;
}

}  // namespace

// [SECTION] magic

bool looks_like_safetensors(ByteSpan bytes) {
    if (bytes.size < 10) return false;
    uint64_t length = header_length(bytes);
    return length >= 2 && length <= max_header_bytes && length <= bytes.size - 8 && bytes.data[8] == '{';
}

namespace {

// [SECTION] header parsing

Json parse_header(const std::string& text, const std::string& where) {
    return parse_json_text(text, where, "the header is not JSON");
}

struct DTypeInfo {
    const char* name;
    DType dtype;
    size_t size;  // bytes per element in the file
};

const DTypeInfo* find_dtype(const std::string& name) {
    static const DTypeInfo table[] = {
        {"F64", DType::f64, 8}, {"F32", DType::f32, 4}, {"F16", DType::f16, 2}, {"BF16", DType::f32, 2},
        {"I64", DType::i64, 8}, {"I32", DType::i32, 4}, {"I16", DType::i16, 2}, {"I8", DType::i8, 1},
        {"U64", DType::u64, 8}, {"U32", DType::u32, 4}, {"U16", DType::u16, 2}, {"U8", DType::u8, 1},
        {"BOOL", DType::boolean, 1},
    };
    for (const DTypeInfo& info : table) {
        if (name == info.name) return &info;
    }
    return nullptr;
}

// [SECTION] tensor entries

struct Entry {
    std::string key;
    const DTypeInfo* dtype = nullptr;
    Shape shape;
    uint64_t begin = 0;
    uint64_t end = 0;
};

Entry parse_entry(const std::string& key, const Json& value, uint64_t data_size, const std::string& where) {
    std::string at = where + ": tensor '" + key + "'";
    if (!value.is_object()) throw_format_error(at, ": its header entry is not an object");
    Entry entry;
    entry.key = key;
    auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string()) throw_format_error(at, ": no \"dtype\" string");
    entry.dtype = find_dtype(dtype->get<std::string>());
    if (!entry.dtype) throw_format_error(at, ": dtype ", dtype->get<std::string>(), " is not read");
    auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array()) throw_format_error(at, ": no \"shape\" array");
    if (shape->size() > static_cast<size_t>(limits::max_rank)) {
        throw_limit_error(at, ": rank ", shape->size(), " is over the limit of ", limits::max_rank);
    }
    for (const Json& dimension : *shape) {
        if (!dimension.is_number_unsigned()) throw_format_error(at, ": shape holds ", dimension.dump(), ", not a size");
        entry.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(dimension.get<uint64_t>(), INT64_MAX)));
    }
    auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned()) {
        throw_format_error(at, ": \"data_offsets\" is not [begin, end]");
    }
    entry.begin = (*offsets)[0].get<uint64_t>();
    entry.end = (*offsets)[1].get<uint64_t>();
    if (entry.begin > entry.end || entry.end > data_size) {
        throw_format_error(at, ": data_offsets [", entry.begin, ", ", entry.end, "] are not inside the data area of ",
                           data_size, " bytes");
    }
    uint64_t count = shape_element_count(entry.shape);
    if (entry.end - entry.begin != count * entry.dtype->size) {
        throw_format_error(at, ": data_offsets [", entry.begin, ", ", entry.end, "] span ", entry.end - entry.begin,
                           " bytes but ", dtype->get<std::string>(), " ", shape_to_string_x(entry.shape), " needs ",
                           count * entry.dtype->size);
    }
    return entry;
}

void check_no_overlap(std::vector<const Entry*> entries, const std::string& where) {
    std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
    for (size_t i = 1; i < entries.size(); ++i) {
        if (entries[i]->begin < entries[i - 1]->end) {
            throw_format_error(where, ": tensors '", entries[i - 1]->key, "' [", entries[i - 1]->begin, ", ",
                               entries[i - 1]->end, ") and '", entries[i]->key, "' [", entries[i]->begin, ", ",
                               entries[i]->end, ") overlap");
        }
    }
}

Tensor make_tensor(const Entry& entry, const uint8_t* data, const std::shared_ptr<const void>& owner) {
    const uint8_t* bytes = data + entry.begin;
    if (std::strcmp(entry.dtype->name, "BF16") != 0) return Tensor::view(entry.dtype->dtype, entry.shape, bytes, owner);
    Tensor tensor = Tensor::uninitialized(DType::f32, entry.shape);
    uint8_t* out = tensor.mutable_raw();
    for (uint64_t i = 0; i < tensor.element_count(); ++i) bfloat16_to_float32(bytes + 2 * i, out + 4 * i);
    return tensor;
}

}  // namespace

// [SECTION] open_safetensors

Model open_safetensors(const FileBytes& bytes, const std::string& file_name) {
    if (!bytes) throw Error("open_safetensors: no bytes");
    ByteReader reader(ByteSpan(bytes->data(), bytes->size()), file_name);
    uint64_t length = reader.u64();
    if (length > max_header_bytes) {
        throw_limit_error(file_name, ": header of ", length, " bytes; the limit is ", max_header_bytes);
    }
    if (length > reader.remaining()) {
        throw_format_error(file_name, ": header length ", length, " at offset 0 is past the end (", reader.remaining(),
                           " bytes follow)");
    }
    std::string where = file_name + ": safetensors header";
    Json header = parse_header(reader.string(length), where);
    if (!header.is_object()) throw_format_error(where, ": not a JSON object");
    const uint64_t data_offset = 8 + length;
    const uint64_t data_size = bytes->size() - data_offset;

    Model model;
    model.format = ModelFormat::safetensors;
    model.producer = "safetensors";
    model.name = file_name;
    model.layout = DataLayout::channels_first;
    model.has_architecture = false;
    model.file_bytes = bytes;
    std::vector<Entry> entries;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it.value().is_object()) throw_format_error(where, ": __metadata__ is not an object");
            for (auto item = it.value().begin(); item != it.value().end(); ++item) {
                if (!item.value().is_string()) {
                    throw_format_error(where, ": __metadata__ \"", item.key(), "\" is not a string");
                }
                model.metadata["metadata." + item.key()] = item.value().get<std::string>();
            }
            continue;
        }
        entries.push_back(parse_entry(it.key(), it.value(), data_size, where));
    }
    std::vector<const Entry*> pointers;
    for (const Entry& entry : entries) pointers.push_back(&entry);
    check_no_overlap(pointers, where);
    if (model.metadata.count("metadata.format") && model.metadata["metadata.format"] == "pt") model.producer = "pytorch";

    std::vector<NamedTensor> tensors;
    const uint8_t* data = bytes->data() + data_offset;
    for (const Entry& entry : entries) tensors.push_back({entry.key, make_tensor(entry, data, bytes)});
    add_state_dict_layers(model, tensors, {});
    model.metadata["tensors"] = std::to_string(tensors.size());
    model.warnings.push_back("SafeTensors file: weights only, no architecture; layers are grouped by key prefix and "
                             "their types guessed from tensor shapes");
    return model;
}

}  // namespace convscope
