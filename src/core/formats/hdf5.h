// HDF5 reader: enough of "HDF5 File Format Specification Version 3.0" for
// every file Keras and h5py write. Read-only, from an untrusted byte span.
//
// On-disk layout read (numbers follow the spec's sections):
//   (to be completed by the implementation: superblock v0-3, object headers
//    v1/v2, groups old and new style, attributes, datatypes, dataspaces,
//    layouts, filters)
//
// API contract used by the Keras reader (keep it stable):
//   hdf5::File file = hdf5::File::open(bytes);
//   hdf5::Object root = file.root();
//   root.is_group(); root.children() -> names in the file's link order
//   (creation order when tracked, else name order, as h5py lists them);
//   root.child("model_weights").child("conv2d")  (throws FormatError naming the path)
//   root.find("model_weights/conv2d/conv2d/kernel:0") -> std::optional<Object>
//   obj.has_attribute("weight_names"); obj.attribute("weight_names") -> hdf5::AttributeValue
//   obj.attribute_names()
//   dataset: obj.is_dataset(); obj.shape(); obj.dtype(); obj.read() -> Tensor
//   (a zero-copy view into the file for contiguous little-endian data).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/formats/registry.h"
#include "core/tensor/tensor.h"

namespace convscope::hdf5 {

bool is_hdf5(ByteSpan bytes);  // signature at 0, 512, 1024, ... per the spec

// Attribute values as Keras and h5py use them. Strings (fixed or
// variable length, scalar or 1-D) become std::string / vector<string>;
// numeric attributes become a Tensor (scalars have shape {}).
using AttributeValue = std::variant<std::string, std::vector<std::string>, Tensor>;

class FileImpl;

class Object {
public:
    const std::string& path() const;  // "/model_weights/conv2d"
    bool is_group() const;
    bool is_dataset() const;

    // Groups.
    std::vector<std::string> children() const;
    Object child(const std::string& name) const;
    std::optional<Object> find(const std::string& relative_path) const;

    // Attributes.
    std::vector<std::string> attribute_names() const;
    bool has_attribute(const std::string& name) const;
    AttributeValue attribute(const std::string& name) const;

    // Datasets.
    Shape shape() const;
    DType dtype() const;
    Tensor read() const;

    struct State;
    explicit Object(std::shared_ptr<const State> state) : state_(std::move(state)) {}

private:
    std::shared_ptr<const State> state_;
};

class File {
public:
    static File open(const FileBytes& bytes);
    Object root() const;
    int superblock_version() const;

private:
    std::shared_ptr<FileImpl> impl_;
};

}  // namespace convscope::hdf5
