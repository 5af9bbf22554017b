// A bounds-checked reader for the FlatBuffers binary format, enough to read
// TensorFlow Lite files from an untrusted byte span without the flatbuffers
// library (no generated code, no verifier to trust: every read checks).
//
// On-disk layout read ("FlatBuffers internals", flatbuffers.dev/internals;
// all integers little-endian, offsets in bytes):
//   1. The buffer starts with a uoffset_t (uint32) pointing forward from
//      byte 0 to the root table. An optional 4-byte file identifier follows
//      at bytes 4..7 ("TFL3" for TensorFlow Lite).
//   2. A table starts with a soffset_t (int32): the position of its vtable
//      is the table's position minus this value (so the vtable may lie before
//      or after the table, and may be shared by several tables).
//   3. A vtable is a sequence of uint16: its own size in bytes (>= 4, even),
//      the size of the table's inline data in bytes (>= 4, the soffset
//      included), then one entry per field id: the field's offset from the
//      table start, 0 when the field is absent (the reader then uses the
//      schema's default). Field ids past the vtable's end are absent too
//      (files written with an older schema).
//   4. Scalar fields (bool, int8..int64, uint8..uint64, float, double) are
//      stored inline at their offset. Struct fields are inline too (TFLite
//      has none).
//   5. Table, vector and string fields hold a uoffset_t (uint32), relative to
//      the field's own position, pointing forward to the object.
//   6. A vector is a uint32 element count followed by the elements: inline
//      scalars, or one uoffset_t per element (relative to that element's
//      position) for vectors of tables and strings.
//   7. A string is a uint32 byte count followed by the bytes (UTF-8) and a
//      terminating zero (not required here: the count is what matters).
//   8. A union field `u` of the schema takes two field ids: `u_type` (a
//      uint8 naming the member table, 0 = NONE) at id N and the uoffset_t to
//      the member table at id N + 1.
//
// Checks: every position lies inside the buffer with room for what is read
// there; a vtable's sizes are consistent and every present field fits inside
// its table's inline size; vector lengths fit in the bytes after them.
// Bounds: tables nest at most limits::max_nesting_depth deep (FlatBuffers
// only points forward, but a chain of small tables can be deep), and the
// reads of one Buffer share a budget proportional to its size (elements
// visited, bytes copied, and what callers charge for the objects they build),
// so that many references to one large table or vector cannot multiply the
// work or the memory (LimitError when it runs out).
// Errors are FormatError "<path>: field N (name) of the table at offset X:
// <what>" (vectors: "<path> (vector at offset X): <what>"), the path being
// the chain of tables ("Model.subgraphs[0].tensors[3]").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/byte_reader.h"
#include "core/base/error.h"

namespace convscope::flatbuffers {

class Table;
class Vector;

// The whole flatbuffer; cheap to copy (shares its state).
class Buffer {
public:
    // `identifier` (4 bytes) is required at bytes 4..7 when not empty.
    // Throws FormatError when the buffer is too small for a root offset.
    Buffer(ByteSpan bytes, std::string root_name, std::string identifier = {});

    Table root() const;
    const ByteSpan& span() const;
    bool has_identifier(const std::string& identifier) const;

    // Charges `count` element visits to the shared budget; LimitError when spent.
    void charge(uint64_t count) const;
    uint64_t budget_left() const;

private:
    struct State;
    std::shared_ptr<State> state_;
    friend class Table;
    friend class Vector;
};

// A field of a table, named for error messages: Field{3, "name"}.
struct Field {
    int id;
    const char* name;
};

class Table {
public:
    uint64_t position() const { return position_; }   // absolute offset of the table
    const std::string& path() const { return path_; }
    int depth() const { return depth_; }

    bool has(Field field) const;

    // Scalars with the schema's default when the field is absent.
    bool boolean(Field field, bool fallback = false) const;
    int8_t i8(Field field, int8_t fallback = 0) const;
    uint8_t u8(Field field, uint8_t fallback = 0) const;
    int16_t i16(Field field, int16_t fallback = 0) const;
    uint16_t u16(Field field, uint16_t fallback = 0) const;
    int32_t i32(Field field, int32_t fallback = 0) const;
    uint32_t u32(Field field, uint32_t fallback = 0) const;
    int64_t i64(Field field, int64_t fallback = 0) const;
    uint64_t u64(Field field, uint64_t fallback = 0) const;
    float f32(Field field, float fallback = 0.0f) const;
    double f64(Field field, double fallback = 0.0) const;

    // Offset fields; nullopt / empty when absent.
    std::optional<Table> table(Field field) const;
    std::optional<Vector> vector(Field field, size_t element_size) const;
    std::optional<std::string> string(Field field) const;
    std::string string_or(Field field, const std::string& fallback) const;

    // A union: the type at `type_field`, the member table at `value_field`.
    // Type 0 (NONE) or an absent value give {0, nullopt}; a type without a
    // value, or a value without a type, is a FormatError.
    std::pair<uint8_t, std::optional<Table>> union_member(Field type_field, Field value_field) const;

    // Throws FormatError "<path>: field N (name) at offset X: <message>".
    template <typename... Parts>
    [[noreturn]] void fail(Field field, const Parts&... parts) const {
        fail_message(field, concat(parts...));
    }

private:
    friend class Buffer;
    friend class Vector;
    Table(Buffer buffer, uint64_t position, std::string path, int depth);

    // Absolute offset of a present field with `size` bytes inside the table; 0 when absent.
    uint64_t field_position(Field field, size_t size) const;
    uint64_t follow_offset(Field field) const;  // target of a uoffset_t field
    [[noreturn]] void fail_message(Field field, const std::string& message) const;

    Buffer buffer_;
    uint64_t position_ = 0;
    uint64_t vtable_ = 0;
    uint16_t vtable_size_ = 0;
    uint16_t table_size_ = 0;
    std::string path_;
    int depth_ = 0;
};

class Vector {
public:
    uint32_t size() const { return size_; }
    uint64_t position() const { return position_; }        // absolute offset of the length
    uint64_t data_position() const { return position_ + 4; }
    size_t element_size() const { return element_size_; }
    const std::string& path() const { return path_; }

    // The elements' bytes (for bulk scalar reads and zero-copy views).
    ByteSpan bytes() const;

    // Scalar element i (checked against size and element_size).
    int8_t i8(uint32_t index) const;
    uint8_t u8(uint32_t index) const;
    int32_t i32(uint32_t index) const;
    uint32_t u32(uint32_t index) const;
    int64_t i64(uint32_t index) const;
    float f32(uint32_t index) const;

    // Whole vectors of scalars, charged to the budget at once.
    std::vector<int32_t> i32s() const;
    std::vector<int64_t> i64s() const;
    std::vector<float> f32s() const;

    // Elements of vectors of tables / strings (element_size 4).
    Table table(uint32_t index) const;
    std::string string(uint32_t index) const;

    template <typename... Parts>
    [[noreturn]] void fail(const Parts&... parts) const {
        throw_format_error(path_, " (vector at offset ", format_offset(position_), "): ", parts...);
    }

private:
    friend class Table;
    Vector(Buffer buffer, uint64_t position, uint32_t size, size_t element_size, std::string path, int depth);
    uint64_t element_position(uint32_t index, size_t expected_size) const;

    Buffer buffer_;
    uint64_t position_ = 0;
    uint32_t size_ = 0;
    size_t element_size_ = 0;
    std::string path_;
    int depth_ = 0;
};

}  // namespace convscope::flatbuffers
