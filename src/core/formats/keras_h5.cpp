// Keras HDF5 files: full models (Keras 1/2, tf.keras, Keras 3 legacy
// writer) and weights-only files (Keras 1/2 save_weights, Keras 3
// model.weights.h5). The layouts are described in keras.h and, with the
// attribute types, in scripts/keras_layout.py.
#include <algorithm>
#include <set>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/hdf5.h"
#include "core/formats/keras.h"
#include "core/formats/keras_h5_internal.h"
#include "core/formats/keras_internal.h"

namespace convscope::keras {

namespace {

std::vector<std::string> attribute_strings(const hdf5::Object& object, const std::string& name) {
    hdf5::AttributeValue value = object.attribute(name);
    if (auto text = std::get_if<std::string>(&value)) return {*text};
    if (auto list = std::get_if<std::vector<std::string>>(&value)) return *list;
    // Keras writes an empty name list as np.asarray([]): a float64 array of 0.
    if (auto tensor = std::get_if<Tensor>(&value); tensor && tensor->element_count() == 0) return {};
    throw_format_error("HDF5 attribute ", object.path(), "@", name, ": expected a list of strings, found a ",
                       std::get_if<Tensor>(&value) ? "numeric array" : "value of another type");
}

}  // namespace

std::optional<std::string> string_attribute(const hdf5::Object& object, const std::string& name) {
    if (!object.has_attribute(name)) return std::nullopt;
    hdf5::AttributeValue value = object.attribute(name);
    if (auto text = std::get_if<std::string>(&value)) return *text;
    if (auto list = std::get_if<std::vector<std::string>>(&value); list && list->size() == 1) return list->front();
    throw_format_error("HDF5 attribute ", object.path(), "@", name, ": expected a string");
}

bool has_string_list(const hdf5::Object& object, const std::string& name) {
    return object.has_attribute(name) || object.has_attribute(name + "0");
}

// save_attributes_to_hdf5_group splits lists over 64 KB into name0, name1, ...
std::vector<std::string> string_list_attribute(const hdf5::Object& object, const std::string& name) {
    if (object.has_attribute(name)) return attribute_strings(object, name);
    std::vector<std::string> all;
    for (uint64_t chunk = 0; object.has_attribute(name + std::to_string(chunk)); ++chunk) {
        if (chunk >= limits::max_layers) {
            throw_limit_error("HDF5 attribute ", object.path(), "@", name, ": more than ", limits::max_layers, " chunks");
        }
        std::vector<std::string> part = attribute_strings(object, name + std::to_string(chunk));
        all.insert(all.end(), part.begin(), part.end());
        if (all.size() > limits::max_layers) {
            throw_limit_error("HDF5 attribute ", object.path(), "@", name, ": more than ", limits::max_layers, " names");
        }
    }
    return all;
}

// The datasets a weight_names list names, in that (get_weights) order. The
// inner group names need not match the layer name, so the path always
// comes from weight_names.
std::vector<Weight> read_named_weights(const hdf5::Object& layer_group) {
    std::vector<Weight> weights;
    if (!has_string_list(layer_group, "weight_names")) {
        throw_format_error("HDF5 group ", layer_group.path(), ": expected attribute weight_names");
    }
    for (const std::string& name : string_list_attribute(layer_group, "weight_names")) {
        std::optional<hdf5::Object> dataset = layer_group.find(name);
        if (!dataset || !dataset->is_dataset()) {
            throw_format_error("HDF5 group ", layer_group.path(), ": weight_names lists '", name,
                               "' but there is no dataset ", layer_group.path(), "/", name);
        }
        weights.push_back({name, dataset->read()});
    }
    return weights;
}

namespace {

std::vector<std::string> describe_root(const hdf5::Object& root) {
    std::vector<std::string> parts = root.attribute_names();
    for (const std::string& child : root.children()) parts.push_back(child + "/");
    return parts;
}

std::string joined(const std::vector<std::string>& items, size_t limit = 12) {
    std::string out;
    for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
    if (items.size() > limit) out += ", ...";
    return out.empty() ? "nothing" : out;
}

void read_version_attributes(Model& model, const hdf5::Object& root, const std::optional<hdf5::Object>& weights) {
    std::optional<std::string> version = string_attribute(root, "keras_version");
    std::optional<std::string> backend = string_attribute(root, "backend");
    if (weights && !version) version = string_attribute(*weights, "keras_version");
    if (weights && !backend) backend = string_attribute(*weights, "backend");
    if (version) {
        set_producer(model, *version);
        model.metadata["keras_version"] = *version;
    } else {
        model.producer = "keras";
    }
    if (backend) model.metadata["backend"] = *backend;
}

Model weights_only_model(ModelFormat format) {
    Model model;
    model.format = format;
    model.has_architecture = false;
    model.warnings.push_back("the file holds weights only: there is no architecture, so layer types, wiring and "
                             "shapes are unknown");
    return model;
}

}  // namespace

// Attaches /model_weights/<layer> (or the root for save_weights files) to
// the layers of the architecture, by name.
void attach_h5_weights(Model& model, const hdf5::Object& weights_group) {
    std::vector<std::string> layer_names = string_list_attribute(weights_group, "layer_names");
    std::unordered_map<std::string, size_t> index_by_name = layer_indices(model);
    for (const std::string& layer_name : layer_names) {
        std::optional<hdf5::Object> group = weights_group.find(layer_name);
        if (!group || !group->is_group()) {
            throw_format_error("HDF5 group ", weights_group.path(), ": layer_names lists '", layer_name,
                               "' but there is no group ", weights_group.path(), "/", layer_name);
        }
        std::vector<Weight> weights = read_named_weights(*group);
        auto found = index_by_name.find(layer_name);
        int index = found == index_by_name.end() ? -1 : static_cast<int>(found->second);
        if (index >= 0) {
            model.layers[static_cast<size_t>(index)].weights = std::move(weights);
            continue;
        }
        if (weights.empty()) continue;
        if (has_flattened_group(model, layer_name)) {
            weights = attach_nested_weights(model, layer_name, std::move(weights));
            if (weights.empty()) continue;
            model.warnings.push_back("nested model '" + layer_name + "': " + std::to_string(weights.size()) +
                                     " weight(s) match none of its layers (first: " + weights.front().name + ")");
        }
        Layer orphan;
        orphan.name = layer_name;
        orphan.weights = std::move(weights);
        orphan.unsupported_reason = "weights without a layer in the model config";
        model.warnings.push_back("the file has weights for layer '" + layer_name + "', which the model config does not list");
        model.layers.push_back(std::move(orphan));
    }
}

Model open_h5(const FileBytes& bytes, const std::string& file_name) {
    hdf5::File file = hdf5::File::open(bytes);
    hdf5::Object root = file.root();

    if (root.has_attribute("model_config")) {
        std::optional<hdf5::Object> weights_group = root.find("model_weights");
        std::string config_text = string_attribute(root, "model_config").value_or("");
        Json config = parse_json_text(config_text, file_name + ": HDF5 attribute /@model_config");
        Model model;
        try {
            model = parse_architecture(config, "model_config").model;
            model.format = ModelFormat::keras_h5;
        } catch (const UnsupportedError& error) {
            model = weights_only_model(ModelFormat::keras_h5);
            model.warnings.push_back(error.what());
        }
        model.file_bytes = bytes;
        read_version_attributes(model, root, weights_group);
        if (auto training = string_attribute(root, "training_config")) model.metadata["training_config"] = *training;
        if (weights_group) {
            attach_h5_weights(model, *weights_group);
        } else {
            model.warnings.push_back("the file has a model config but no /model_weights group: no weights loaded");
        }
        return model;
    }

    if (has_string_list(root, "layer_names")) {  // Keras 1/2 save_weights
        Model model = weights_only_model(ModelFormat::keras_weights_h5);
        model.file_bytes = bytes;
        read_version_attributes(model, root, std::nullopt);
        for (const std::string& layer_name : string_list_attribute(root, "layer_names")) {
            std::optional<hdf5::Object> group = root.find(layer_name);
            if (!group || !group->is_group()) {
                throw_format_error("HDF5 root: layer_names lists '", layer_name, "' but there is no group /", layer_name);
            }
            Layer layer;
            layer.name = layer_name;
            layer.weights = read_named_weights(*group);
            layer.unsupported_reason = "no architecture in a weights-only file";
            model.layers.push_back(std::move(layer));
        }
        return model;
    }

    std::optional<hdf5::Object> layers_group = root.find("layers");
    if (!layers_group) layers_group = root.find("_layer_checkpoint_dependencies");  // tf.keras 2.13-2.15
    bool backslashed = false;
    for (const std::string& child : root.children()) backslashed |= child.rfind("layers\\", 0) == 0;
    if (!layers_group && backslashed) {  // Keras 3 saved on Windows: groups "layers\\conv2d"
        Model model = weights_only_model(ModelFormat::keras_weights_h5);
        model.file_bytes = bytes;
        model.producer = "keras";
        model.layers = weight_layers_by_path(root, "no architecture in a weights-only file");
        return model;
    }
    if (layers_group && layers_group->is_group()) {  // Keras 3 model.weights.h5
        Model model = weights_only_model(ModelFormat::keras_weights_h5);
        model.file_bytes = bytes;
        model.producer = "keras";
        for (const std::string& key : layers_group->children()) {
            Layer layer;
            layer.name = key;
            layer.weights = read_keras3_variables(layers_group->child(key), key, {}, 0);
            layer.unsupported_reason = "no architecture in a weights-only file";
            model.layers.push_back(std::move(layer));
            if (model.layers.size() > limits::max_layers) {
                throw_limit_error(file_name, ": more than ", limits::max_layers, " layers");
            }
        }
        return model;
    }

    throw_format_error(file_name, ": an HDF5 file but not a Keras model: expected the root attribute model_config "
                       "(full model) or layer_names (weights), or a layers/ group (Keras 3 weights); found ",
                       joined(describe_root(root)));
}

// Keras 3 H5IOStore: <group>/vars/0, 1, ... then sub-objects' groups.
namespace {

// Hard links can make an HDF5 group its own descendant; depth alone would
// still allow 2^64 paths through two self-links, so the walk also counts
// the groups it visits.
constexpr uint64_t max_keras3_groups_per_layer = 100000;

// A vars group's datasets 0, 1, ... in numeric order.
std::vector<Weight> read_vars_group(const hdf5::Object& vars, const std::string& weight_prefix,
                                    const std::vector<std::string>& names) {
    std::vector<Weight> weights;
    std::vector<std::string> indices = vars.children();
    for (const std::string& index : indices) {
        if (index.empty() || index.size() > 9 || !std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            throw_format_error("HDF5 group ", vars.path(), ": expected variables named 0, 1, ..., found '", index, "'");
        }
    }
    std::sort(indices.begin(), indices.end(), [](const std::string& a, const std::string& b) {
        return std::stoul(a) < std::stoul(b);
    });
    bool use_names = names.size() == indices.size();
    for (size_t i = 0; i < indices.size(); ++i) {
        hdf5::Object dataset = vars.child(indices[i]);
        if (!dataset.is_dataset()) throw_format_error("HDF5 object ", dataset.path(), ": expected a dataset");
        std::string name = use_names ? weight_prefix + "/" + names[i] : weight_prefix + "/vars/" + indices[i];
        weights.push_back({name, dataset.read()});
    }
    return weights;
}

std::vector<Weight> read_keras3_variables_bounded(const hdf5::Object& group, const std::string& weight_prefix,
                                                  const std::vector<std::string>& names, int depth,
                                                  uint64_t& visited) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error("HDF5 group ", group.path(), ": nested deeper than ", limits::max_nesting_depth, " levels");
    }
    if (++visited > max_keras3_groups_per_layer) {
        throw_limit_error("HDF5 group ", group.path(), ": more than ", max_keras3_groups_per_layer,
                          " groups under one layer (a link cycle?)");
    }
    std::vector<Weight> weights;
    std::optional<hdf5::Object> vars = group.find("vars");
    if (vars && vars->is_group()) weights = read_vars_group(*vars, weight_prefix, names);
    for (const std::string& child : group.children()) {
        if (child == "vars") continue;
        hdf5::Object sub = group.child(child);
        if (!sub.is_group()) continue;
        std::vector<Weight> inner = read_keras3_variables_bounded(sub, weight_prefix + "/" + child, {}, depth + 1, visited);
        weights.insert(weights.end(), std::make_move_iterator(inner.begin()), std::make_move_iterator(inner.end()));
    }
    return weights;
}

// The Keras class a container key names: keys are snake_case(class name)
// with an optional "_<k>" counter ("conv2d_3" -> Conv2D); empty for keys
// that are attribute names of a subclassed model ("encoder").
std::string class_of_key(const std::string& key) {
    static const char* const classes[] = {"Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
                                          "SeparableConv1D", "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose",
                                          "Conv3DTranspose", "Dense", "BatchNormalization", "LayerNormalization",
                                          "GroupNormalization", "Embedding", "PReLU"};
    std::string base = key;
    size_t underscore = key.rfind('_');
    if (underscore != std::string::npos && underscore + 1 < key.size() &&
        std::all_of(key.begin() + static_cast<long>(underscore) + 1, key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        base = key.substr(0, underscore);
    }
    for (const char* name : classes) {
        if (snake_case(name) == base) return name;
    }
    return "";
}

bool is_container_segment(const std::string& part) {
    return part == "layers" || part == "_layer_checkpoint_dependencies";
}

void collect_weight_layers(const hdf5::Object& group, const std::vector<std::string>& parts, const std::string& reason,
                           int depth, uint64_t& visited, std::vector<Layer>& out) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error("HDF5 group ", group.path(), ": nested deeper than ", limits::max_nesting_depth, " levels");
    }
    if (++visited > max_keras3_groups_per_layer || out.size() > limits::max_layers) {
        throw_limit_error("HDF5 group ", group.path(), ": more than ", max_keras3_groups_per_layer, " groups");
    }
    std::string name, parent;
    for (const std::string& part : parts) {
        if (is_container_segment(part)) continue;
        parent = name;
        name += (name.empty() ? "" : "/") + part;
    }
    std::optional<hdf5::Object> vars = group.find("vars");
    if (vars && vars->is_group() && !vars->children().empty() && !name.empty()) {
        Layer layer;
        layer.name = name;
        layer.type = class_of_key(parts.back());
        std::vector<std::string> names = layer.type.empty() ? std::vector<std::string>{} : variable_names(layer.type, Json::object());
        size_t count = vars->children().size();
        // A conv or Dense without bias has one variable fewer.
        if (names.size() == count + 1 && names.back() == "bias") names.pop_back();
        layer.weights = read_vars_group(*vars, name, names);
        // An attribute-named group ("conv1") holding a 4-D kernel and its
        // bias is a Conv2D: naming them lets the kernel views show it.
        const std::vector<Weight>& w = layer.weights;
        if (layer.type.empty() && !w.empty() && w.size() <= 2 && w[0].tensor.rank() == 4 &&
            (w.size() == 1 || (w[1].tensor.rank() == 1 && w[1].tensor.shape()[0] == w[0].tensor.shape()[3]))) {
            layer.type = "Conv2D";
            layer.weights[0].name = name + "/kernel";
            if (w.size() == 2) layer.weights[1].name = name + "/bias";
        }
        layer.unsupported_reason = reason;
        if (!parent.empty()) layer.attributes[nested_group_attribute] = parent;
        out.push_back(std::move(layer));
    }
    for (const std::string& child : group.children()) {
        if (child == "vars") continue;
        hdf5::Object sub = group.child(child);
        if (!sub.is_group()) continue;
        std::vector<std::string> sub_parts = parts;
        // Keras 3 on Windows: one group "layers\\conv2d" for layers/conv2d.
        size_t start = 0;
        while (true) {
            size_t slash = child.find('\\', start);
            sub_parts.push_back(child.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
            if (slash == std::string::npos) break;
            start = slash + 1;
        }
        collect_weight_layers(sub, sub_parts, reason, depth + 1, visited, out);
    }
}

}  // namespace

std::vector<Weight> read_keras3_variables(const hdf5::Object& group, const std::string& weight_prefix,
                                          const std::vector<std::string>& names, int depth) {
    uint64_t visited = 0;
    return read_keras3_variables_bounded(group, weight_prefix, names, depth, visited);
}

}  // namespace convscope::keras

namespace convscope::keras {

std::vector<Layer> weight_layers_by_path(const hdf5::Object& root, const std::string& reason) {
    std::vector<Layer> layers;
    uint64_t visited = 0;
    for (const std::string& child : root.children()) {
        // Optimizer and metric state is training state, not the model's weights.
        if (child == "optimizer" || child == "metrics" || child == "vars") continue;
        hdf5::Object group = root.child(child);
        if (group.is_group()) collect_weight_layers(group, {child}, reason, 1, visited, layers);
    }
    return layers;
}

}  // namespace convscope::keras

namespace convscope::keras {

Model open_config_with_weights(const std::string& json_text, const std::string& json_name, const FileBytes& weights,
                               const std::string& weights_name) {
    Json config = parse_json_text(json_text, json_name);
    // model.to_json() saved with json.dump(): a JSON string holding the JSON.
    if (config.is_string()) config = parse_json_text(config.get<std::string>(), json_name + " (a JSON string)");
    Architecture architecture = parse_architecture(config, json_name);
    Model model = std::move(architecture.model);
    model.format = ModelFormat::keras_json;
    model.file_bytes = weights;
    if (const Json* version = config.is_object() && config.contains("keras_version") ? &config["keras_version"] : nullptr;
        version && version->is_string()) {
        set_producer(model, version->get<std::string>());
        model.metadata["keras_version"] = version->get<std::string>();
    } else {
        model.producer = "keras";
    }
    hdf5::File file = hdf5::File::open(weights);
    hdf5::Object root = file.root();
    if (has_string_list(root, "layer_names")) {
        attach_h5_weights(model, root);
    } else if (std::optional<hdf5::Object> model_weights = root.find("model_weights")) {
        attach_h5_weights(model, *model_weights);  // a full .h5 given as the weights
    } else if (root.find("layers") || root.find("_layer_checkpoint_dependencies") || !root.children().empty()) {
        attach_keras3_weights(model, architecture.container_layers, root);
    }
    model.metadata["architecture_file"] = json_name;
    model.metadata["weights_file"] = weights_name;
    return model;
}

}  // namespace convscope::keras
