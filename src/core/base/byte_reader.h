// A bounds-checked little-endian reader over a byte span it does not trust.
//
// All binary format readers go through this class, so that "read past the
// end" has one implementation and one error message format:
//   "<context>: need 8 bytes at offset 0x10 (16), only 3 left (file is 19 bytes)"
// Offsets in messages are absolute positions in the original file, even for
// sub-readers, so a user can find them in a hex editor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace convscope {

struct ByteSpan {
    const uint8_t* data = nullptr;
    size_t size = 0;
    // Absolute file offset of data[0]; only used in error messages.
    uint64_t base_offset = 0;

    ByteSpan() = default;
    ByteSpan(const uint8_t* bytes, size_t length, uint64_t base = 0)
        : data(bytes), size(length), base_offset(base) {}

    // Bytes [offset, offset + length); throws FormatError when out of range.
    ByteSpan subspan(uint64_t offset, uint64_t length, std::string_view context) const;
    bool starts_with(std::string_view prefix) const;
};

class ByteReader {
public:
    explicit ByteReader(ByteSpan span, std::string context = "file")
        : span_(span), context_(std::move(context)) {}

    size_t position() const { return position_; }
    uint64_t absolute_position() const { return span_.base_offset + position_; }
    size_t size() const { return span_.size; }
    size_t remaining() const { return span_.size - position_; }
    bool at_end() const { return position_ == span_.size; }
    const ByteSpan& span() const { return span_; }

    void seek(uint64_t offset);
    void skip(uint64_t count);

    uint8_t u8();
    uint16_t u16();
    uint32_t u32();
    uint64_t u64();
    int8_t i8() { return static_cast<int8_t>(u8()); }
    int16_t i16() { return static_cast<int16_t>(u16()); }
    int32_t i32() { return static_cast<int32_t>(u32()); }
    int64_t i64() { return static_cast<int64_t>(u64()); }
    float f32();
    double f64();
    // Unsigned little-endian integer of 1..8 bytes (HDF5 "size of offsets").
    uint64_t uint_of_size(unsigned byte_count);

    // A view of the next `count` bytes; advances past them.
    ByteSpan bytes(uint64_t count);
    std::string string(uint64_t count);
    // Checks the next bytes equal `magic` and advances; error names both.
    void expect_magic(std::string_view magic, std::string_view what);

    // Throws unless `count` more bytes are available.
    void require(uint64_t count) const;

private:
    ByteSpan span_;
    std::string context_;
    size_t position_ = 0;
};

}  // namespace convscope
