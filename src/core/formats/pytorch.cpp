// [SECTION] index: magic; archive layout; storages and tensors (pickle
// hooks); walking the object tree; choosing the weights; the ZIP format;
// the legacy format; open_pytorch.
#include "core/formats/pytorch.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/pickle.h"
#include "core/formats/state_dict.h"
#include "core/formats/zip.h"

namespace convscope {

namespace {

// pickle.dumps of torch's legacy magic number 0x1950a86a20f9469cfc6c: PROTO 2, LONG1 10 bytes.
const uint8_t legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

bool has_legacy_magic(ByteSpan bytes) {
    return bytes.size >= sizeof(legacy_magic) && std::memcmp(bytes.data, legacy_magic, sizeof(legacy_magic)) == 0;
}

}  // namespace

// [SECTION] magic

bool looks_like_pytorch(ByteSpan bytes) {
    if (has_legacy_magic(bytes)) return true;
    if (!looks_like_zip(bytes)) return false;
    static const std::string needle = "data.pkl";
    size_t window = std::min<size_t>(bytes.size, 65536 + 22 + 4096);
    const uint8_t* begin = bytes.data + (bytes.size - window);
    const uint8_t* end = bytes.data + bytes.size;
    return std::search(begin, end, needle.begin(), needle.end()) != end;
}

namespace {

using pickle::Kind;
using pickle::Object;

// [SECTION] archive layout

// The folder holding data.pkl ("archive/"), the shallowest one.
std::string find_archive_prefix(const ZipArchive& archive, const std::string& file_name) {
    std::string best;
    bool found = false;
    for (const std::string& name : archive.names()) {
        if (name != "data.pkl" && (name.size() < 9 || name.compare(name.size() - 9, 9, "/data.pkl") != 0)) continue;
        std::string prefix = name.substr(0, name.size() - 8);
        if (!found || std::count(prefix.begin(), prefix.end(), '/') < std::count(best.begin(), best.end(), '/')) {
            best = prefix;
            found = true;
        }
    }
    if (!found) throw_format_error(file_name, ": a ZIP archive without a data.pkl member, so not a torch.save file");
    return best;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

// [SECTION] storages and tensors

struct StorageType {
    const char* name;
    DType dtype;
    size_t element_size;
    bool bfloat16;
};

const StorageType* storage_type(const std::string& global) {
    static const StorageType types[] = {
        {"DoubleStorage", DType::f64, 8, false}, {"FloatStorage", DType::f32, 4, false},
        {"HalfStorage", DType::f16, 2, false},   {"BFloat16Storage", DType::f32, 2, true},
        {"LongStorage", DType::i64, 8, false},   {"IntStorage", DType::i32, 4, false},
        {"ShortStorage", DType::i16, 2, false},  {"CharStorage", DType::i8, 1, false},
        {"ByteStorage", DType::u8, 1, false},    {"BoolStorage", DType::boolean, 1, false},
    };
    size_t dot = global.rfind('.');
    std::string short_name = dot == std::string::npos ? global : global.substr(dot + 1);
    for (const StorageType& type : types) {
        if (short_name == type.name) return &type;
    }
    return nullptr;
}

struct Storage {
    std::string member;
    const StorageType* type = nullptr;
    uint64_t element_count = 0;
    ZipMemberBytes bytes;
};

// Where a storage's bytes are: a ZIP member, or a span of a legacy file.
// Returns false when the key names no storage; `where` names it in errors.
using StorageResolver = std::function<bool(const std::string& key, ZipMemberBytes& bytes, std::string& where)>;

class TensorBuilder {
public:
    TensorBuilder(StorageResolver resolver, std::string context)
        : resolver_(std::move(resolver)), context_(std::move(context)) {}

    pickle::Hooks hooks() {
        pickle::Hooks hooks;
        hooks.persistent_load = [this](Object* id, pickle::Arena& arena) { return load_storage(id, arena); };
        hooks.reduce = [this](const std::string& callable, Object* args, pickle::Arena& arena) {
            return reduce(callable, args, arena);
        };
        return hooks;
    }
    size_t tensor_count() const { return tensor_count_; }

private:
    StorageResolver resolver_;
    std::string context_;
    std::vector<std::string> keys_;
    std::vector<Storage> storages_;
    size_t tensor_count_ = 0;

    Object* load_storage(Object* id, pickle::Arena& arena);
    Object* reduce(const std::string& callable, Object* args, pickle::Arena& arena);
    Object* rebuild_tensor(const std::vector<Object*>& args, pickle::Arena& arena);
    Tensor strided_tensor(const Storage& storage, uint64_t offset, const Shape& shape, const Shape& strides,
                          const std::string& where);
};

// Legacy full-model pickles name each module class as ("module", class,
// source file, source code): the class global is the value (the source is
// never looked at).
Object* legacy_module_class(Object* id) {
    if (id->kind == Kind::tuple && !id->items.empty() && id->items[0]->is_string() && id->items[0]->text == "module") {
        if (id->items.size() < 2 || id->items[1]->kind != Kind::global) {
            throw_format_error("legacy pickle: a ('module', class, ...) persistent id without a class");
        }
        return id->items[1];
    }
    return nullptr;
}

Object* TensorBuilder::load_storage(Object* id, pickle::Arena& arena) {
    if (Object* module_class = legacy_module_class(id)) return module_class;
    if (id->kind != Kind::tuple || id->items.size() < 5 || !id->items[0]->is_string() ||
        id->items[0]->text != "storage") {
        throw_format_error(context_, ": a persistent id that is not ('storage', type, key, location, numel)");
    }
    Object* type = id->items[1];
    Object* key = id->items[2];
    Object* numel = id->items[4];
    if (type->kind != Kind::global || !key->is_string() || numel->kind != Kind::integer || numel->integer < 0) {
        throw_format_error(context_, ": malformed storage id (type, key or numel of the wrong kind)");
    }
    for (size_t i = 0; i < storages_.size(); ++i) {
        if (keys_[i] == key->text) {
            Object* existing = arena.make(Kind::opaque);
            existing->text = "storage " + key->text;
            existing->tag = static_cast<int64_t>(i);
            return existing;
        }
    }
    Storage storage;
    storage.type = storage_type(type->text);
    if (!storage.type) {
        throw_format_error(context_, ": storage '", key->text, "' has type ", type->text,
                           ", which this reader does not know (quantized or complex tensors are not read)");
    }
    storage.element_count = static_cast<uint64_t>(numel->integer);
    if (!resolver_(key->text, storage.bytes, storage.member)) {
        throw_format_error(context_, ": storage '", key->text, "' refers to ", storage.member,
                           ", which the file does not hold");
    }
    if (storage.element_count > storage.bytes.span.size / storage.type->element_size) {
        throw_format_error(context_, ": storage ", storage.member, " should hold ", storage.element_count, " x ",
                           storage.type->element_size, " bytes but has ", storage.bytes.span.size);
    }
    storages_.push_back(std::move(storage));
    keys_.push_back(key->text);
    Object* object = arena.make(Kind::opaque);
    object->text = "storage " + key->text;
    object->tag = static_cast<int64_t>(storages_.size() - 1);
    return object;
}

Shape integer_tuple(Object* object, const std::string& what, const std::string& context) {
    if (object->kind != Kind::tuple && object->kind != Kind::list) {
        throw_format_error(context, ": tensor ", what, " is not a tuple");
    }
    if (object->items.size() > static_cast<size_t>(limits::max_rank)) {
        throw_limit_error(context, ": tensor ", what, " has ", object->items.size(), " dimensions; the limit is ",
                          limits::max_rank);
    }
    Shape values;
    for (Object* item : object->items) {
        if (item->kind != Kind::integer || item->integer < 0) {
            throw_format_error(context, ": tensor ", what, " holds something that is not a non-negative integer");
        }
        values.push_back(item->integer);
    }
    return values;
}

Object* TensorBuilder::reduce(const std::string& callable, Object* args, pickle::Arena& arena) {
    const std::vector<Object*>& items = args->items;
    if (callable == "torch._utils._rebuild_tensor_v2" || callable == "torch._utils._rebuild_tensor") {
        return rebuild_tensor(items, arena);
    }
    if (callable == "torch._utils._rebuild_parameter" || callable == "torch._utils._rebuild_parameter_with_state") {
        if (items.empty() || items[0]->kind != Kind::tensor) {
            throw_format_error(context_, ": ", callable, " of something that is not a tensor");
        }
        return items[0];
    }
    if (callable.rfind("torch.jit._pickle.build_", 0) == 0 && items.size() == 1) {
        return items[0];  // TorchScript's typed lists (build_intlist, build_tensorlist, ...): the list itself
    }
    if (callable == "torch.jit._pickle.restore_type_tag" && !items.empty()) return items[0];
    if (callable == "torch._tensor._rebuild_from_type_v2" && items.size() >= 3 && items[0]->kind == Kind::global &&
        items[0]->text == "torch._utils._rebuild_tensor_v2" && items[2]->kind == Kind::tuple) {
        return rebuild_tensor(items[2]->items, arena);
    }
    return nullptr;
}

Object* TensorBuilder::rebuild_tensor(const std::vector<Object*>& args, pickle::Arena& arena) {
    std::string where = context_ + ": tensor " + std::to_string(tensor_count_);
    if (args.size() < 4 || args[0]->kind != Kind::opaque || args[0]->tag < 0 ||
        static_cast<size_t>(args[0]->tag) >= storages_.size() || args[1]->kind != Kind::integer ||
        args[1]->integer < 0) {
        throw_format_error(where, ": _rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
    }
    const Storage& storage = storages_[static_cast<size_t>(args[0]->tag)];
    Shape shape = integer_tuple(args[2], "size", where);
    Shape strides = integer_tuple(args[3], "stride", where);
    if (strides.size() != shape.size()) throw_format_error(where, ": size and stride have different lengths");
    Object* object = arena.make(Kind::tensor);
    object->tensor = std::make_unique<Tensor>(strided_tensor(storage, static_cast<uint64_t>(args[1]->integer), shape, strides, where));
    ++tensor_count_;
    return object;
}

// A view when the tensor is contiguous (and not bfloat16); otherwise a copy
// gathered element by element, after checking that the furthest element
// lies inside the storage.
Tensor TensorBuilder::strided_tensor(const Storage& storage, uint64_t offset, const Shape& shape,
                                     const Shape& strides, const std::string& where) {
    uint64_t count = shape_element_count(shape);
    // Checked before any arithmetic on them, so that the sums below cannot wrap.
    if (offset > storage.element_count) {
        throw_format_error(where, ": offset ", offset, " is past the end of storage ", storage.member, " (",
                           storage.element_count, " elements)");
    }
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] > 1 && static_cast<uint64_t>(strides[i]) > storage.element_count) {
            throw_format_error(where, ": stride ", strides[i], " of dimension ", i, " is larger than storage ",
                               storage.member, " (", storage.element_count, " elements)");
        }
    }
    uint64_t last = offset;
    bool contiguous = true;
    uint64_t expected_stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        if (shape[i] == 0) count = 0;
        last += static_cast<uint64_t>(shape[i] > 0 ? shape[i] - 1 : 0) * static_cast<uint64_t>(strides[i]);
        if (shape[i] != 1 && static_cast<uint64_t>(strides[i]) != expected_stride) contiguous = false;
        expected_stride *= static_cast<uint64_t>(shape[i]);
    }
    if (count > 0 && (last >= storage.element_count || offset >= storage.element_count)) {
        throw_format_error(where, ": its elements reach index ", last, " of storage ", storage.member, ", which holds ",
                           storage.element_count);
    }
    const size_t element_size = storage.type->element_size;
    const uint8_t* base = storage.bytes.span.data;
    if (contiguous && !storage.type->bfloat16) {
        return Tensor::view(storage.type->dtype, shape, base + offset * element_size, storage.bytes.owner);
    }
    Tensor tensor = Tensor::uninitialized(storage.type->dtype, shape);
    uint8_t* out = tensor.mutable_raw();
    std::vector<int64_t> index(shape.size(), 0);
    for (uint64_t n = 0; n < count; ++n) {
        uint64_t source = offset;
        for (size_t d = 0; d < shape.size(); ++d) source += static_cast<uint64_t>(index[d] * strides[d]);
        const uint8_t* from = base + source * element_size;
        if (storage.type->bfloat16) {
            bfloat16_to_float32(from, out + n * 4);
        } else {
            std::memcpy(out + n * element_size, from, element_size);
        }
        for (size_t d = shape.size(); d-- > 0;) {
            if (++index[d] < shape[d]) break;
            index[d] = 0;
        }
    }
    return tensor;
}

// [SECTION] walking the object tree

struct Collected {
    std::vector<NamedTensor> tensors;
    std::map<std::string, ModuleInfo> modules;
    std::set<const Object*> visited;
};

std::string join_path(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
}

std::string key_text(const Object* key) {
    if (key->kind == Kind::string) return key->text;
    if (key->kind == Kind::integer) return std::to_string(key->integer);
    return "?";
}

std::string short_class_name(const std::string& full) {
    size_t dot = full.rfind('.');
    return dot == std::string::npos ? full : full.substr(dot + 1);
}

// A module attribute worth showing: an int, float, bool, string or a tuple of ints.
std::optional<AttributeValue> attribute_value(const Object* value) {
    switch (value->kind) {
    case Kind::integer: return AttributeValue(value->integer);
    case Kind::boolean: return AttributeValue(static_cast<int64_t>(value->boolean));
    case Kind::floating: return AttributeValue(value->floating);
    case Kind::string: if (value->text.size() <= 256) return AttributeValue(value->text); return std::nullopt;
    case Kind::tuple: case Kind::list: {
        std::vector<int64_t> ints;
        for (const Object* item : value->items) {
            if (item->kind != Kind::integer) return std::nullopt;
            ints.push_back(item->integer);
        }
        if (ints.empty() || ints.size() > 16) return std::nullopt;
        return AttributeValue(ints);
    }
    default: return std::nullopt;
    }
}

void collect(const Object* object, const std::string& path, Collected& out, int depth);

void collect_module(const Object* module, const std::string& path, Collected& out, int depth) {
    const Object* state = module->state;
    ModuleInfo info;
    info.full_class_name = module->text;
    info.class_name = short_class_name(module->text);
    bool eager = state->get("_parameters") != nullptr || state->get("_modules") != nullptr;
    for (const auto& [key, value] : state->entries) {
        std::string name = key_text(key);
        if (name.empty() || name[0] == '_' || name == "training") continue;
        if (auto attribute = attribute_value(value)) info.attributes[name] = *attribute;
    }
    out.modules[path] = std::move(info);
    if (eager) {
        for (const char* part : {"_parameters", "_buffers", "_modules"}) {
            if (const Object* child = state->get(part)) collect(child, path, out, depth + 1);
        }
    } else {
        collect(state, path, out, depth + 1);  // TorchScript: attributes hold tensors and submodules
    }
}

void collect(const Object* object, const std::string& path, Collected& out, int depth) {
    if (depth > limits::max_nesting_depth * 4) throw_limit_error("pickle: objects nested deeper than ", depth);
    if (object->kind == Kind::tensor) {
        out.tensors.push_back({path.empty() ? "tensor" : path, *object->tensor});
        return;
    }
    if (!out.visited.insert(object).second) return;  // shared or cyclic: walked once
    switch (object->kind) {
    case Kind::dict:
        for (const auto& [key, value] : object->entries) collect(value, join_path(path, key_text(key)), out, depth + 1);
        break;
    case Kind::list: case Kind::tuple:
        for (size_t i = 0; i < object->items.size(); ++i) {
            collect(object->items[i], join_path(path, std::to_string(i)), out, depth + 1);
        }
        break;
    case Kind::instance:
        if (object->state && object->state->kind == Kind::dict &&
            (object->state->get("_parameters") || object->text.rfind("__torch__.", 0) == 0)) {
            collect_module(object, path, out, depth);
        } else if (object->state) {
            collect(object->state, path, out, depth + 1);
        }
        break;
    default: break;
    }
}

size_t count_tensors(const Object* object) {
    Collected probe;
    collect(object, "", probe, 0);
    return probe.tensors.size();
}

// [SECTION] choosing the weights

// The object holding the model's weights, and the dict key it came from.
const Object* weights_root(const Object* root, std::string& from_key) {
    if (root->kind != Kind::dict) return root;
    for (const auto& entry : root->entries) {
        if (entry.second->kind == Kind::tensor) return root;  // a state dict itself
    }
    static const char* keys[] = {"state_dict", "model_state_dict", "model", "module", "net", "network",
                                 "ema", "model_ema", "state_dict_ema", "weights", "params", "generator"};
    for (const char* key : keys) {
        const Object* value = root->get(key);
        if (value && count_tensors(value) > 0) {
            from_key = key;
            return value;
        }
    }
    return root;
}

void add_class_metadata(Model& model, const pickle::Result& result) {
    model.metadata["pickle_protocol"] = std::to_string(result.protocol);
    std::string classes;
    for (const std::string& global : result.globals) {
        if (global.rfind("torch.", 0) == 0 || global.rfind("collections.", 0) == 0 ||
            global.rfind("__builtin__.", 0) == 0 || global.rfind("builtins.", 0) == 0) {
            continue;
        }
        classes += (classes.empty() ? "" : ", ") + global;
    }
    if (!classes.empty()) model.metadata["python_classes"] = classes;
}

void add_torchscript_metadata(Model& model, const ZipArchive& archive, const std::string& prefix) {
    std::string code_prefix = prefix + "code/__torch__/";
    std::string scripted;
    for (const std::string& name : archive.names()) {
        if (name.rfind(code_prefix, 0) != 0 || name.size() < 3 || name.compare(name.size() - 3, 3, ".py") != 0) continue;
        std::string module = name.substr(code_prefix.size(), name.size() - code_prefix.size() - 3);
        std::replace(module.begin(), module.end(), '/', '.');
        scripted += (scripted.empty() ? "" : ", ") + module;
    }
    if (!scripted.empty()) model.metadata["torchscript_classes"] = scripted;
}

Model empty_model(const FileBytes& bytes, const std::string& name, const std::string& container) {
    Model model;
    model.format = ModelFormat::pytorch;
    model.producer = "pytorch";
    model.name = name;
    model.layout = DataLayout::channels_first;
    model.has_architecture = false;
    model.file_bytes = bytes;
    model.metadata["container"] = container;
    return model;
}

// Layers from the pickled object (plus extra tensors, e.g. TorchScript constants) and the one warning.
void add_layers(Model& model, const pickle::Result& result, std::vector<NamedTensor> extra, bool torchscript) {
    add_class_metadata(model, result);
    std::string from_key;
    const Object* root = weights_root(result.root, from_key);
    if (!from_key.empty()) model.metadata["weights_from"] = from_key;
    Collected collected;
    collect(root, "", collected, 0);
    collected.tensors.insert(collected.tensors.end(), extra.begin(), extra.end());
    add_state_dict_layers(model, collected.tensors, collected.modules);
    if (collected.tensors.empty()) {
        model.warnings.push_back("the pickle holds no tensors" +
                                 (from_key.empty() ? std::string() : " under '" + from_key + "'"));
    }
    model.warnings.push_back(
        std::string(torchscript ? "TorchScript archive" : "PyTorch file") +
        ": weights only, the architecture is not run; layers are grouped by key prefix" +
        (collected.modules.empty() ? " and their types guessed from tensor shapes" : " with their module classes"));
}

// [SECTION] the ZIP format

StorageResolver zip_storages(const ZipArchive& archive, const std::string& folder) {
    return [&archive, folder](const std::string& key, ZipMemberBytes& bytes, std::string& where) {
        where = "member " + folder + key;
        if (!archive.contains(folder + key)) return false;
        bytes = archive.view(folder + key);
        return true;
    };
}

Model open_zip(const FileBytes& bytes, const std::string& file_name) {
    ZipArchive archive = ZipArchive::open(bytes, file_name);
    std::string prefix = find_archive_prefix(archive, file_name);
    if (archive.contains(prefix + "byteorder")) {
        std::string order = trimmed(archive.read_text(prefix + "byteorder"));
        if (order != "little") {
            throw_format_error(file_name, ": ", prefix, "byteorder says '", order, "'; only little-endian files are read");
        }
    }
    bool torchscript = archive.contains(prefix + "constants.pkl");
    std::string context = file_name + ": " + prefix + "data.pkl";
    ZipMemberBytes data_pkl = archive.view(prefix + "data.pkl");
    TensorBuilder builder(zip_storages(archive, prefix + "data/"), context);
    pickle::Result result = pickle::read(data_pkl.span, context, builder.hooks());

    Model model = empty_model(bytes, prefix.empty() ? file_name : prefix.substr(0, prefix.size() - 1),
                              torchscript ? "torchscript" : "torch.save");
    if (archive.contains(prefix + "version")) model.metadata["version"] = trimmed(archive.read_text(prefix + "version"));
    std::vector<NamedTensor> constants;
    if (torchscript) {
        add_torchscript_metadata(model, archive, prefix);
        std::string constants_context = file_name + ": " + prefix + "constants.pkl";
        ZipMemberBytes constants_pkl = archive.view(prefix + "constants.pkl");
        TensorBuilder constant_builder(zip_storages(archive, prefix + "constants/"), constants_context);
        pickle::Result constant_values = pickle::read(constants_pkl.span, constants_context, constant_builder.hooks());
        Collected constant_tensors;
        collect(constant_values.root, "constants", constant_tensors, 0);
        constants = std::move(constant_tensors.tensors);
    }
    add_layers(model, result, std::move(constants), torchscript);
    return model;
}

// [SECTION] the legacy format

// Legacy torch.save: five pickles (magic number, protocol version, sys_info,
// the object, the list of storage keys), then per key in that list a u64
// element count and the storage's raw bytes (count x the element size of
// the storage class the object's persistent ids name for that key).
Model open_legacy(const FileBytes& bytes, const std::string& file_name) {
    ByteSpan span(bytes->data(), bytes->size());
    // The magic number's pickle (checked by has_legacy_magic) is an 80-bit
    // int, over what the interpreter reads; its STOP follows it.
    size_t offset = sizeof(legacy_magic) + 1;
    if (span.size < offset || span.data[offset - 1] != '.') {
        throw_format_error(file_name, ": legacy magic number not followed by STOP at offset ", offset - 1);
    }
    auto next_pickle = [&](const std::string& what, const pickle::Hooks& hooks) {
        pickle::Result result = pickle::read(span.subspan(offset, span.size - offset, what), file_name + ": " + what, hooks);
        offset += result.end;
        return result;
    };
    for (const char* header : {"legacy protocol version", "legacy sys_info"}) next_pickle(header, {});
    // The object is read twice: first to learn each storage key's class (and
    // where the object ends, since the storages follow the key list after it),
    // then to build its tensors over the storages.
    const size_t object_offset = offset;
    std::map<std::string, size_t> element_sizes;
    pickle::Hooks skim;
    skim.persistent_load = [&](Object* id, pickle::Arena& arena) {
        if (Object* module_class = legacy_module_class(id)) return module_class;
        if (id->kind == Kind::tuple && id->items.size() >= 6) {
            if (id->items[5]->kind != Kind::none) {
                throw_format_error(file_name, ": legacy storage views (view_metadata) are not read");
            }
            const StorageType* type = id->items[1]->kind == Kind::global ? storage_type(id->items[1]->text) : nullptr;
            if (type && id->items[2]->is_string()) element_sizes[id->items[2]->text] = type->element_size;
        }
        return arena.make(Kind::opaque);
    };
    next_pickle("legacy object", skim);
    pickle::Result keys = next_pickle("legacy storage keys", {});
    if (keys.root->kind != Kind::list) throw_format_error(file_name, ": legacy storage keys are not a list");
    std::map<std::string, ZipMemberBytes> storages;
    ByteReader reader(span, file_name + ": legacy storages");
    reader.seek(offset);
    for (const Object* key : keys.root->items) {
        if (!key->is_string()) throw_format_error(file_name, ": a legacy storage key is not a string");
        auto size = element_sizes.find(key->text);
        if (size == element_sizes.end()) {
            throw_format_error(file_name, ": legacy storage '", key->text, "' is listed but no tensor names its type");
        }
        uint64_t count = reader.u64();
        if (count > reader.remaining() / size->second) {
            throw_format_error(file_name, ": legacy storage '", key->text, "' at offset ", reader.absolute_position() - 8,
                               " claims ", count, " elements of ", size->second, " bytes; only ", reader.remaining(),
                               " bytes are left");
        }
        storages[key->text] = ZipMemberBytes{reader.bytes(count * size->second), bytes};
    }
    StorageResolver resolver = [&storages](const std::string& key, ZipMemberBytes& out, std::string& where) {
        where = "legacy storage " + key;
        auto found = storages.find(key);
        if (found == storages.end()) return false;
        out = found->second;
        return true;
    };
    offset = object_offset;
    TensorBuilder builder(resolver, file_name + ": legacy object");
    pickle::Result result = next_pickle("legacy object", builder.hooks());
    Model model = empty_model(bytes, file_name, "torch.save legacy");
    add_layers(model, result, {}, false);
    return model;
}

}  // namespace

// [SECTION] open_pytorch

Model open_pytorch(const FileBytes& bytes, const std::string& file_name) {
    if (!bytes) throw Error("open_pytorch: no bytes");
    if (has_legacy_magic(ByteSpan(bytes->data(), bytes->size()))) return open_legacy(bytes, file_name);
    return open_zip(bytes, file_name);
}

}  // namespace convscope
