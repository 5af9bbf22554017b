#include "core/formats/protobuf.h"

#include <cstring>
#include <limits>

#include "core/base/limits.h"

namespace convscope::protobuf {

const char* wire_type_name(WireType type) {
    switch (type) {
        case WireType::varint: return "varint";
        case WireType::fixed64: return "fixed64";
        case WireType::length_delimited: return "length-delimited";
        case WireType::start_group: return "start-group";
        case WireType::end_group: return "end-group";
        case WireType::fixed32: return "fixed32";
    }
    return "invalid";
}

void throw_field_error(const std::string& where, const std::string& message) {
    throw_format_error(where, ": ", message);
}

uint64_t read_varint(ByteReader& reader) {
    uint64_t start = reader.absolute_position();
    uint64_t value = 0;
    for (int index = 0; index < 10; ++index) {
        if (reader.at_end()) {
            throw_format_error("protobuf varint at offset ", format_offset(start), " is cut off after ",
                               index, " bytes by the end of its enclosing message (",
                               format_offset(reader.absolute_position()), ")");
        }
        uint8_t byte = reader.u8();
        if (index == 9 && (byte & 0x7e) != 0) {
            throw_format_error("protobuf varint at offset ", format_offset(start),
                               " overflows 64 bits (10th byte is 0x", std::hex, int(byte), std::dec, ")");
        }
        value |= static_cast<uint64_t>(byte & 0x7f) << (7 * index);
        if ((byte & 0x80) == 0) return value;
    }
    throw_format_error("protobuf varint at offset ", format_offset(start),
                       " is longer than the 10-byte maximum");
}

MessageReader::MessageReader(ByteSpan message, std::string context, int depth)
    : reader_(message, context), context_(std::move(context)), depth_(depth) {
    if (depth_ > limits::max_nesting_depth) {
        throw_format_error(context_, ": message at offset ", format_offset(message.base_offset),
                           " is nested ", depth_, " levels deep; the limit is ",
                           limits::max_nesting_depth);
    }
}

std::string MessageReader::where() const {
    return concat(context_, ": field ", field_number_, " (", wire_type_name(wire_type_), ") at offset ",
                  format_offset(field_offset_));
}

bool MessageReader::next() {
    if (reader_.at_end()) return false;
    field_offset_ = reader_.absolute_position();
    uint64_t tag = 0;
    try {
        tag = read_varint(reader_);
    } catch (const FormatError& error) {
        throw_format_error(context_, ": field tag at offset ", format_offset(field_offset_), ": ", error.what());
    }
    uint64_t number = tag >> 3;
    unsigned type = static_cast<unsigned>(tag & 7);
    if (number == 0 || number > (1u << 29) - 1) {
        throw_format_error(context_, ": field tag at offset ", format_offset(field_offset_),
                           " has field number ", number, ", expected 1 .. 536870911 (wire type ", type, ")");
    }
    if (type > 5) {
        throw_format_error(context_, ": field ", number, " at offset ", format_offset(field_offset_),
                           " has wire type ", type, ", expected 0..5");
    }
    field_number_ = static_cast<uint32_t>(number);
    wire_type_ = static_cast<WireType>(type);
    scalar_ = 0;
    payload_ = ByteSpan();
    if (wire_type_ == WireType::end_group) fail("end-group without a matching start-group");
    if (wire_type_ == WireType::start_group) {
        skip_group();
        return true;
    }
    bool length_too_large = false;
    uint64_t length = 0;
    try {
        switch (wire_type_) {
            case WireType::varint: scalar_ = read_varint(reader_); break;
            case WireType::fixed64: scalar_ = reader_.u64(); break;
            case WireType::fixed32: scalar_ = reader_.u32(); break;
            case WireType::length_delimited:
                length = read_varint(reader_);
                length_too_large = length > reader_.remaining();
                if (!length_too_large) payload_ = reader_.bytes(length);
                break;
            default: break;
        }
    } catch (const FormatError& error) {
        fail(error.what());
    }
    if (length_too_large) {
        fail("length ", length, " runs past the end of the enclosing message (", reader_.remaining(),
             " bytes left, the message ends at ", format_offset(reader_.span().base_offset + reader_.size()), ")");
    }
    return true;
}

// Groups are a deprecated encoding ONNX never uses; they are skipped by
// scanning for the matching end-group tag, with nesting bounded.
void MessageReader::skip_group() {
    std::string problem;
    try {
        int open_groups = 1;
        while (open_groups > 0 && problem.empty()) {
            if (reader_.at_end()) {
                problem = "group is not closed before the end of the enclosing message";
                break;
            }
            uint64_t tag = read_varint(reader_);
            unsigned type = static_cast<unsigned>(tag & 7);
            switch (type) {
                case 0: read_varint(reader_); break;
                case 1: reader_.skip(8); break;
                case 2: reader_.skip(read_varint(reader_)); break;
                case 3:
                    if (++open_groups > limits::max_nesting_depth) {
                        problem = concat("groups nested deeper than ", limits::max_nesting_depth);
                    }
                    break;
                case 4: --open_groups; break;
                case 5: reader_.skip(4); break;
                default:
                    problem = concat("wire type ", type, " inside a group before offset ",
                                     format_offset(reader_.absolute_position()));
            }
        }
    } catch (const FormatError& error) {
        problem = error.what();
    }
    if (!problem.empty()) fail(problem);
}

void MessageReader::expect_wire_type(WireType expected, const char* as_what) const {
    if (wire_type_ != expected) {
        fail("expected wire type ", wire_type_name(expected), " for a ", as_what, ", found ",
             wire_type_name(wire_type_));
    }
}

uint64_t MessageReader::as_uint64() const {
    expect_wire_type(WireType::varint, "varint integer");
    return scalar_;
}

int64_t MessageReader::as_int64() const { return static_cast<int64_t>(as_uint64()); }

int32_t MessageReader::as_int32() const {
    int64_t value = as_int64();
    if (value < std::numeric_limits<int32_t>::min() || value > std::numeric_limits<int32_t>::max()) {
        fail("value ", value, " does not fit an int32");
    }
    return static_cast<int32_t>(value);
}

uint32_t MessageReader::as_uint32() const {
    uint64_t value = as_uint64();
    if (value > std::numeric_limits<uint32_t>::max()) fail("value ", value, " does not fit a uint32");
    return static_cast<uint32_t>(value);
}

bool MessageReader::as_bool() const { return as_uint64() != 0; }

int64_t MessageReader::as_sint64() const { return zigzag_decode(as_uint64()); }

uint32_t MessageReader::as_fixed32() const {
    expect_wire_type(WireType::fixed32, "fixed32");
    return static_cast<uint32_t>(scalar_);
}

uint64_t MessageReader::as_fixed64() const {
    expect_wire_type(WireType::fixed64, "fixed64");
    return scalar_;
}

float MessageReader::as_float() const {
    uint32_t bits = as_fixed32();
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

double MessageReader::as_double() const {
    uint64_t bits = as_fixed64();
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

ByteSpan MessageReader::as_bytes() const {
    expect_wire_type(WireType::length_delimited, "string, bytes or message");
    return payload_;
}

std::string MessageReader::as_string() const {
    ByteSpan bytes = as_bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data), bytes.size);
}

MessageReader MessageReader::as_message(const std::string& child_context) const {
    ByteSpan bytes = as_bytes();
    if (depth_ + 1 > limits::max_nesting_depth) {
        fail("embedded message '", child_context, "' would be nested ", depth_ + 1,
             " levels deep; the limit is ", limits::max_nesting_depth);
    }
    return MessageReader(bytes, context_ + "." + child_context, depth_ + 1);
}

void MessageReader::append_varints(std::vector<uint64_t>& out) const {
    if (wire_type_ == WireType::varint) {
        out.push_back(scalar_);
        return;
    }
    expect_wire_type(WireType::length_delimited, "packed or unpacked repeated varint");
    // Count first: each varint ends with a byte whose high bit is clear.
    size_t count = 0;
    for (size_t i = 0; i < payload_.size; ++i) count += (payload_.data[i] & 0x80) == 0;
    out.reserve(out.size() + count);
    ByteReader packed(payload_, context_);
    try {
        while (!packed.at_end()) out.push_back(read_varint(packed));
    } catch (const FormatError& error) {
        fail("packed varints: ", error.what());
    }
}

void MessageReader::append_int64s(std::vector<int64_t>& out) const {
    std::vector<uint64_t> raw;
    append_varints(raw);
    out.reserve(out.size() + raw.size());
    for (uint64_t value : raw) out.push_back(static_cast<int64_t>(value));
}

void MessageReader::append_int32s(std::vector<int32_t>& out) const {
    std::vector<uint64_t> raw;
    append_varints(raw);
    out.reserve(out.size() + raw.size());
    for (uint64_t value : raw) {
        int64_t signed_value = static_cast<int64_t>(value);
        if (signed_value < std::numeric_limits<int32_t>::min() ||
            signed_value > std::numeric_limits<int32_t>::max()) {
            fail("repeated int32 element ", signed_value, " does not fit an int32");
        }
        out.push_back(static_cast<int32_t>(signed_value));
    }
}

namespace {
template <typename Value, typename Bits>
void append_packed_fixed(const MessageReader& message, ByteSpan payload, std::vector<Value>& out) {
    if (payload.size % sizeof(Bits) != 0) {
        message.fail("packed ", sizeof(Bits) * 8, "-bit values: payload of ", payload.size,
                     " bytes is not a multiple of ", sizeof(Bits));
    }
    size_t count = payload.size / sizeof(Bits);
    size_t first = out.size();
    out.resize(first + count);
    if (count) std::memcpy(out.data() + first, payload.data, count * sizeof(Bits));
}
}  // namespace

void MessageReader::append_floats(std::vector<float>& out) const {
    static_assert(sizeof(float) == 4, "float must be IEEE binary32");
    if (wire_type_ == WireType::fixed32) {
        out.push_back(as_float());
        return;
    }
    expect_wire_type(WireType::length_delimited, "packed or unpacked repeated float");
    append_packed_fixed<float, uint32_t>(*this, payload_, out);
}

void MessageReader::append_doubles(std::vector<double>& out) const {
    static_assert(sizeof(double) == 8, "double must be IEEE binary64");
    if (wire_type_ == WireType::fixed64) {
        out.push_back(as_double());
        return;
    }
    expect_wire_type(WireType::length_delimited, "packed or unpacked repeated double");
    append_packed_fixed<double, uint64_t>(*this, payload_, out);
}

}  // namespace convscope::protobuf
