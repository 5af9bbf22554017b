// Protobuf wire decoder tests on hand-assembled messages. The byte values
// come from the encoding rules (protobuf.dev "Encoding"), e.g. 150 as a
// varint is 96 01, and the ONNX fixtures exercise the decoder on real files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/formats/protobuf.h"

using namespace convscope;
using namespace convscope::protobuf;

namespace {

ByteSpan span_of(const std::vector<uint8_t>& bytes, uint64_t base = 0) {
    return ByteSpan(bytes.data(), bytes.size(), base);
}

void put_varint(std::vector<uint8_t>& out, uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<uint8_t>(value | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<uint8_t>(value));
}

void put_tag(std::vector<uint8_t>& out, uint32_t field, WireType type) {
    put_varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(type));
}

void put_length_delimited(std::vector<uint8_t>& out, uint32_t field, const std::vector<uint8_t>& payload) {
    put_tag(out, field, WireType::length_delimited);
    put_varint(out, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
}

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const FormatError& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("read_varint decodes the documented examples", "[protobuf]") {
    std::vector<uint8_t> bytes = {0x01, 0x96, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    ByteReader reader(span_of(bytes));
    CHECK(read_varint(reader) == 1);
    CHECK(read_varint(reader) == 150);
    CHECK(read_varint(reader) == UINT64_MAX);
    CHECK(reader.at_end());
}

TEST_CASE("read_varint refuses overlong, overflowing and truncated varints", "[protobuf]") {
    std::vector<uint8_t> eleven(10, 0x80);
    eleven.push_back(0x00);
    ByteReader long_reader(span_of(eleven));
    CHECK_THROWS_WITH(read_varint(long_reader), Catch::Contains("longer than the 10-byte maximum"));

    std::vector<uint8_t> overflow = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    ByteReader overflow_reader(span_of(overflow));
    CHECK_THROWS_WITH(read_varint(overflow_reader), Catch::Contains("overflows 64 bits"));

    std::vector<uint8_t> truncated = {0x96};
    ByteReader truncated_reader(span_of(truncated, 0x40));
    CHECK_THROWS_WITH(read_varint(truncated_reader), Catch::Contains("0x40 (64)") && Catch::Contains("cut off"));
}

TEST_CASE("zigzag decoding maps to signed values", "[protobuf]") {
    CHECK(zigzag_decode(0) == 0);
    CHECK(zigzag_decode(1) == -1);
    CHECK(zigzag_decode(2) == 1);
    CHECK(zigzag_decode(3) == -2);
    CHECK(zigzag_decode(4294967294u) == 2147483647);
    CHECK(zigzag_decode(UINT64_MAX) == INT64_MIN);
}

TEST_CASE("MessageReader reads every wire type and skips unknown fields", "[protobuf]") {
    std::vector<uint8_t> message;
    put_tag(message, 1, WireType::varint);
    put_varint(message, 150);
    put_tag(message, 2, WireType::varint);  // int64 -2: ten bytes, two's complement
    put_varint(message, static_cast<uint64_t>(int64_t{-2}));
    put_tag(message, 3, WireType::varint);  // sint64 -3 zigzag
    put_varint(message, 5);
    put_tag(message, 4, WireType::fixed32);
    float f = 1.5f;
    uint8_t fbytes[4];
    std::memcpy(fbytes, &f, 4);
    message.insert(message.end(), fbytes, fbytes + 4);
    put_tag(message, 5, WireType::fixed64);
    double d = -0.25;
    uint8_t dbytes[8];
    std::memcpy(dbytes, &d, 8);
    message.insert(message.end(), dbytes, dbytes + 8);
    put_length_delimited(message, 6, {'c', 'o', 'n', 'v'});
    put_length_delimited(message, 999, {1, 2, 3});  // unknown
    put_tag(message, 7, WireType::start_group);     // deprecated group, skipped
    put_tag(message, 1, WireType::varint);
    put_varint(message, 3);
    put_tag(message, 7, WireType::end_group);
    std::vector<uint8_t> inner;
    put_tag(inner, 1, WireType::varint);
    put_varint(inner, 42);
    put_length_delimited(message, 8, inner);

    MessageReader reader(span_of(message), "Test");
    std::vector<uint32_t> seen;
    while (reader.next()) {
        seen.push_back(reader.field_number());
        switch (reader.field_number()) {
            case 1: CHECK(reader.as_uint64() == 150); CHECK(reader.as_int32() == 150); break;
            case 2: CHECK(reader.as_int64() == -2); CHECK(reader.as_int32() == -2); break;
            case 3: CHECK(reader.as_sint64() == -3); break;
            case 4: CHECK(reader.as_float() == 1.5f); break;
            case 5: CHECK(reader.as_double() == -0.25); break;
            case 6: CHECK(reader.as_string() == "conv"); break;
            case 8: {
                MessageReader child = reader.as_message("child");
                REQUIRE(child.next());
                CHECK(child.as_int64() == 42);
                CHECK(child.depth() == 1);
                CHECK_FALSE(child.next());
                break;
            }
            default: break;
        }
    }
    CHECK(seen == std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 999, 7, 8});
}

TEST_CASE("Repeated scalars decode both packed and unpacked, mixed", "[protobuf]") {
    std::vector<uint8_t> message;
    put_tag(message, 1, WireType::varint);  // unpacked element
    put_varint(message, 3);
    std::vector<uint8_t> packed;
    put_varint(packed, 270);
    put_varint(packed, 86942);
    put_varint(packed, static_cast<uint64_t>(int64_t{-1}));
    put_length_delimited(message, 1, packed);
    std::vector<uint8_t> floats(8);
    float values[2] = {0.5f, -2.0f};
    std::memcpy(floats.data(), values, 8);
    put_length_delimited(message, 2, floats);
    put_tag(message, 2, WireType::fixed32);
    float three = 3.0f;
    uint8_t tbytes[4];
    std::memcpy(tbytes, &three, 4);
    message.insert(message.end(), tbytes, tbytes + 4);
    std::vector<uint8_t> doubles(8);
    double one = 1.0;
    std::memcpy(doubles.data(), &one, 8);
    put_length_delimited(message, 3, doubles);

    std::vector<int64_t> ints;
    std::vector<float> fs;
    std::vector<double> ds;
    MessageReader reader(span_of(message), "Repeated");
    while (reader.next()) {
        if (reader.field_number() == 1) reader.append_int64s(ints);
        if (reader.field_number() == 2) reader.append_floats(fs);
        if (reader.field_number() == 3) reader.append_doubles(ds);
    }
    CHECK(ints == std::vector<int64_t>{3, 270, 86942, -1});
    CHECK(fs == std::vector<float>{0.5f, -2.0f, 3.0f});
    CHECK(ds == std::vector<double>{1.0});
}

TEST_CASE("MessageReader errors name the field, wire type and offset", "[protobuf]") {
    // Length runs past the end of the message.
    std::vector<uint8_t> too_long;
    put_tag(too_long, 7, WireType::length_delimited);
    put_varint(too_long, 100);
    too_long.push_back(0);
    std::string message = message_of([&] {
        MessageReader reader(span_of(too_long, 0x200), "GraphProto");
        while (reader.next()) {}
    });
    CHECK(message.find("GraphProto") != std::string::npos);
    CHECK(message.find("field 7") != std::string::npos);
    CHECK(message.find("length-delimited") != std::string::npos);
    CHECK(message.find("0x200 (512)") != std::string::npos);
    CHECK(message.find("length 100") != std::string::npos);

    // Wrong wire type for the accessor.
    std::vector<uint8_t> varint_field;
    put_tag(varint_field, 3, WireType::varint);
    put_varint(varint_field, 1);
    MessageReader reader(span_of(varint_field), "NodeProto");
    REQUIRE(reader.next());
    CHECK_THROWS_WITH(reader.as_string(), Catch::Contains("field 3 (varint)") &&
                                              Catch::Contains("expected wire type length-delimited"));
    CHECK_THROWS_WITH(reader.as_float(), Catch::Contains("expected wire type fixed32"));

    // Field number 0, wire types 6 and 7, lone end-group.
    for (std::vector<uint8_t> bad : {std::vector<uint8_t>{0x00, 0x01}, std::vector<uint8_t>{0x0e},
                                     std::vector<uint8_t>{0x0f}, std::vector<uint8_t>{0x0c}}) {
        MessageReader bad_reader(span_of(bad), "Bad");
        CHECK_THROWS_AS(bad_reader.next(), FormatError);
    }

    // Packed floats whose length is not a multiple of 4.
    std::vector<uint8_t> ragged;
    put_length_delimited(ragged, 4, {1, 2, 3, 4, 5});
    MessageReader ragged_reader(span_of(ragged), "TensorProto");
    REQUIRE(ragged_reader.next());
    std::vector<float> out;
    CHECK_THROWS_WITH(ragged_reader.append_floats(out), Catch::Contains("not a multiple of 4"));

    // int32 out of range.
    std::vector<uint8_t> wide;
    put_tag(wide, 2, WireType::varint);
    put_varint(wide, 1ull << 40);
    MessageReader wide_reader(span_of(wide), "TensorProto");
    REQUIRE(wide_reader.next());
    CHECK_THROWS_WITH(wide_reader.as_int32(), Catch::Contains("does not fit an int32"));
}

TEST_CASE("Nested messages stop at the nesting limit", "[protobuf]") {
    // Build a chain of messages each holding the next as field 1.
    std::vector<uint8_t> message;
    for (int level = 0; level < limits::max_nesting_depth + 5; ++level) {
        std::vector<uint8_t> outer;
        put_length_delimited(outer, 1, message);
        message.swap(outer);
    }
    std::function<int(MessageReader)> descend = [&](MessageReader reader) {
        int depth = reader.depth();
        while (reader.next()) depth = std::max(depth, descend(reader.as_message("child")));
        return depth;
    };
    CHECK_THROWS_WITH(descend(MessageReader(span_of(message), "Deep")), Catch::Contains("nested"));
}

TEST_CASE("Unterminated group is an error, not a hang", "[protobuf]") {
    std::vector<uint8_t> message;
    put_tag(message, 5, WireType::start_group);
    put_tag(message, 1, WireType::varint);
    put_varint(message, 9);
    MessageReader reader(span_of(message), "Group");
    CHECK_THROWS_WITH(reader.next(), Catch::Contains("group is not closed"));
}
