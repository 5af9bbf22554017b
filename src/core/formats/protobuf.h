// A pull decoder for the Protocol Buffers binary wire format, enough to read
// ONNX files without linking libprotobuf into the WASM build.
//
// On-disk layout read ("Protocol Buffers encoding", protobuf.dev/programming-guides/encoding):
//   1. A message is a sequence of fields with no header and no terminator; its
//      end is the end of the enclosing byte range (the file, or the length of
//      the length-delimited field that holds it).
//   2. Each field starts with a tag, a varint holding (field_number << 3) | wire_type.
//      Field numbers are 1 .. 2^29-1.
//   3. Varint: 1..10 bytes, 7 payload bits each, least significant group
//      first, high bit set on every byte but the last. The tenth byte may only
//      carry the single remaining bit of a 64-bit value.
//   4. Wire types: 0 VARINT (int32/int64/uint*/bool/enum; sint* zigzag-encoded,
//      (n << 1) ^ (n >> 63)); 1 I64 (fixed64, sfixed64, double, little-endian);
//      2 LEN (varint length, then that many bytes: string, bytes, embedded
//      message, packed repeated scalars); 3 SGROUP / 4 EGROUP (deprecated
//      groups, skipped here); 5 I32 (fixed32, sfixed32, float).
//   5. Repeated scalars arrive either unpacked (one field per element) or
//      packed (one LEN field whose payload is the concatenated elements);
//      a reader must accept both, and both may be mixed for one field.
//   6. Unknown fields are skipped; a field may appear more than once.
//
// Usage:
//   protobuf::MessageReader message(span, "ModelProto");
//   while (message.next()) {
//       switch (message.field_number()) {
//           case 1: ir_version = message.as_int64(); break;
//           case 7: read_graph(message.as_message("graph")); break;
//           default: break;  // unknown: already skipped by next()
//       }
//   }
// Errors are FormatError naming the message context, the field number, the
// wire type and the absolute byte offset of the field's tag.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/byte_reader.h"
#include "core/base/error.h"

namespace convscope::protobuf {

enum class WireType : uint8_t {
    varint = 0,
    fixed64 = 1,
    length_delimited = 2,
    start_group = 3,
    end_group = 4,
    fixed32 = 5,
};

const char* wire_type_name(WireType type);  // "varint", "fixed64", ...

// Reads one varint at the reader's position. Throws FormatError on a varint
// longer than 10 bytes, a 10th byte carrying more than one bit, or truncation.
uint64_t read_varint(ByteReader& reader);

inline int64_t zigzag_decode(uint64_t value) {
    return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

class MessageReader {
public:
    // `depth` counts enclosing messages; as_message() refuses to go past
    // limits::max_nesting_depth.
    MessageReader(ByteSpan message, std::string context, int depth = 0);

    // Advances to the next field and consumes its value (so unknown fields
    // are skipped by simply not asking for them). False at the message end.
    bool next();

    uint32_t field_number() const { return field_number_; }
    WireType wire_type() const { return wire_type_; }
    uint64_t field_offset() const { return field_offset_; }  // absolute offset of the tag
    const std::string& context() const { return context_; }
    int depth() const { return depth_; }
    const ByteSpan& span() const { return reader_.span(); }

    // Scalar accessors; each checks the wire type.
    uint64_t as_uint64() const;   // varint
    int64_t as_int64() const;     // varint, two's complement
    int32_t as_int32() const;     // varint, checked to fit (negative int32 are sign-extended to 64 bits)
    uint32_t as_uint32() const;
    bool as_bool() const;
    int64_t as_sint64() const;    // zigzag varint
    uint32_t as_fixed32() const;
    uint64_t as_fixed64() const;
    float as_float() const;       // fixed32
    double as_double() const;     // fixed64
    ByteSpan as_bytes() const;    // length-delimited payload, a view
    std::string as_string() const;
    MessageReader as_message(const std::string& child_context) const;

    // Repeated scalars, packed or unpacked; append to `out`.
    // Element counts are bounded by the payload size, so a hostile length
    // cannot make these allocate more than the file holds.
    void append_varints(std::vector<uint64_t>& out) const;
    void append_int64s(std::vector<int64_t>& out) const;
    void append_int32s(std::vector<int32_t>& out) const;
    void append_floats(std::vector<float>& out) const;
    void append_doubles(std::vector<double>& out) const;

    // Throws FormatError: "<context>: field N (wire type) at offset X: <message>".
    template <typename... Parts>
    [[noreturn]] void fail(const Parts&... parts) const;

private:
    void expect_wire_type(WireType expected, const char* as_what) const;
    void skip_group();
    std::string where() const;

    ByteReader reader_;
    std::string context_;
    int depth_ = 0;
    uint32_t field_number_ = 0;
    WireType wire_type_ = WireType::varint;
    uint64_t field_offset_ = 0;
    uint64_t scalar_ = 0;   // varint value or fixed bits
    ByteSpan payload_;      // length-delimited payload
};

[[noreturn]] void throw_field_error(const std::string& where, const std::string& message);

template <typename... Parts>
void MessageReader::fail(const Parts&... parts) const {
    throw_field_error(where(), concat(parts...));
}

}  // namespace convscope::protobuf
