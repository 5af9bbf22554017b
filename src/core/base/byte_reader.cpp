#include "core/base/byte_reader.h"

#include <cstring>

#include "core/base/error.h"

namespace convscope {

std::string format_offset(uint64_t offset) {
    std::ostringstream out;
    out << "0x" << std::hex << offset << std::dec << " (" << offset << ")";
    return out.str();
}

ByteSpan ByteSpan::subspan(uint64_t offset, uint64_t length, std::string_view context) const {
    if (offset > size || length > size - offset) {
        throw_format_error(context, ": range of ", length, " bytes at offset ",
                           format_offset(base_offset + offset), " lies outside the ",
                           size, "-byte region starting at ", format_offset(base_offset));
    }
    return ByteSpan(data + offset, static_cast<size_t>(length), base_offset + offset);
}

bool ByteSpan::starts_with(std::string_view prefix) const {
    return size >= prefix.size() && std::memcmp(data, prefix.data(), prefix.size()) == 0;
}

void ByteReader::require(uint64_t count) const {
    if (count > remaining()) {
        throw_format_error(context_, ": need ", count, " bytes at offset ",
                           format_offset(absolute_position()), ", only ", remaining(),
                           " left (region ends at ", format_offset(span_.base_offset + span_.size),
                           ")");
    }
}

void ByteReader::seek(uint64_t offset) {
    if (offset > span_.size) {
        throw_format_error(context_, ": seek to offset ", format_offset(span_.base_offset + offset),
                           " past the end of the region (", span_.size, " bytes from ",
                           format_offset(span_.base_offset), ")");
    }
    position_ = static_cast<size_t>(offset);
}

void ByteReader::skip(uint64_t count) {
    require(count);
    position_ += static_cast<size_t>(count);
}

uint8_t ByteReader::u8() {
    require(1);
    return span_.data[position_++];
}

uint64_t ByteReader::uint_of_size(unsigned byte_count) {
    if (byte_count == 0 || byte_count > 8) {
        throw_format_error(context_, ": integer width of ", byte_count,
                           " bytes is not 1..8, at offset ", format_offset(absolute_position()));
    }
    require(byte_count);
    uint64_t value = 0;
    for (unsigned i = 0; i < byte_count; ++i) {
        value |= static_cast<uint64_t>(span_.data[position_ + i]) << (8 * i);
    }
    position_ += byte_count;
    return value;
}

uint16_t ByteReader::u16() { return static_cast<uint16_t>(uint_of_size(2)); }
uint32_t ByteReader::u32() { return static_cast<uint32_t>(uint_of_size(4)); }
uint64_t ByteReader::u64() { return uint_of_size(8); }

float ByteReader::f32() {
    uint32_t bits = u32();
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

double ByteReader::f64() {
    uint64_t bits = u64();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

ByteSpan ByteReader::bytes(uint64_t count) {
    require(count);
    ByteSpan view(span_.data + position_, static_cast<size_t>(count), absolute_position());
    position_ += static_cast<size_t>(count);
    return view;
}

std::string ByteReader::string(uint64_t count) {
    ByteSpan view = bytes(count);
    return std::string(reinterpret_cast<const char*>(view.data), view.size);
}

void ByteReader::expect_magic(std::string_view magic, std::string_view what) {
    uint64_t at = absolute_position();
    if (remaining() < magic.size() ||
        std::memcmp(span_.data + position_, magic.data(), magic.size()) != 0) {
        std::string found;
        size_t shown = std::min(remaining(), magic.size());
        for (size_t i = 0; i < shown; ++i) {
            char c = static_cast<char>(span_.data[position_ + i]);
            found += (c >= 32 && c < 127) ? std::string(1, c) : concat("\\x", std::hex, (int)(uint8_t)c);
        }
        throw_format_error(context_, ": expected ", what, " signature '", magic, "' at offset ",
                           format_offset(at), ", found '", found, "'");
    }
    position_ += magic.size();
}

}  // namespace convscope
