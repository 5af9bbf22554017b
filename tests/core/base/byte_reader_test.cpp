#include <catch2/catch.hpp>

#include <vector>

#include "core/base/byte_reader.h"
#include "core/base/error.h"

using namespace convscope;

TEST_CASE("ByteReader reads little-endian integers and floats in order") {
    std::vector<uint8_t> bytes = {0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x80, 0x3f};
    ByteReader reader(ByteSpan(bytes.data(), bytes.size()));
    CHECK(reader.u8() == 0x01);
    CHECK(reader.u16() == 0x1234);
    CHECK(reader.u32() == 0x12345678u);
    CHECK(reader.f32() == 1.0f);
    CHECK(reader.at_end());
}

TEST_CASE("ByteReader refuses to read past the end and names the offset") {
    std::vector<uint8_t> bytes = {1, 2, 3};
    ByteReader reader(ByteSpan(bytes.data(), bytes.size(), 100), "test header");
    reader.u16();
    try {
        reader.u32();
        FAIL("expected a FormatError");
    } catch (const FormatError& error) {
        std::string message = error.what();
        CHECK(message.find("test header") != std::string::npos);
        CHECK(message.find("need 4 bytes") != std::string::npos);
        CHECK(message.find("0x66 (102)") != std::string::npos);
    }
    // A failed read does not move the position.
    CHECK(reader.position() == 2);
    CHECK(reader.u8() == 3);
}

TEST_CASE("ByteReader checks sizes that would overflow") {
    std::vector<uint8_t> bytes(16, 0);
    ByteReader reader(ByteSpan(bytes.data(), bytes.size()));
    reader.skip(8);
    CHECK_THROWS_AS(reader.bytes(UINT64_MAX), FormatError);
    CHECK_THROWS_AS(reader.skip(UINT64_MAX - 4), FormatError);
    CHECK_THROWS_AS(reader.seek(17), FormatError);
    CHECK_NOTHROW(reader.seek(16));
    CHECK(reader.at_end());
}

TEST_CASE("ByteSpan::subspan rejects ranges whose end overflows") {
    std::vector<uint8_t> bytes(32, 0);
    ByteSpan span(bytes.data(), bytes.size());
    CHECK_THROWS_AS(span.subspan(8, UINT64_MAX - 4, "chunk"), FormatError);
    CHECK_THROWS_AS(span.subspan(33, 0, "chunk"), FormatError);
    ByteSpan inner = span.subspan(8, 24, "chunk");
    CHECK(inner.size == 24);
    CHECK(inner.base_offset == 8);
    ByteReader nested(inner, "chunk");
    nested.skip(20);
    try {
        nested.u64();
        FAIL("expected a FormatError");
    } catch (const FormatError& error) {
        // Offsets stay absolute inside nested regions.
        CHECK(std::string(error.what()).find("0x1c (28)") != std::string::npos);
    }
}

TEST_CASE("ByteReader variable-width integers and magic checks") {
    std::vector<uint8_t> bytes = {0x89, 'H', 'D', 'F', 0xaa, 0xbb, 0xcc};
    ByteReader reader(ByteSpan(bytes.data(), bytes.size()));
    reader.expect_magic("\x89HDF", "HDF5");
    CHECK(reader.uint_of_size(3) == 0xccbbaau);
    reader.seek(0);
    CHECK_THROWS_WITH(reader.expect_magic("PK\x03\x04", "ZIP"), Catch::Contains("expected ZIP signature"));
    CHECK_THROWS_AS(reader.uint_of_size(9), FormatError);
    CHECK_THROWS_AS(reader.uint_of_size(0), FormatError);
}
