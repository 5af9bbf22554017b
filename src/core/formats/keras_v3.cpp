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
#include <cstring>
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

// Groups by "/"-joined path however the writer spelled them: nested HDF5
// groups, or one root group whose name joins the parts with backslashes
// ("layers\conv2d"), as Keras 3 wrote on Windows before file_utils.join
// normalised the separator.
class StoreView {
public:
    explicit StoreView(const hdf5::Object& root) : root_(root), root_children_(root.children()) {}

    std::optional<hdf5::Object> find(const std::string& path) const {
        if (std::optional<hdf5::Object> nested = root_.find(path)) return nested;
        std::string joined = backslashed(path);
        if (std::find(root_children_.begin(), root_children_.end(), joined) != root_children_.end()) {
            return root_.child(joined);
        }
        return std::nullopt;
    }

    // The keys one level below `path`, in file order.
    std::vector<std::string> children(const std::string& path) const {
        std::optional<hdf5::Object> nested = root_.find(path);
        if (nested && nested->is_group()) return nested->children();
        std::vector<std::string> keys;
        std::string prefix = backslashed(path) + "\\";
        for (const std::string& child : root_children_) {
            if (child.compare(0, prefix.size(), prefix) != 0) continue;
            std::string rest = child.substr(prefix.size());
            std::string key = rest.substr(0, rest.find('\\'));
            if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
        }
        return keys;
    }

    bool has(const std::string& path) const { return find(path).has_value() || !children(path).empty(); }

private:
    static std::string backslashed(std::string path) {
        std::replace(path.begin(), path.end(), '/', '\\');
        return path;
    }
    hdf5::Object root_;
    std::vector<std::string> root_children_;
};

// tf.keras 2.13-2.15 saved a model's layers under
// _layer_checkpoint_dependencies, a dict listing every layer with weights
// twice ("layer_with_weights-k" and "layer-i"); the snake_case counter
// counts both entries but only the first makes a group, so the keys skip
// numbers (conv2d, conv2d_2). Keras 3 saves under layers/ with every
// number used.
const char* const checkpoint_container = "_layer_checkpoint_dependencies";

std::string container_under(const StoreView& store, const std::string& object_path) {
    std::string checkpoint = object_path.empty() ? checkpoint_container : object_path + "/" + checkpoint_container;
    if (store.has(checkpoint)) return checkpoint;
    return object_path.empty() ? "layers" : object_path + "/layers";
}

// The counter suffix of `key` for class key `base` ("conv2d_2" -> 2,
// "conv2d" -> 0), or -1 when the key belongs to another class.
long key_number(const std::string& key, const std::string& base) {
    if (key == base) return 0;
    if (key.size() <= base.size() + 1 || key.compare(0, base.size() + 1, base + "_") != 0) return -1;
    std::string digits = key.substr(base.size() + 1);
    if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
    return std::stol(digits);
}

struct AttachState {
    const StoreView& store;
    const std::unordered_map<std::string, size_t>& index_by_name;
    std::set<std::string> used_paths;
};

// One container's entries (a model's layer list) against its group;
// nested models that were flattened recurse with their names prefixed.
void attach_keras3_container(Model& model, const std::vector<ContainerLayer>& container, const std::string& container_path,
                             const std::string& prefix, AttachState& state, int depth) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error("HDF5 group ", container_path, ": models nested deeper than ", limits::max_nesting_depth);
    }
    bool checkpoint_layout = container_path.size() >= std::strlen(checkpoint_container) &&
                             container_path.compare(container_path.size() - std::strlen(checkpoint_container),
                                                    std::string::npos, checkpoint_container) == 0;
    std::vector<std::string> existing = state.store.children(container_path);
    std::map<std::string, int> counters;
    for (const ContainerLayer& entry : container) {
        std::string base = snake_case(entry.class_name);
        std::string key = base;
        if (checkpoint_layout) {
            // The next unused key of this class in counter order.
            long best = -1;
            for (const std::string& candidate : existing) {
                long number = key_number(candidate, base);
                if (number < 0 || state.used_paths.count(container_path + "/" + candidate)) continue;
                if (best < 0 || number < best) {
                    best = number;
                    key = candidate;
                }
            }
        } else {
            auto [counter, inserted] = counters.emplace(base, 0);
            if (!inserted) key += "_" + std::to_string(++counter->second);
        }
        std::string path = container_path + "/" + key;
        std::optional<hdf5::Object> group = state.used_paths.count(path) ? std::nullopt : state.store.find(path);
        if (!group) {
            path = container_path + "/" + entry.name;
            group = state.used_paths.count(path) ? std::nullopt : state.store.find(path);
        }
        std::string full_name = prefix + entry.name;
        auto found = state.index_by_name.find(full_name);
        if (!group || !group->is_group()) continue;
        if (found == state.index_by_name.end() && entry.is_model && has_flattened_group(model, full_name)) {
            state.used_paths.insert(path);
            attach_keras3_container(model, nested_container(entry), container_under(state.store, path), full_name + "/",
                                    state, depth + 1);
            continue;
        }
        if (found == state.index_by_name.end()) continue;
        state.used_paths.insert(path);
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

}  // namespace

void attach_keras3_weights(Model& model, const std::vector<ContainerLayer>& container, const hdf5::Object& root) {
    StoreView store(root);
    std::string top = container_under(store, "");
    if (!store.has(top)) {
        model.warnings.push_back("model.weights.h5 has no layers/ group: no weights loaded");
        return;
    }
    std::unordered_map<std::string, size_t> index_by_name = layer_indices(model);
    AttachState state{store, index_by_name, {}};
    attach_keras3_container(model, container, top, "", state, 0);
    for (const std::string& key : store.children(top)) {
        std::string path = top + "/" + key;
        if (state.used_paths.count(path)) continue;
        std::optional<hdf5::Object> group = store.find(path);
        if (group && group->is_group() && !read_keras3_variables(*group, key, {}, 0).empty()) {
            model.warnings.push_back("weights in " + path + " match no layer of config.json; not loaded");
        }
    }
}

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
        model.warnings.push_back(std::string("architecture not stored: ") + error.what() +
                                 "; every weight array is shown, grouped by its path");
    }
    model.format = ModelFormat::keras_v3;
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
    } else {
        model.layers = weight_layers_by_path(root, "no architecture: the model is a subclassed model");
    }
    return model;
}

}  // namespace convscope::keras
