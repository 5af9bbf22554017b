// .npy reading and writing against files numpy.save wrote
// (scripts/make_keras_fixtures.py, npy_files()).
#include <catch2/catch.hpp>

#include <cstring>

#include "core/base/error.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

std::string npy_fixture(const std::string& name) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/keras/npy/" + name + ".npy";
}

std::vector<double> values_of(const Tensor& tensor) {
    std::vector<double> values;
    for (uint64_t i = 0; i < tensor.element_count(); ++i) values.push_back(tensor.value_at(i));
    return values;
}

}  // namespace

TEST_CASE("npy reads what numpy.save wrote", "[npy]") {
    Tensor f32 = npy::read_file(npy_fixture("f32_2x3"));
    CHECK(f32.dtype() == DType::f32);
    CHECK(f32.shape() == Shape{2, 3});
    CHECK(values_of(f32) == std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5});

    Tensor f16 = npy::read_file(npy_fixture("f16_4"));
    CHECK(f16.dtype() == DType::f16);
    CHECK(values_of(f16) == std::vector<double>{1.0, -2.5, 0.0, 65504.0});

    Tensor i64 = npy::read_file(npy_fixture("i64_3"));
    CHECK(i64.dtype() == DType::i64);
    CHECK(values_of(i64) == std::vector<double>{-1, 0, 1099511627776.0});

    Tensor u8 = npy::read_file(npy_fixture("u8_2x2x2"));
    CHECK(u8.dtype() == DType::u8);
    CHECK(u8.shape() == Shape{2, 2, 2});
    CHECK(values_of(u8) == std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7});

    Tensor flags = npy::read_file(npy_fixture("bool_3"));
    CHECK(flags.dtype() == DType::boolean);
    CHECK(values_of(flags) == std::vector<double>{1, 0, 1});

    Tensor scalar = npy::read_file(npy_fixture("f64_scalar"));
    CHECK(scalar.shape().empty());
    CHECK(scalar.element_count() == 1);
    CHECK(scalar.value_at(0) == 3.25);

    Tensor empty = npy::read_file(npy_fixture("f32_empty_0x4"));
    CHECK(empty.shape() == Shape{0, 4});
    CHECK(empty.element_count() == 0);

    npy::Header v2 = npy::parse_header([] {
        static FileBytes bytes = read_file_bytes(npy_fixture("f32_v2"));
        return ByteSpan(bytes->data(), bytes->size());
    }());
    CHECK(v2.major_version == 2);
    CHECK(values_of(npy::read_file(npy_fixture("f32_v2"))) == std::vector<double>{0, 1, 2, 3});
}

TEST_CASE("npy writes the bytes numpy.save writes", "[npy]") {
    // Same dtype, shape, header padding and data: numpy.load returns the
    // array exactly, float16 included.
    for (const char* name : {"f32_2x3", "f16_4", "i64_3", "u8_2x2x2", "bool_3", "f64_scalar", "f32_empty_0x4"}) {
        INFO(name);
        FileBytes original = read_file_bytes(npy_fixture(name));
        std::vector<uint8_t> written = npy::write(npy::read(original));
        CHECK(written == *original);
    }
    Tensor made = Tensor::from_floats({2, 2}, {1, 2, 3, 4});
    std::vector<uint8_t> bytes = npy::write(made);
    CHECK(bytes.size() % 64 == 16);  // 64-byte header, 16 data bytes
    auto shared = std::make_shared<std::vector<uint8_t>>(bytes);
    Tensor back = npy::read(shared);
    CHECK(back.shape() == Shape{2, 2});
    CHECK(values_of(back) == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("npy refuses what it cannot read faithfully, saying why", "[npy]") {
    auto message_of = [](const std::string& name) -> std::string {
        try {
            npy::read_file(npy_fixture(name));
        } catch (const FormatError& error) {
            return error.what();
        }
        return "no error";
    };
    CHECK_THAT(message_of("big_endian"), Catch::Contains(">f4"));
    CHECK_THAT(message_of("fortran_2x3"), Catch::Contains("fortran_order"));

    FileBytes good = read_file_bytes(npy_fixture("f32_2x3"));
    auto cut = std::make_shared<std::vector<uint8_t>>(good->begin(), good->end() - 4);
    try {
        npy::read(cut);
        FAIL("expected a FormatError");
    } catch (const FormatError& error) {
        CHECK_THAT(std::string(error.what()), Catch::Contains("needs 24 data bytes"));
    }
    auto bad_magic = std::make_shared<std::vector<uint8_t>>(*good);
    (*bad_magic)[1] = 'X';
    CHECK_THROWS_AS(npy::read(bad_magic), FormatError);
    auto bad_header = std::make_shared<std::vector<uint8_t>>(*good);
    std::memcpy(bad_header->data() + 10, "{'descr': '<f4', 'shape': [2, 3]", 32);
    CHECK_THROWS_AS(npy::read(bad_header), FormatError);
    auto huge_length = std::make_shared<std::vector<uint8_t>>(*good);
    (*huge_length)[8] = 0xff;
    (*huge_length)[9] = 0xff;
    CHECK_THROWS_AS(npy::read(huge_length), FormatError);
}
