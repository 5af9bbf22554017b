// Nested Keras models (a Sequential or Functional used as a layer) flattened
// into the enclosing model, so every inner layer is a full Layer the engine
// runs, named by its path ("sequential_1/model1/Conv1").
//
// [SECTION] parsing and budget
// [SECTION] splicing the layers
// [SECTION] weights stored under the outer layer's group
// [SECTION] Keras 3 container entries
#include <cstdint>
#include <map>
#include <unordered_map>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/keras_internal.h"

namespace convscope::keras {

// -----------------------------------------------------------------------------
// [SECTION] parsing and budget
// -----------------------------------------------------------------------------

// A nested model's architecture, parsed once per config entry: a shared
// nested model called k times must not be re-parsed k times at every
// nesting level (k^depth work on a hostile file).
const NestedParse& parse_nested(const Json& entry, const std::string& where, int depth, NestedCache& cache) {
    auto cached = cache.find(&entry);
    if (cached != cache.end()) return cached->second;
    NestedParse result;
    try {
        Architecture inner = parse_architecture(entry, where, depth + 1);
        result.model = std::move(inner.model);
        result.expanded_layers = inner.expanded_layers;
        result.parsed = true;
    } catch (const LimitError&) {
        throw;
    } catch (const Error&) {
        // The nested model stays one opaque layer, which says why.
    }
    return cache.emplace(&entry, std::move(result)).first->second;
}

uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
uint64_t saturating_mul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

// Whether `calls` copies of a nested model fit the flattening budget.
bool can_flatten(const NestedParse& nested, uint64_t calls, size_t input_count, uint64_t& budget_used) {
    if (!nested.parsed || nested.model.inputs.size() != input_count || nested.model.outputs.empty()) return false;
    uint64_t added = saturating_mul(nested.expanded_layers, calls);
    if (saturating_add(budget_used, added) > max_flattened_layers) return false;
    budget_used += added;
    return true;
}

// A nested model that is not flattened (too large, or its config cannot be
// read) becomes one Layer holding all its weights; its own architecture
// only gives its output shape.
void describe_nested_model(Layer& layer, const NestedParse& nested, const std::vector<Shape>& input_shapes) {
    layer.unsupported_reason = "nested model " + layer.type + " '" + layer.name + "': " +
                               (nested.parsed ? "too large to flatten" : "its config could not be read") +
                               "; shown as one layer holding all its weights; its inner layers are not run";
    if (nested.parsed && !nested.model.outputs.empty()) layer.output_shape = nested.model.outputs[0].shape;
    if (!layer.output_shape.empty() && !input_shapes.empty() && !input_shapes[0].empty()) {
        layer.output_shape[0] = input_shapes[0][0];
    }
}

// The batch dimension of a flattened model's outputs follows its input.
Shape with_batch_of(Shape shape, const Shape& input) {
    if (!shape.empty() && !input.empty()) shape[0] = input[0];
    return shape;
}

// -----------------------------------------------------------------------------
// [SECTION] splicing the layers
// -----------------------------------------------------------------------------

std::string nested_group_of(const Layer& layer) { return layer.attribute_string(nested_group_attribute, ""); }

SplicedModel splice_nested_model(Model& outer, const Model& inner, const std::string& prefix,
                                 const std::vector<std::string>& input_values, const std::string& owner_prefix) {
    if (inner.inputs.size() != input_values.size()) {
        throw_format_error("nested model '", prefix, "' takes ", inner.inputs.size(), " input(s) but is called with ",
                           input_values.size());
    }
    std::unordered_map<std::string, std::string> renamed;
    for (size_t i = 0; i < inner.inputs.size(); ++i) renamed[inner.inputs[i].name] = input_values[i];
    auto outer_value = [&](const std::string& value) {
        auto found = renamed.find(value);
        return found == renamed.end() ? prefix + "/" + value : found->second;
    };
    for (const Layer& layer : inner.layers) {
        // The inner model's InputLayers only name its inputs, which now are
        // the values the outer graph passes in.
        bool feeds_input = layer.type == "InputLayer" && layer.outputs.size() == 1 && renamed.count(layer.outputs[0]);
        if (feeds_input) continue;
        Layer copy = layer;
        copy.name = prefix + "/" + layer.name;
        std::string inner_group = nested_group_of(layer);
        copy.attributes[nested_group_attribute] = inner_group.empty() ? prefix : prefix + "/" + inner_group;
        for (std::string& value : copy.inputs) value = outer_value(value);
        for (std::string& value : copy.outputs) value = outer_value(value);
        std::string inner_owner = layer.attribute_string("shares_weights_with", "");
        if (!inner_owner.empty()) copy.attributes["shares_weights_with"] = prefix + "/" + inner_owner;
        if (!owner_prefix.empty()) {
            copy.attributes["shares_weights_with"] = owner_prefix + "/" + (inner_owner.empty() ? layer.name : inner_owner);
            copy.weights.clear();
        }
        outer.layers.push_back(std::move(copy));
    }
    for (const std::string& warning : inner.warnings) outer.warnings.push_back("in nested model '" + prefix + "': " + warning);
    SplicedModel result;
    for (const ValueInfo& output : inner.outputs) {
        result.output_values.push_back(outer_value(output.name));
        result.output_shapes.push_back(output.shape);
    }
    return result;
}

// -----------------------------------------------------------------------------
// [SECTION] weights stored under the outer layer's group
// -----------------------------------------------------------------------------

namespace {

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t slash = path.find('/', start);
        parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return parts;
}

bool in_root(const Layer& layer, const std::string& root) {
    if (root.empty()) return true;  // any layer
    std::string group = nested_group_of(layer);
    return group == root || group.compare(0, root.size() + 1, root + "/") == 0;
}

}  // namespace

bool has_flattened_group(const Model& model, const std::string& root) {
    for (const Layer& layer : model.layers) {
        if (in_root(layer, root)) return true;
    }
    return false;
}

std::vector<Weight> attach_nested_weights(Model& model, const std::string& root, std::vector<Weight> weights) {
    // Layers under `root` that own weights (later calls of shared layers
    // borrow them), by full name and by their own last name component.
    std::unordered_map<std::string, size_t> by_name;
    std::multimap<std::string, size_t> by_leaf;
    for (size_t i = 0; i < model.layers.size(); ++i) {
        const Layer& layer = model.layers[i];
        if (!in_root(layer, root) || layer.attribute("shares_weights_with")) continue;
        by_name.emplace(layer.name, i);
        by_leaf.emplace(layer.name.substr(layer.name.rfind('/') + 1), i);
    }
    std::vector<Weight> left;
    for (Weight& weight : weights) {
        std::vector<std::string> parts = split_path(weight.name);
        if (parts.size() < 2) {
            left.push_back(std::move(weight));
            continue;
        }
        parts.pop_back();  // the variable ("kernel:0")
        int target = -1;
        // Longest matching path first: "model1/Conv1" under root, then "Conv1".
        for (size_t first = 0; first < parts.size() && target < 0; ++first) {
            std::string path;
            for (size_t k = first; k < parts.size(); ++k) path += (path.empty() ? "" : "/") + parts[k];
            for (const std::string& candidate : {root.empty() ? path : root + "/" + path, path}) {
                auto found = by_name.find(candidate);
                if (found != by_name.end()) {
                    target = static_cast<int>(found->second);
                    break;
                }
            }
        }
        if (target < 0) {
            // Inner models' own names are not always in the weight names
            // (Teachable Machine writes "Conv1/kernel:0" for
            // sequential_1/model1/Conv1): match the layer's own name, taking
            // the first such layer that has no weight of this name yet.
            auto range = by_leaf.equal_range(parts.back());
            for (auto it = range.first; it != range.second && target < 0; ++it) {
                bool taken = false;
                for (const Weight& existing : model.layers[it->second].weights) taken |= existing.name == weight.name;
                if (!taken) target = static_cast<int>(it->second);
            }
        }
        if (target < 0) {
            left.push_back(std::move(weight));
            continue;
        }
        model.layers[static_cast<size_t>(target)].weights.push_back(std::move(weight));
    }
    return left;
}

std::vector<Weight> attach_weights_by_path(Model& model, std::vector<Weight> weights) {
    std::unordered_map<std::string, size_t> by_name = layer_indices(model);
    std::vector<Weight> nested;
    for (Weight& weight : weights) {
        std::string path = weight.name;
        size_t slash = path.rfind('/');
        auto found = slash == std::string::npos ? by_name.end() : by_name.find(path.substr(0, slash));
        if (found != by_name.end()) model.layers[found->second].weights.push_back(std::move(weight));
        else nested.push_back(std::move(weight));
    }
    if (nested.empty()) return nested;
    return attach_nested_weights(model, "", std::move(nested));
}

// -----------------------------------------------------------------------------
// [SECTION] Keras 3 container entries
// -----------------------------------------------------------------------------

std::vector<ContainerLayer> nested_container(const ContainerLayer& entry) {
    std::vector<ContainerLayer> result;
    auto layers = entry.config.find("layers");
    if (layers == entry.config.end() || !layers->is_array()) return result;
    bool sequential = entry.class_name == "Sequential";
    for (size_t i = 0; i < layers->size(); ++i) {
        const Json& item = (*layers)[i];
        if (!item.is_object()) continue;
        auto text_of = [](const Json& object, const char* key) {
            auto it = object.find(key);
            return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
        };
        std::string class_name = text_of(item, "class_name");
        if (sequential && i == 0 && class_name == "InputLayer") continue;  // not in Sequential.layers
        auto config = item.find("config");
        if (config == item.end() || !config->is_object()) continue;
        std::string name = text_of(item, "name");
        if (name.empty()) name = text_of(*config, "name");
        bool is_model = class_name == "Sequential" || class_name == "Functional" || class_name == "Model";
        result.push_back({name, class_name, *config, is_model});
    }
    return result;
}

}  // namespace convscope::keras
