// Internal structures of the HDF5 reader shared by hdf5.cpp (objects, groups,
// attributes), hdf5_heaps.cpp (heaps, B-trees, checksums) and hdf5_data.cpp
// (datatypes, layouts, chunk indexes, filters). Not part of the public API.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/base/byte_reader.h"
#include "core/base/error.h"
#include "core/formats/hdf5.h"

namespace convscope::hdf5 {

// Upper bounds on structures the spec leaves open-ended; a file needing more
// is hostile or broken, and these keep every loop finite.
namespace bounds {
constexpr uint64_t max_header_messages = 1u << 16;
constexpr uint64_t max_continuation_blocks = 1u << 12;
constexpr uint64_t max_btree_nodes = 1u << 20;
constexpr uint64_t max_links = 1u << 20;
constexpr int max_btree_depth = 64;
constexpr int max_datatype_depth = 16;
}  // namespace bounds

// Header message types (spec section IV.A.2.*).
enum MessageType : uint16_t {
    msg_nil = 0x00,
    msg_dataspace = 0x01,
    msg_link_info = 0x02,
    msg_datatype = 0x03,
    msg_fill_value_old = 0x04,
    msg_fill_value = 0x05,
    msg_link = 0x06,
    msg_external_files = 0x07,
    msg_layout = 0x08,
    msg_bogus = 0x09,
    msg_group_info = 0x0a,
    msg_filter_pipeline = 0x0b,
    msg_attribute = 0x0c,
    msg_comment = 0x0d,
    msg_modification_time_old = 0x0e,
    msg_shared_message_table = 0x0f,
    msg_continuation = 0x10,
    msg_symbol_table = 0x11,
    msg_modification_time = 0x12,
    msg_btree_k = 0x13,
    msg_driver_info = 0x14,
    msg_attribute_info = 0x15,
    msg_reference_count = 0x16,
};

struct Message {
    uint16_t type = 0;
    uint8_t flags = 0;
    ByteSpan body;  // base_offset is the absolute file offset
};

struct Datatype {
    enum class Class : uint8_t {
        fixed_point = 0, floating_point = 1, time = 2, string = 3, bitfield = 4, opaque = 5,
        compound = 6, reference = 7, enumeration = 8, variable_length = 9, array = 10
    };
    Class type_class = Class::fixed_point;
    uint32_t size = 0;
    bool big_endian = false;
    bool is_signed = false;
    uint16_t bit_offset = 0;
    uint16_t bit_precision = 0;
    unsigned string_padding = 0;  // 0 null-terminated, 1 null-padded, 2 space-padded
    bool vlen_is_string = false;
    std::shared_ptr<Datatype> base;  // enum, vlen, array
    std::vector<std::string> enum_names;
    std::vector<int64_t> enum_values;
    std::vector<uint64_t> array_dims;
};

struct Dataspace {
    enum class Kind : uint8_t { scalar, simple, null };
    Kind kind = Kind::scalar;
    Shape dims;
    std::vector<uint64_t> max_dims;  // ~0 marks an unlimited dimension
};

struct Filter {
    uint16_t id = 0;
    std::string name;
    uint16_t flags = 0;
    std::vector<uint32_t> client_data;
};

struct Layout {
    enum class Class : uint8_t { compact = 0, contiguous = 1, chunked = 2, virtual_storage = 3 };
    enum class ChunkIndex : uint8_t {
        btree_v1 = 0, single_chunk = 1, implicit = 2, fixed_array = 3, extensible_array = 4, btree_v2 = 5
    };
    unsigned version = 0;
    Class layout_class = Class::contiguous;
    ByteSpan compact_data;
    uint64_t address = ~0ull;
    uint64_t contiguous_size = 0;
    // Chunked.
    ChunkIndex index = ChunkIndex::btree_v1;
    std::vector<uint64_t> chunk_dims;  // dataset rank, element size stripped
    uint32_t chunk_element_size = 0;
    uint8_t chunk_flags = 0;
    uint64_t single_chunk_filtered_size = 0;
    uint32_t single_chunk_filter_mask = 0;
    // Index parameters kept for validation against the index headers.
    uint8_t fixed_array_page_bits = 0;
};

struct Link {
    enum class Kind : uint8_t { hard, soft, external };
    std::string name;
    Kind kind = Kind::hard;
    uint64_t address = ~0ull;
    std::string target;  // soft: path; external: "file:path"
    bool has_creation_order = false;
    int64_t creation_order = 0;
};

struct AttributeRecord {
    std::string name;
    Datatype datatype;
    Dataspace dataspace;
    ByteSpan data;
    bool has_creation_order = false;
    int64_t creation_order = 0;
};

class FileImpl {
public:
    FileBytes bytes;
    ByteSpan span;
    unsigned offset_size = 8;
    unsigned length_size = 8;
    uint64_t base_address = 0;
    int superblock_version = 0;
    uint64_t root_address = 0;

    uint64_t undefined_address() const {
        return offset_size >= 8 ? ~0ull : ((1ull << (8 * offset_size)) - 1);
    }
    bool is_undefined(uint64_t address) const { return address == undefined_address(); }
    uint64_t read_address(ByteReader& reader) const { return reader.uint_of_size(offset_size); }
    uint64_t read_length(ByteReader& reader) const { return reader.uint_of_size(length_size); }

    // A reader over [address, end of file), address relative to the base.
    ByteReader reader_at(uint64_t address, const std::string& what) const;
    // Exactly `length` bytes at `address`.
    ByteSpan bytes_at(uint64_t address, uint64_t length, const std::string& what) const;

    // Global heap objects (variable-length data), cached by collection.
    ByteSpan global_heap_object(uint64_t collection_address, uint32_t index, const std::string& where);

    // Counts bytes of dataset storage built in memory (chunked, filtered or
    // fill-value data; views into the file cost nothing) against
    // limits::max_decompressed_bytes for the whole file: each dataset alone
    // may be within the limits while a 20 KB file declares dozens of
    // gigabyte-sized sparse datasets. Throws LimitError naming `where`.
    void charge_materialized(uint64_t bytes, const std::string& where);

private:
    std::atomic<uint64_t> materialized_bytes_{0};
    std::mutex heap_mutex_;
    std::map<uint64_t, std::map<uint32_t, ByteSpan>> global_heaps_;
};

// ---- checksums (hdf5_heaps.cpp) ----
uint32_t jenkins_lookup3(const uint8_t* data, size_t length, uint32_t initial = 0);
// Verifies the 4-byte checksum that follows `covered`; the error names `what`.
void verify_checksum(ByteSpan covered, uint32_t stored, const std::string& what);
uint32_t fletcher32(const uint8_t* data, size_t length);

// ---- heaps and B-trees (hdf5_heaps.cpp) ----
// Old-style group: (name, object header address) pairs via the v1 B-tree
// (type 0) and the local heap.
std::vector<Link> read_symbol_table_group(FileImpl& file, uint64_t btree_address,
                                          uint64_t heap_address, const std::string& where);

// Walks a v1 B-tree of raw data chunks (type 1): calls `visit` for every
// chunk with (key span, chunk address). `key_dims` = dataset rank + 1.
void walk_chunk_btree_v1(FileImpl& file, uint64_t address, unsigned key_dims,
                         const std::function<void(ByteReader& key, uint64_t chunk_address)>& visit,
                         const std::string& where);

// Walks a v2 B-tree and calls `visit` with each record, in key order.
// Returns the record type from the header.
unsigned walk_btree_v2(FileImpl& file, uint64_t header_address,
                       const std::function<void(ByteSpan record)>& visit, const std::string& where);

class FractalHeap {
public:
    FractalHeap(FileImpl& file, uint64_t header_address, std::string where);
    // The object a heap ID names: managed, tiny or huge (unfiltered).
    ByteSpan object(ByteSpan heap_id) const;
    uint16_t heap_id_length() const { return heap_id_length_; }

private:
    ByteSpan managed_object(uint64_t offset, uint64_t length) const;
    ByteSpan huge_object(ByteReader& id) const;

    FileImpl& file_;
    std::string where_;
    uint64_t header_address_ = 0;
    uint64_t huge_btree_address_ = ~0ull;
    uint16_t heap_id_length_ = 0;
    uint16_t io_filter_length_ = 0;
    uint8_t flags_ = 0;
    uint32_t max_managed_size_ = 0;
    uint16_t table_width_ = 0;
    uint64_t starting_block_size_ = 0;
    uint64_t max_direct_block_size_ = 0;
    uint16_t max_heap_size_bits_ = 0;
    uint64_t root_block_address_ = 0;
    uint16_t root_rows_ = 0;
    unsigned heap_offset_size_ = 0;
    unsigned heap_length_size_ = 0;
    unsigned max_direct_rows_ = 0;
};

// ---- datatypes, dataspaces, layouts, data (hdf5_data.cpp) ----
Datatype parse_datatype(ByteReader& reader, const std::string& where, int depth = 0);
Dataspace parse_dataspace(ByteReader& reader, FileImpl& file, const std::string& where);
Layout parse_layout(ByteReader& reader, FileImpl& file, const Dataspace& space, const std::string& where);
std::vector<Filter> parse_filter_pipeline(ByteReader& reader, const std::string& where);
std::string describe_datatype(const Datatype& type);
// The DType a numeric HDF5 type maps to; throws UnsupportedError otherwise.
DType numeric_dtype(const Datatype& type, const std::string& where);
bool is_string_type(const Datatype& type);

// Converts `count` elements of `type` in `raw` into a tensor of numeric_dtype().
Tensor decode_numeric(const Datatype& type, const Shape& shape, ByteSpan raw, const std::string& where);
// Strings of a string-typed attribute or dataset.
std::vector<std::string> decode_strings(FileImpl& file, const Datatype& type, uint64_t count,
                                        ByteSpan raw, const std::string& where);

struct DatasetMessages {
    Datatype datatype;
    Dataspace dataspace;
    Layout layout;
    std::vector<Filter> filters;
    std::optional<std::vector<uint8_t>> fill_value;
};
// The raw, little-or-big-endian bytes of the whole dataset in row-major order.
// For contiguous storage this is a view into the file; otherwise `storage`
// receives the assembled bytes and the returned span points into it.
ByteSpan read_dataset_bytes(FileImpl& file, const DatasetMessages& dataset, uint64_t element_count,
                            std::vector<uint8_t>& storage, const std::string& where);

}  // namespace convscope::hdf5
