#include "core/formats/flatbuffers.h"

#include <cstring>

#include "core/base/limits.h"

namespace convscope::flatbuffers {

namespace {

// The read budget, in units of roughly one byte of memory the caller may
// build from what it reads (a table visit or a vector element 1, a string
// or a bulk scalar read its byte size; callers charge their own per-object
// costs): 16 per byte of buffer plus a floor for small files. Real files
// use a small fraction; a hostile one that references one large table or
// vector many times stops at about 16x its size.
constexpr uint64_t budget_per_byte = 16;
constexpr uint64_t budget_floor = 16u << 20;

template <typename T>
T load(const uint8_t* bytes) {
    T value;
    std::memcpy(&value, bytes, sizeof value);  // little-endian hosts only (x86, WASM)
    return value;
}

}  // namespace

struct Buffer::State {
    ByteSpan span;
    std::string root_name;
    uint64_t budget = 0;
};

Buffer::Buffer(ByteSpan bytes, std::string root_name, std::string identifier) : state_(std::make_shared<State>()) {
    state_->span = bytes;
    state_->root_name = std::move(root_name);
    state_->budget = budget_floor + budget_per_byte * static_cast<uint64_t>(bytes.size);
    if (bytes.size < 8) {
        throw_format_error(state_->root_name, ": the flatbuffer is ", bytes.size,
                           " bytes, too small for a root offset and a file identifier (8 bytes)");
    }
    if (!identifier.empty() && !has_identifier(identifier)) {
        throw_format_error(state_->root_name, ": file identifier at offset ", format_offset(bytes.base_offset + 4),
                           " is not '", identifier, "'");
    }
}

const ByteSpan& Buffer::span() const { return state_->span; }

bool Buffer::has_identifier(const std::string& identifier) const {
    const ByteSpan& span = state_->span;
    return identifier.size() == 4 && span.size >= 8 && std::memcmp(span.data + 4, identifier.data(), 4) == 0;
}

void Buffer::charge(uint64_t count) const {
    if (count > state_->budget) {
        throw_limit_error(state_->root_name, ": reading this flatbuffer would build more than ", budget_per_byte,
                          " bytes per byte of file (tables or vectors referenced many times over); "
                          "refusing to read further");
    }
    state_->budget -= count;
}

uint64_t Buffer::budget_left() const { return state_->budget; }

Table Buffer::root() const {
    const ByteSpan& span = state_->span;
    uint32_t root = load<uint32_t>(span.data);
    if (root > span.size - 4 || root < 4) {
        throw_format_error(state_->root_name, ": root table offset ", root, " at offset ",
                           format_offset(span.base_offset), " lies outside the ", span.size, "-byte buffer");
    }
    return Table(*this, root, state_->root_name, 0);
}

// [SECTION] tables

Table::Table(Buffer buffer, uint64_t position, std::string path, int depth)
    : buffer_(std::move(buffer)), position_(position), path_(std::move(path)), depth_(depth) {
    const ByteSpan& span = buffer_.span();
    const uint64_t base = span.base_offset;
    if (depth_ > limits::max_nesting_depth) {
        throw_format_error(path_, ": table at offset ", format_offset(base + position_), " is nested ", depth_,
                           " levels deep; the limit is ", limits::max_nesting_depth);
    }
    buffer_.charge(1);
    if (position_ > span.size || span.size - position_ < 4) {
        throw_format_error(path_, ": table at offset ", format_offset(base + position_),
                           " has no room for its 4-byte vtable offset (buffer is ", span.size, " bytes)");
    }
    int64_t vtable = static_cast<int64_t>(position_) - load<int32_t>(span.data + position_);
    if (vtable < 0 || static_cast<uint64_t>(vtable) > span.size - 4) {
        throw_format_error(path_, ": table at offset ", format_offset(base + position_),
                           " points to a vtable at ", vtable, ", outside the ", span.size, "-byte buffer");
    }
    vtable_ = static_cast<uint64_t>(vtable);
    vtable_size_ = load<uint16_t>(span.data + vtable_);
    table_size_ = load<uint16_t>(span.data + vtable_ + 2);
    if (vtable_size_ < 4 || vtable_size_ % 2 != 0 || vtable_size_ > span.size - vtable_) {
        throw_format_error(path_, ": vtable at offset ", format_offset(base + vtable_), " (of the table at ",
                           format_offset(base + position_), ") declares ", vtable_size_,
                           " bytes; a vtable is an even size >= 4 that fits in the buffer");
    }
    if (table_size_ < 4 || table_size_ > span.size - position_) {
        throw_format_error(path_, ": vtable at offset ", format_offset(base + vtable_), " gives the table at ",
                           format_offset(base + position_), " an inline size of ", table_size_,
                           " bytes; it must be >= 4 and end inside the ", span.size, "-byte buffer");
    }
}

void Table::fail_message(Field field, const std::string& message) const {
    throw_format_error(path_, ": field ", field.id, " (", field.name, ") of the table at offset ",
                       format_offset(buffer_.span().base_offset + position_), ": ", message);
}

uint64_t Table::field_position(Field field, size_t size) const {
    uint64_t entry = 4 + 2 * static_cast<uint64_t>(field.id);
    if (field.id < 0 || entry + 2 > vtable_size_) return 0;
    uint16_t offset = load<uint16_t>(buffer_.span().data + vtable_ + entry);
    if (offset == 0) return 0;
    if (offset < 4 || offset > table_size_ || static_cast<size_t>(table_size_ - offset) < size) {
        fail(field, "stored at byte ", offset, " of a table whose inline size is ", table_size_,
             " bytes (needs ", size, " bytes there)");
    }
    return position_ + offset;
}

bool Table::has(Field field) const {
    uint64_t entry = 4 + 2 * static_cast<uint64_t>(field.id);
    if (field.id < 0 || entry + 2 > vtable_size_) return false;
    return load<uint16_t>(buffer_.span().data + vtable_ + entry) != 0;
}

#define CONVSCOPE_FLATBUFFERS_SCALAR(method, type)                       \
    type Table::method(Field field, type fallback) const {               \
        uint64_t at = field_position(field, sizeof(type));               \
        return at ? load<type>(buffer_.span().data + at) : fallback;     \
    }
CONVSCOPE_FLATBUFFERS_SCALAR(i8, int8_t)
CONVSCOPE_FLATBUFFERS_SCALAR(u8, uint8_t)
CONVSCOPE_FLATBUFFERS_SCALAR(i16, int16_t)
CONVSCOPE_FLATBUFFERS_SCALAR(u16, uint16_t)
CONVSCOPE_FLATBUFFERS_SCALAR(i32, int32_t)
CONVSCOPE_FLATBUFFERS_SCALAR(u32, uint32_t)
CONVSCOPE_FLATBUFFERS_SCALAR(i64, int64_t)
CONVSCOPE_FLATBUFFERS_SCALAR(u64, uint64_t)
CONVSCOPE_FLATBUFFERS_SCALAR(f32, float)
CONVSCOPE_FLATBUFFERS_SCALAR(f64, double)
#undef CONVSCOPE_FLATBUFFERS_SCALAR

bool Table::boolean(Field field, bool fallback) const {
    uint64_t at = field_position(field, 1);
    return at ? buffer_.span().data[at] != 0 : fallback;
}

uint64_t Table::follow_offset(Field field) const {
    uint64_t at = field_position(field, 4);
    if (!at) return 0;
    const ByteSpan& span = buffer_.span();
    uint32_t relative = load<uint32_t>(span.data + at);
    if (relative == 0 || relative > span.size - at) {
        fail(field, "offset ", relative, " from ", format_offset(span.base_offset + at),
             " points outside the ", span.size, "-byte buffer");
    }
    return at + relative;
}

std::optional<Table> Table::table(Field field) const {
    uint64_t target = follow_offset(field);
    if (!target) return std::nullopt;
    return Table(buffer_, target, concat(path_, ".", field.name), depth_ + 1);
}

std::optional<Vector> Table::vector(Field field, size_t element_size) const {
    uint64_t target = follow_offset(field);
    if (!target) return std::nullopt;
    const ByteSpan& span = buffer_.span();
    if (span.size - target < 4) {
        fail(field, "vector at offset ", format_offset(span.base_offset + target),
             " has no room for its 4-byte length");
    }
    uint32_t count = load<uint32_t>(span.data + target);
    uint64_t available = span.size - target - 4;
    if (static_cast<uint64_t>(count) * element_size > available) {
        fail(field, "vector at offset ", format_offset(span.base_offset + target), " declares ", count,
             " elements of ", element_size, " bytes, but only ", available, " bytes follow in the buffer");
    }
    return Vector(buffer_, target, count, element_size, concat(path_, ".", field.name), depth_ + 1);
}

std::optional<std::string> Table::string(Field field) const {
    std::optional<Vector> bytes = vector(field, 1);
    if (!bytes) return std::nullopt;
    ByteSpan span = bytes->bytes();
    buffer_.charge(span.size);
    return std::string(reinterpret_cast<const char*>(span.data), span.size);
}

std::string Table::string_or(Field field, const std::string& fallback) const {
    std::optional<std::string> value = string(field);
    return value ? *value : fallback;
}

std::pair<uint8_t, std::optional<Table>> Table::union_member(Field type_field, Field value_field) const {
    uint8_t type = u8(type_field, 0);
    bool has_value = has(value_field);
    if (type == 0) {
        if (has_value) fail(value_field, "a union value is present but its type field ", type_field.id, " (",
                            type_field.name, ") is NONE or absent");
        return {0, std::nullopt};
    }
    if (!has_value) fail(type_field, "union type ", int(type), " names a member but the value field ",
                         value_field.id, " (", value_field.name, ") is absent");
    return {type, table(value_field)};
}

// [SECTION] vectors

Vector::Vector(Buffer buffer, uint64_t position, uint32_t size, size_t element_size, std::string path, int depth)
    : buffer_(std::move(buffer)), position_(position), size_(size), element_size_(element_size),
      path_(std::move(path)), depth_(depth) {}

ByteSpan Vector::bytes() const {
    const ByteSpan& span = buffer_.span();
    return ByteSpan(span.data + position_ + 4, static_cast<size_t>(size_) * element_size_,
                    span.base_offset + position_ + 4);
}

uint64_t Vector::element_position(uint32_t index, size_t expected_size) const {
    if (expected_size != element_size_) {
        fail("read as ", expected_size, "-byte elements, but it holds ", element_size_, "-byte elements");
    }
    if (index >= size_) fail("element ", index, " requested of ", size_);
    buffer_.charge(1);
    return position_ + 4 + static_cast<uint64_t>(index) * element_size_;
}

int8_t Vector::i8(uint32_t index) const { return load<int8_t>(buffer_.span().data + element_position(index, 1)); }
uint8_t Vector::u8(uint32_t index) const { return load<uint8_t>(buffer_.span().data + element_position(index, 1)); }
int32_t Vector::i32(uint32_t index) const { return load<int32_t>(buffer_.span().data + element_position(index, 4)); }
uint32_t Vector::u32(uint32_t index) const { return load<uint32_t>(buffer_.span().data + element_position(index, 4)); }
int64_t Vector::i64(uint32_t index) const { return load<int64_t>(buffer_.span().data + element_position(index, 8)); }
float Vector::f32(uint32_t index) const { return load<float>(buffer_.span().data + element_position(index, 4)); }

namespace {
template <typename T>
std::vector<T> load_all(const Vector& vector, const Buffer& buffer) {
    if (vector.element_size() != sizeof(T)) {
        vector.fail("read as ", sizeof(T), "-byte elements, but it holds ", vector.element_size(), "-byte elements");
    }
    buffer.charge(static_cast<uint64_t>(vector.size()) * sizeof(T));
    std::vector<T> out(vector.size());
    if (!out.empty()) std::memcpy(out.data(), vector.bytes().data, out.size() * sizeof(T));
    return out;
}
}  // namespace

std::vector<int32_t> Vector::i32s() const { return load_all<int32_t>(*this, buffer_); }
std::vector<int64_t> Vector::i64s() const { return load_all<int64_t>(*this, buffer_); }
std::vector<float> Vector::f32s() const { return load_all<float>(*this, buffer_); }

Table Vector::table(uint32_t index) const {
    uint64_t at = element_position(index, 4);
    const ByteSpan& span = buffer_.span();
    uint32_t relative = load<uint32_t>(span.data + at);
    if (relative == 0 || relative > span.size - at) {
        fail("element ", index, ": offset ", relative, " from ", format_offset(span.base_offset + at),
             " points outside the ", span.size, "-byte buffer");
    }
    return Table(buffer_, at + relative, concat(path_, "[", index, "]"), depth_ + 1);
}

std::string Vector::string(uint32_t index) const {
    uint64_t at = element_position(index, 4);
    const ByteSpan& span = buffer_.span();
    uint32_t relative = load<uint32_t>(span.data + at);
    uint64_t target = at + relative;
    if (relative == 0 || relative > span.size - at || span.size - target < 4) {
        fail("string ", index, ": offset ", relative, " from ", format_offset(span.base_offset + at),
             " points outside the ", span.size, "-byte buffer");
    }
    uint32_t length = load<uint32_t>(span.data + target);
    if (length > span.size - target - 4) {
        fail("string ", index, " at offset ", format_offset(span.base_offset + target), " declares ", length,
             " bytes, but only ", span.size - target - 4, " follow");
    }
    buffer_.charge(length);
    return std::string(reinterpret_cast<const char*>(span.data + target + 4), length);
}

}  // namespace convscope::flatbuffers
