// TensorFlow.js layers models; the layout is in tfjs_layers.h.
#include "core/formats/tfjs_layers.h"

#include "core/base/byte_reader.h"
#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/keras.h"
#include "core/formats/keras_internal.h"

namespace convscope::tfjs {

using keras::Json;

namespace {

const Json* member(const Json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

std::string text_member(const Json& object, const char* key) {
    const Json* value = member(object, key);
    return value && value->is_string() ? value->get<std::string>() : "";
}

struct WeightSpec {
    std::string name;
    Shape shape;
    std::string dtype;          // stored dtype: float32, int32, bool, uint8, uint16, float16
    double scale = 1, minimum = 0;
    bool affine = false;        // uint8/uint16 quantization
    uint64_t count = 1;
};

uint64_t stored_size(const std::string& dtype) {
    if (dtype == "float32" || dtype == "int32") return 4;
    if (dtype == "uint16" || dtype == "float16") return 2;
    if (dtype == "uint8" || dtype == "bool") return 1;
    return 0;
}

WeightSpec parse_spec(const Json& item, const std::string& where) {
    WeightSpec spec;
    spec.name = text_member(item, "name");
    if (spec.name.empty()) throw_format_error(where, ": weight without a name");
    const Json* shape = member(item, "shape");
    if (!shape || !shape->is_array() || shape->size() > static_cast<size_t>(limits::max_rank)) {
        throw_format_error(where, " (", spec.name, "): expected a shape list");
    }
    for (const Json& dim : *shape) {
        if (!dim.is_number_integer() || dim.get<int64_t>() < 0) throw_format_error(where, " (", spec.name, "): bad dimension");
        spec.shape.push_back(dim.get<int64_t>());
        if (spec.shape.back() != 0 && spec.count > limits::max_tensor_elements / static_cast<uint64_t>(spec.shape.back())) {
            throw_limit_error(where, " (", spec.name, "): more than ", limits::max_tensor_elements, " elements");
        }
        spec.count *= static_cast<uint64_t>(spec.shape.back());
    }
    spec.dtype = text_member(item, "dtype");
    if (const Json* quantization = member(item, "quantization")) {
        spec.dtype = text_member(*quantization, "dtype");
        spec.affine = spec.dtype == "uint8" || spec.dtype == "uint16";
        if (spec.affine) {
            const Json* scale = member(*quantization, "scale");
            const Json* minimum = member(*quantization, "min");
            if (!scale || !scale->is_number() || !minimum || !minimum->is_number()) {
                throw_format_error(where, " (", spec.name, "): ", spec.dtype, " quantization without scale and min");
            }
            spec.scale = scale->get<double>();
            spec.minimum = minimum->get<double>();
        } else if (spec.dtype != "float16") {
            throw UnsupportedError(concat(where, " (", spec.name, "): quantization dtype '", spec.dtype, "' is not supported"));
        }
    }
    if (stored_size(spec.dtype) == 0) {
        throw UnsupportedError(concat(where, " (", spec.name, "): dtype '", spec.dtype, "' is not supported"));
    }
    return spec;
}

Tensor decode(ByteReader& reader, const WeightSpec& spec) {
    reader.require(spec.count * stored_size(spec.dtype));
    std::vector<float> values(spec.count);
    for (float& value : values) {
        if (spec.dtype == "float32") value = reader.f32();
        else if (spec.dtype == "int32") value = static_cast<float>(reader.i32());
        else if (spec.dtype == "float16") value = half_to_float(reader.u16());
        else if (spec.dtype == "uint16") value = static_cast<float>(spec.minimum + spec.scale * reader.u16());
        else if (spec.affine) value = static_cast<float>(spec.minimum + spec.scale * reader.u8());
        else value = reader.u8() ? 1.0f : 0.0f;  // bool
    }
    return Tensor::from_floats(spec.shape, std::move(values));
}

// One manifest group: its shards concatenated, then its weights in order.
std::vector<Weight> read_group(const Json& group, const std::string& where, const std::string& file_name,
                               const ShardLookup& shards) {
    const Json* paths = member(group, "paths");
    const Json* weights = member(group, "weights");
    if (!paths || !paths->is_array() || !weights || !weights->is_array()) {
        throw_format_error(where, ": expected 'paths' and 'weights' lists");
    }
    std::vector<uint8_t> joined;
    for (size_t i = 0; i < paths->size(); ++i) {
        if (!(*paths)[i].is_string()) throw_format_error(where, ".paths[", i, "]: expected a file name");
        std::string path = (*paths)[i].get<std::string>();
        std::optional<FileBytes> shard = shards(path);
        if (!shard || !*shard) throw_format_error(file_name, " names ", path, ", which was not given");
        if (joined.size() + (*shard)->size() > limits::max_file_bytes) {
            throw_limit_error(where, ": shards larger than ", limits::max_file_bytes, " bytes");
        }
        joined.insert(joined.end(), (*shard)->begin(), (*shard)->end());
    }
    ByteReader reader(ByteSpan(joined.data(), joined.size()), where);
    std::vector<Weight> result;
    for (size_t i = 0; i < weights->size(); ++i) {
        WeightSpec spec = parse_spec((*weights)[i], concat(where, ".weights[", i, "]"));
        result.push_back({spec.name, decode(reader, spec)});
    }
    if (!reader.at_end()) {
        throw_format_error(where, ": the shards hold ", reader.remaining(), " bytes more than the manifest's weights");
    }
    return result;
}

}  // namespace

bool looks_like_layers_model(const std::string& json_text) {
    size_t start = json_text.find_first_not_of(" \t\r\n");
    return start != std::string::npos && json_text[start] == '{' &&
           json_text.find("\"modelTopology\"") != std::string::npos &&
           json_text.find("\"weightsManifest\"") != std::string::npos;
}

bool looks_like_layers_model_bytes(ByteSpan bytes) {
    // model.json is small next to its shards; a huge "JSON" is something else.
    if (bytes.size == 0 || bytes.size > 64ull * 1024 * 1024) return false;
    return looks_like_layers_model(std::string(reinterpret_cast<const char*>(bytes.data), bytes.size));
}

Model open_model_json(const FileBytes& bytes, const std::string& file_name) {
    std::string text(bytes->begin(), bytes->end());
    std::vector<std::string> missing;
    Model model = open_layers_model(text, file_name, [&missing](const std::string& path) -> std::optional<FileBytes> {
        missing.push_back(path);
        return std::make_shared<const std::vector<uint8_t>>();
    }, /*weights=*/false);
    std::string names;
    for (size_t i = 0; i < missing.size() && i < 4; ++i) names += (i ? ", " : "") + missing[i];
    if (missing.size() > 4) names += ", ...";
    model.warnings.push_back(concat("weights not loaded: ", file_name, " names ", missing.size(), " shard file(s) (", names,
                                    ") that were not given; open them together with it"));
    return model;
}

Model open_layers_model(const std::string& json_text, const std::string& file_name, const ShardLookup& shards,
                        bool weights_wanted) {
    Json root = keras::parse_json_text(json_text, file_name);
    const Json* topology = member(root, "modelTopology");
    const Json* manifest = member(root, "weightsManifest");
    if (!topology || !topology->is_object()) throw_format_error(file_name, ": expected an object modelTopology");
    if (!manifest || !manifest->is_array()) throw_format_error(file_name, ": expected a list weightsManifest");
    const Json* config = member(*topology, "model_config");
    if (!config) config = topology;
    Model model = keras::parse_architecture(*config, file_name + ": modelTopology").model;
    model.format = ModelFormat::tfjs_layers;
    std::string version = text_member(*topology, "keras_version");
    if (!version.empty()) {
        model.metadata["keras_version"] = version;
        keras::set_producer(model, version);
    }
    for (const char* key : {"generatedBy", "convertedBy", "format"}) {
        std::string value = text_member(root, key);
        if (!value.empty()) model.metadata[std::string("tfjs_") + key] = value;
    }
    if (model.producer.empty()) model.producer = "tensorflow.js";
    std::vector<Weight> weights;
    if (!weights_wanted) {
        for (size_t g = 0; g < manifest->size(); ++g) {
            const Json* paths = member((*manifest)[g], "paths");
            if (!paths || !paths->is_array()) continue;
            for (const Json& path : *paths) {
                if (path.is_string()) shards(path.get<std::string>());
            }
        }
        return model;
    }
    for (size_t g = 0; g < manifest->size(); ++g) {
        std::vector<Weight> group = read_group((*manifest)[g], concat(file_name, ": weightsManifest[", g, "]"), file_name, shards);
        weights.insert(weights.end(), std::make_move_iterator(group.begin()), std::make_move_iterator(group.end()));
    }
    std::vector<Weight> left = keras::attach_weights_by_path(model, std::move(weights));
    if (!left.empty()) {
        model.warnings.push_back(concat(left.size(), " weight(s) in the manifest match no layer (first: ", left.front().name, ")"));
    }
    return model;
}

}  // namespace convscope::tfjs
