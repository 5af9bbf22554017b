#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/base/crc32.h"

using namespace convscope;

TEST_CASE("crc32 matches the standard check value", "[crc32]") {
    const std::string check = "123456789";
    CHECK(crc32(reinterpret_cast<const uint8_t*>(check.data()), check.size()) == 0xCBF43926u);
    CHECK(crc32(nullptr, 0) == 0u);
    // Incremental use gives the same result as one call.
    uint32_t first = crc32(reinterpret_cast<const uint8_t*>(check.data()), 4);
    CHECK(crc32(reinterpret_cast<const uint8_t*>(check.data()) + 4, 5, first) == 0xCBF43926u);
}

TEST_CASE("crc32's eight-byte steps agree with the bit-by-bit definition at every length and split", "[crc32]") {
    // The definition, one bit at a time: independent of the tables under test.
    auto bitwise = [](const uint8_t* data, size_t size) {
        uint32_t c = 0xFFFFFFFFu;
        for (size_t i = 0; i < size; ++i) {
            c ^= data[i];
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFFu;
    };
    std::vector<uint8_t> bytes(1000);
    uint32_t state = 12345;
    for (uint8_t& b : bytes) {
        state = state * 1664525u + 1013904223u;
        b = static_cast<uint8_t>(state >> 24);
    }
    for (size_t length = 0; length <= 40; ++length) {
        CHECK(crc32(bytes.data(), length) == bitwise(bytes.data(), length));
    }
    CHECK(crc32(bytes.data(), bytes.size()) == bitwise(bytes.data(), bytes.size()));
    for (size_t split : {1, 3, 7, 8, 9, 500, 999}) {
        CHECK(crc32(bytes.data() + split, bytes.size() - split, crc32(bytes.data(), split)) ==
              bitwise(bytes.data(), bytes.size()));
    }
}
