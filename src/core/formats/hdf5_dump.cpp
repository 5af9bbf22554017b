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

void dump_object(const Object& object, Json& objects, std::map<uint64_t, std::string>& seen, int depth) {
    if (depth > limits::max_nesting_depth) {
        throw_limit_error("HDF5 ", object.path(), ": nesting deeper than ", limits::max_nesting_depth);
    }
    Json entry;
    entry["path"] = object.path();
    auto previous = seen.find(object.address());
    if (previous != seen.end()) {
        // A second hard link to an object already listed (or a cycle).
        entry["kind"] = "hardlink";
        entry["target"] = previous->second;
        objects.push_back(entry);
        return;
    }
    seen.emplace(object.address(), object.path());
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
    for (const std::string& name : children) dump_object(object.child(name), objects, seen, depth + 1);
}

}  // namespace

std::string dump_canonical_json(const File& file, int indent) {
    Json objects = Json::array();
    std::map<uint64_t, std::string> seen;
    dump_object(file.root(), objects, seen, 0);
    Json out;
    out["objects"] = objects;
    return out.dump(indent);
}

}  // namespace convscope::hdf5
