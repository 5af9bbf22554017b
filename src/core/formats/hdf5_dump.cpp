// The canonical JSON dump of an HDF5 file (see dump_canonical_json in hdf5.h).
// Sums are accumulated in double in row-major order, exactly as the h5wasm
// side does, so equal data gives bit-identical sums.
#include <set>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/hdf5.h"

namespace convscope::hdf5 {

namespace {

using Json = nlohmann::ordered_json;

Json shape_json(const Shape& shape) {
    Json out = Json::array();
    for (int64_t d : shape) out.push_back(d);
    return out;
}

Json attribute_json(const AttributeValue& value) {
    if (const auto* s = std::get_if<std::string>(&value)) return *s;
    if (const auto* list = std::get_if<std::vector<std::string>>(&value)) return *list;
    const Tensor& tensor = std::get<Tensor>(value);
    Json values = Json::array();
    for (uint64_t i = 0; i < tensor.element_count(); ++i) values.push_back(tensor.value_at(i));
    return Json{{"dtype", dtype_name(tensor.dtype())}, {"shape", shape_json(tensor.shape())}, {"values", values}};
}

// `ancestors` maps the header addresses on the current path to their paths.
void dump_object(const Object& object, Json& objects, std::map<uint64_t, std::string>& ancestors, int depth) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error("HDF5 ", object.path(), ": nesting deeper than ", limits::max_nesting_depth);
    }
    Json entry;
    entry["path"] = object.path();
    auto previous = ancestors.find(object.address());
    if (previous != ancestors.end()) {
        // A group linked into itself or an ancestor: stop here.
        entry["kind"] = "hardlink";
        entry["target"] = previous->second;
        objects.push_back(entry);
        return;
    }
    entry["kind"] = object.is_group() ? "group" : object.is_dataset() ? "dataset" : "other";
    Json attributes = Json::array();
    for (const std::string& name : object.attribute_names()) {
        attributes.push_back(Json{{"name", name}, {"value", attribute_json(object.attribute(name))}});
    }
    entry["attributes"] = attributes;
    std::vector<std::string> children;
    if (object.is_group()) {
        children = object.children();
        entry["children"] = children;
    } else if (object.is_dataset()) {
        entry["shape"] = shape_json(object.shape());
        if (object.is_string_dataset()) {
            entry["dtype"] = "string";
            entry["strings"] = object.read_strings();
        } else {
            Tensor data = object.read();
            double sum = 0.0, sum_squares = 0.0;
            for (uint64_t i = 0; i < data.element_count(); ++i) {
                double v = data.value_at(i);
                sum += v;
                sum_squares += v * v;
            }
            entry["dtype"] = dtype_name(data.dtype());
            entry["sum"] = sum;
            entry["sum_squares"] = sum_squares;
        }
    }
    objects.push_back(entry);
    ancestors.emplace(object.address(), object.path());
    for (const std::string& name : children) {
        std::optional<std::string> soft_target = object.soft_link_target(name);
        if (soft_target && !object.find(name)) {
            std::string path = object.path() == "/" ? "/" + name : object.path() + "/" + name;
            objects.push_back(Json{{"path", path}, {"kind", "broken-link"}, {"target", *soft_target}});
            continue;
        }
        dump_object(object.child(name), objects, ancestors, depth + 1);
    }
    ancestors.erase(object.address());
}

}  // namespace

std::string dump_canonical_json(const File& file, int indent) {
    Json objects = Json::array();
    std::map<uint64_t, std::string> ancestors;
    dump_object(file.root(), objects, ancestors, 0);
    Json out;
    out["objects"] = objects;
    // Strings in a file need not be UTF-8; replace bad bytes rather than fail.
    return out.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace convscope::hdf5
