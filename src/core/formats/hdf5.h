// HDF5 reader: enough of "HDF5 File Format Specification Version 3.0" for
// every file Keras and h5py write. Read-only, from an untrusted byte span.
//
// On-disk layout read (section numbers of "HDF5 File Format Specification
// Version 3.0"; every address is relative to the superblock's base address):
//   1. II.A Superblock, found at offset 0 or 512 * 2^k: version 0/1 (sizes of
//      offsets and lengths, base address, root group symbol table entry ->
//      root object header) or version 2/3 (same, root object header address
//      directly, Jenkins lookup3 checksum verified).
//   2. IV.A.1 Object headers: version 1 (16-byte prefix, 8-aligned messages)
//      and version 2 ("OHDR", optional times / attribute phase values /
//      creation order per message, checksum); continuation messages (0x10)
//      chain further blocks (raw for v1, "OCHK" + checksum for v2); a block
//      seen twice is a cycle and fails.
//   3. Groups, old style: IV.A.2.r Symbol Table message -> III.A.1 v1 B-tree
//      (type 0, "TREE") -> III.C symbol table nodes ("SNOD") of III.D
//      entries whose names live in the III.D local heap ("HEAP").
//   4. Groups, new style: IV.A.2.g Link messages (hard, soft; external links
//      are reported as unsupported) and IV.A.2.c Link Info; with dense
//      storage the links are III.G fractal heap objects ("FRHP", "FHIB",
//      "FHDB"; managed and tiny IDs) found through the name index, a III.A.2
//      v2 B-tree ("BTHD", "BTIN", "BTLF", record type 5).
//   5. Attributes: IV.A.2.m Attribute messages v1 (8-padded), v2, v3, and
//      dense storage via IV.A.2.v Attribute Info (fractal heap + v2 B-tree
//      record type 8). Creation order when tracked, else name order.
//   6. IV.A.2.d Datatype: fixed-point (any size 1..8, either byte order),
//      floating-point (16/32/64-bit IEEE, either order), strings (fixed,
//      null-terminated / null-padded / space-padded), variable-length strings
//      (III.E global heap, "GCOL"), enumerations (bool = int8 FALSE/TRUE),
//      committed (shared) datatypes. Compound, reference, array, opaque and
//      time types parse but are reported as unsupported when read.
//   7. IV.A.2.b Dataspace versions 1 and 2: scalar, simple (dims, max dims), null.
//   8. IV.A.2.i Data Layout versions 1-4: compact, contiguous, chunked with
//      the v1 B-tree index (type 1) or, for version 4, the single chunk,
//      implicit, fixed array ("FAHD"/"FADB", paged or not), extensible
//      array ("EAHD"/"EAIB"/"EASB"/"EADB") and v2 B-tree (record types
//      10/11) indexes. Virtual layouts are reported as unsupported.
//   9. IV.A.2.l Filter Pipeline versions 1 and 2: deflate (1), shuffle (2),
//      fletcher32 (3, checksum verified); others fail naming the filter id.
//  10. IV.A.2.f Fill Value versions 1-3: unallocated chunks read as it.
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
    // Object header address: identifies an object reached by several paths
    // (hard links, cycles).
    uint64_t address() const;
    bool is_group() const;
    bool is_dataset() const;

    // Groups.
    std::vector<std::string> children() const;
    Object child(const std::string& name) const;
    std::optional<Object> find(const std::string& relative_path) const;
    // The path a child soft link points to, or nullopt for other links.
    std::optional<std::string> soft_link_target(const std::string& name) const;

    // Attributes.
    std::vector<std::string> attribute_names() const;
    bool has_attribute(const std::string& name) const;
    AttributeValue attribute(const std::string& name) const;

    // Datasets.
    Shape shape() const;
    DType dtype() const;
    Tensor read() const;
    // String datasets (fixed or variable length) cannot be Tensors.
    bool is_string_dataset() const;
    std::vector<std::string> read_strings() const;
    // "float32 little-endian", "vlen string", "compound (12 bytes)", ...
    std::string datatype_description() const;
    // "contiguous", "compact", "chunked (fixed array index; deflate, shuffle)";
    // lets tests and tools see which storage path a dataset takes.
    std::string storage_description() const;

    struct State;
    explicit Object(std::shared_ptr<const State> state) : state_(std::move(state)) {}
    const std::shared_ptr<const State>& state() const { return state_; }

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

// A canonical JSON description of the whole file, the format shared with
// tests/tools/h5wasm_dump.mjs so the two can be diffed (`convscope h5dump`):
// {"objects": [{"path", "kind": "group"|"dataset"|"hardlink", "attributes":
// [{"name", "value"}], "children" | "shape", "dtype", "sum", "sum_squares"
// | "strings" | "target"}, ...]} in depth-first link order; an object that
// is its own ancestor (a cycle) is listed as "hardlink" with its "target";
// a soft link to nothing is "broken-link" with its "target". Attribute values:
// a string, an array of strings, or {"dtype", "shape", "values"}.
std::string dump_canonical_json(const File& file, int indent = 1);

}  // namespace convscope::hdf5
