// FlatBuffers reader tests over buffers laid out by hand byte by byte (so
// the expectations come from the format description in flatbuffers.h, not
// from this reader or from a builder that shares its assumptions).
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/formats/flatbuffers.h"

using namespace convscope;
using flatbuffers::Field;

namespace {

struct Bytes {
    std::vector<uint8_t> data;
    explicit Bytes(size_t size) : data(size, 0) {}
    void u16(size_t at, uint16_t value) { std::memcpy(&data[at], &value, 2); }
    void u32(size_t at, uint32_t value) { std::memcpy(&data[at], &value, 4); }
    void i32(size_t at, int32_t value) { std::memcpy(&data[at], &value, 4); }
    void f32(size_t at, float value) { std::memcpy(&data[at], &value, 4); }
    ByteSpan span() const { return ByteSpan(data.data(), data.size()); }
};

// A root table with every kind of field, each object in its own region:
//   0: root offset 28, 4: identifier "TEST"
//   8: vtable (18 bytes: 7 fields, table size 28): field 0 at +4, field 1
//      absent, fields 2..6 at +8, +12, +16, +20, +24
//  28: table: int32 42, -> string, -> vector, union type 2, -> member, float 2.5
//  56: string "hello"; 68: vector [7, -8, 9]
//  84: member vtable (6 bytes: one field at +4, table size 8)
//  96: member table: int32 1234
struct Layout {
    Bytes bytes{128};
    Layout() {
        Bytes& b = bytes;
        b.u32(0, 28);
        std::memcpy(&b.data[4], "TEST", 4);
        b.u16(8, 18);
        b.u16(10, 28);
        const uint16_t fields[] = {4, 0, 8, 12, 16, 20, 24};
        for (int i = 0; i < 7; ++i) b.u16(12 + 2 * i, fields[i]);
        b.i32(28, 28 - 8);
        b.i32(32, 42);
        b.u32(36, 56 - 36);
        b.u32(40, 68 - 40);
        b.data[44] = 2;
        b.u32(48, 96 - 48);
        b.f32(52, 2.5f);
        b.u32(56, 5);
        std::memcpy(&b.data[60], "hello", 6);
        b.u32(68, 3);
        b.i32(72, 7);
        b.i32(76, -8);
        b.i32(80, 9);
        b.u16(84, 6);
        b.u16(86, 8);
        b.u16(88, 4);
        b.i32(96, 96 - 84);
        b.i32(100, 1234);
    }
};

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("flatbuffers: scalars, defaults, strings, vectors and unions", "[flatbuffers]") {
    Layout layout;
    flatbuffers::Buffer buffer(layout.bytes.span(), "Root", "TEST");
    flatbuffers::Table root = buffer.root();
    CHECK(root.position() == 28);
    CHECK(root.i32({0, "answer"}) == 42);
    CHECK_FALSE(root.has({1, "absent"}));
    CHECK(root.i32({1, "absent"}, 17) == 17);            // vtable entry 0: the default
    CHECK(root.u8({9, "past the vtable"}, 3) == 3);      // beyond the vtable: the default
    CHECK(root.string({2, "text"}).value() == "hello");
    CHECK_FALSE(root.string({1, "absent"}).has_value());
    std::optional<flatbuffers::Vector> vector = root.vector({3, "numbers"}, 4);
    REQUIRE(vector);
    CHECK(vector->size() == 3);
    CHECK(vector->i32s() == std::vector<int32_t>{7, -8, 9});
    CHECK(vector->i32(2) == 9);
    CHECK(root.f32({6, "ratio"}) == 2.5f);
    auto [type, member] = root.union_member({4, "value_type"}, {5, "value"});
    CHECK(type == 2);
    REQUIRE(member);
    CHECK(member->i32({0, "inner"}) == 1234);
    CHECK(member->path() == "Root.value");
    CHECK(buffer.has_identifier("TEST"));
}

TEST_CASE("flatbuffers: damaged buffers give errors that name the offset", "[flatbuffers]") {
    SECTION("too small") {
        Bytes tiny(6);
        CHECK_THAT(error_of([&] { flatbuffers::Buffer(tiny.span(), "Root"); }),
                   Catch::Contains("6 bytes, too small"));
    }
    SECTION("wrong identifier") {
        Layout layout;
        CHECK_THAT(error_of([&] { flatbuffers::Buffer(layout.bytes.span(), "Root", "TFL3"); }),
                   Catch::Contains("file identifier at offset 0x4 (4) is not 'TFL3'"));
    }
    SECTION("root offset past the end") {
        Layout layout;
        layout.bytes.u32(0, 4000);
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        CHECK_THAT(error_of([&] { buffer.root(); }), Catch::Contains("root table offset 4000"));
    }
    SECTION("vtable outside the buffer") {
        Layout layout;
        layout.bytes.i32(28, -100000);
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        CHECK_THAT(error_of([&] { buffer.root(); }),
                   Catch::Contains("table at offset 0x1c (28) points to a vtable at 100028"));
    }
    SECTION("odd vtable size") {
        Layout layout;
        layout.bytes.u16(8, 7);
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        CHECK_THAT(error_of([&] { buffer.root(); }), Catch::Contains("vtable at offset 0x8 (8)"));
    }
    SECTION("field outside its table") {
        Layout layout;
        layout.bytes.u16(12, 27);  // field 0 at byte 27 of a 28-byte table: 4 bytes do not fit
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        flatbuffers::Table root = buffer.root();
        CHECK_THAT(error_of([&] { root.i32({0, "answer"}); }),
                   Catch::Contains("field 0 (answer) of the table at offset 0x1c (28): stored at byte 27"));
    }
    SECTION("vector longer than the buffer") {
        Layout layout;
        layout.bytes.u32(68, 0x7fffffff);
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        flatbuffers::Table root = buffer.root();
        CHECK_THAT(error_of([&] { root.vector({3, "numbers"}, 4); }),
                   Catch::Contains("vector at offset 0x44 (68) declares 2147483647 elements"));
    }
    SECTION("offset pointing past the end") {
        Layout layout;
        layout.bytes.u32(36, 0xfffffff0u);
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        flatbuffers::Table root = buffer.root();
        CHECK_THAT(error_of([&] { root.string({2, "text"}); }), Catch::Contains("field 2 (text)"));
        CHECK_THAT(error_of([&] { root.string({2, "text"}); }), Catch::Contains("points outside the 128-byte buffer"));
    }
    SECTION("union type without a value") {
        Layout layout;
        layout.bytes.u16(22, 0);  // field 5's vtable entry: absent
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        flatbuffers::Table root = buffer.root();
        CHECK_THAT(error_of([&] { root.union_member({4, "value_type"}, {5, "value"}); }),
                   Catch::Contains("union type 2 names a member but the value field 5 (value) is absent"));
    }
    SECTION("element read with the wrong width") {
        Layout layout;
        flatbuffers::Buffer buffer(layout.bytes.span(), "Root");
        std::optional<flatbuffers::Vector> vector = buffer.root().vector({3, "numbers"}, 4);
        CHECK_THAT(error_of([&] { vector->i64(0); }), Catch::Contains("read as 8-byte elements"));
        CHECK_THAT(error_of([&] { vector->i32(3); }), Catch::Contains("element 3 requested of 3"));
    }
}

TEST_CASE("flatbuffers: nesting depth and the read budget are bounded", "[flatbuffers]") {
    // 80 tables, each with one field pointing to the next: deeper than the limit.
    const int tables = 80;
    Bytes b(16 + 16 * tables);
    b.u32(0, 16);
    b.u16(8, 6);   // shared vtable: one field
    b.u16(10, 8);
    b.u16(12, 4);
    for (int i = 0; i < tables; ++i) {
        size_t at = 16 + 16 * static_cast<size_t>(i);
        b.i32(at, static_cast<int32_t>(at - 8));
        b.u32(at + 4, i + 1 < tables ? 16u - 4u : 0u);
    }
    flatbuffers::Buffer buffer(b.span(), "Chain");
    std::string error = error_of([&] {
        std::optional<flatbuffers::Table> table = buffer.root();
        while (table) table = table->table({0, "next"});
    });
    CHECK_THAT(error, Catch::Contains("levels deep; the limit is 64"));

    flatbuffers::Buffer budgeted(b.span(), "Budget");
    budgeted.charge(budgeted.budget_left());
    CHECK_THROWS_AS(budgeted.root(), LimitError);
}
