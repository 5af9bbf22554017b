// Keras 3 .keras archives: config.json + metadata.json + model.weights.h5.
//
// Keras 3 (saving_lib._save_container_state) keys each layer of a model's
// layer list by snake_case(class name) with a per-name counter
// ("conv2d", "conv2d_1", ...), not by the layer's name: names are
// auto-generated and not reproducible. So a layer named "dense_out" of class
// Dense is stored under layers/dense (or dense_<k>). We rebuild those keys
// from the config's layer list, in Keras's model.layers order (a
// Sequential's list without its InputLayer), and fall back to the layer
// name when no such group exists (files from writers that key by name).
#include <algorithm>
#include <map>
#include <set>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/hdf5.h"
#include "core/formats/keras.h"
#include "core/formats/keras_h5_internal.h"
#include "core/formats/keras_internal.h"
#include "core/formats/zip.h"

namespace convscope::keras {

bool looks_like_keras_v3(ByteSpan bytes) {
    if (!looks_like_zip(bytes)) return false;
    // The central directory sits at the end and names every member.
    static const std::string needle = "config.json";
    size_t window = std::min<size_t>(bytes.size, 65536 + 22 + 4096);
    const uint8_t* begin = bytes.data + (bytes.size - window);
    const uint8_t* end = bytes.data + bytes.size;
    return std::search(begin, end, needle.begin(), needle.end()) != end;
}

namespace {

// One container's entries (a model's layer list) against its layers/
// group; nested models that were flattened recurse into
// layers/<key>/layers with their names prefixed.
void attach_keras3_container(Model& model, const std::vector<ContainerLayer>& container, const hdf5::Object& layers_group,
                             const std::string& prefix, const std::unordered_map<std::string, size_t>& index_by_name,
                             std::set<std::string>& used_groups, int depth) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error("HDF5 group ", layers_group.path(), ": models nested deeper than ", limits::max_nesting_depth);
    }
    std::map<std::string, int> counters;
    for (const ContainerLayer& entry : container) {
        std::string key = snake_case(entry.class_name);
        auto [counter, inserted] = counters.emplace(key, 0);
        if (!inserted) key += "_" + std::to_string(++counter->second);

        std::optional<hdf5::Object> group = layers_group.find(key);
        if (!group) {
            group = layers_group.find(entry.name);
            if (group && used_groups.count(group->path())) group.reset();
        }
        std::string full_name = prefix + entry.name;
        auto found = index_by_name.find(full_name);
        if (!group || !group->is_group()) continue;
        if (found == index_by_name.end() && entry.is_model && has_flattened_group(model, full_name)) {
            used_groups.insert(group->path());
            std::optional<hdf5::Object> inner = group->find("layers");
            if (inner && inner->is_group()) {
                attach_keras3_container(model, nested_container(entry), *inner, full_name + "/", index_by_name,
                                        used_groups, depth + 1);
            }
            continue;
        }
        if (found == index_by_name.end()) continue;
        used_groups.insert(group->path());
        std::vector<std::string> names = variable_names(entry.class_name, entry.config);
        Layer& layer = model.layers[found->second];
        layer.weights = read_keras3_variables(*group, full_name, names, 0);
        if (!names.empty() && layer.weights.size() != names.size()) {
            model.warnings.push_back("layer '" + full_name + "' (" + entry.class_name + ") has " +
                                     std::to_string(layer.weights.size()) + " variables in " + group->path() +
                                     ", Keras defines " + std::to_string(names.size()));
        }
    }
}

void attach_keras3_weights(Model& model, const std::vector<ContainerLayer>& container, const hdf5::Object& root) {
    std::optional<hdf5::Object> layers_group = root.find("layers");
    if (!layers_group || !layers_group->is_group()) {
        model.warnings.push_back("model.weights.h5 has no layers/ group: no weights loaded");
        return;
    }
    std::set<std::string> used_groups;
    std::unordered_map<std::string, size_t> index_by_name = layer_indices(model);
    attach_keras3_container(model, container, *layers_group, "", index_by_name, used_groups, 0);
    for (const std::string& key : layers_group->children()) {
        hdf5::Object group = layers_group->child(key);
        if (used_groups.count(group.path())) continue;
        if (!read_keras3_variables(group, key, {}, 0).empty()) {
            model.warnings.push_back("weights in " + group.path() + " match no layer of config.json; not loaded");
        }
    }
}

}  // namespace

Model open_v3(const FileBytes& bytes, const std::string& file_name) {
    ZipArchive archive = ZipArchive::open(bytes, file_name);
    if (!archive.contains("config.json")) {
        throw_format_error(file_name, ": a ZIP archive without config.json, so not a Keras 3 model; members: ",
                           [&] {
                               std::string out;
                               for (const std::string& name : archive.names()) out += (out.empty() ? "" : ", ") + name;
                               return out;
                           }());
    }
    Json config = parse_json_text(archive.read_text("config.json"), file_name + ": config.json");

    Model model;
    std::vector<ContainerLayer> container;
    try {
        Architecture architecture = parse_architecture(config, "config.json");
        model = std::move(architecture.model);
        container = std::move(architecture.container_layers);
    } catch (const UnsupportedError& error) {
        model.has_architecture = false;
        model.warnings.push_back(error.what());
    }
    model.format = "keras-v3";
    model.producer = "keras";
    if (archive.contains("metadata.json")) {
        Json metadata = parse_json_text(archive.read_text("metadata.json"), file_name + ": metadata.json");
        if (metadata.is_object()) {
            for (const char* key : {"keras_version", "date_saved"}) {
                auto it = metadata.find(key);
                if (it != metadata.end() && it->is_string()) model.metadata[key] = it->get<std::string>();
            }
        }
    }
    if (model.metadata.count("keras_version")) set_producer(model, model.metadata["keras_version"]);

    if (!archive.contains("model.weights.h5")) {
        model.warnings.push_back("the archive has no model.weights.h5: no weights loaded");
        return model;
    }
    FileBytes weight_bytes = archive.read("model.weights.h5");
    model.file_bytes = weight_bytes;
    hdf5::File weights_file = hdf5::File::open(weight_bytes);
    hdf5::Object root = weights_file.root();
    if (model.has_architecture) {
        attach_keras3_weights(model, container, root);
    } else if (std::optional<hdf5::Object> layers_group = root.find("layers")) {
        for (const std::string& key : layers_group->children()) {
            Layer layer;
            layer.name = key;
            layer.weights = read_keras3_variables(layers_group->child(key), key, {}, 0);
            layer.unsupported_reason = "no architecture: the model is a subclassed model";
            model.layers.push_back(std::move(layer));
        }
    }
    return model;
}

}  // namespace convscope::keras
