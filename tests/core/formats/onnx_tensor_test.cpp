// read_onnx_tensor: a standalone TensorProto (as the ONNX test suite stores
// inputs and outputs) against the same values numpy saved as .npy
// (scripts/make_multi_io_fixtures.py writes both).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/formats/npy.h"
#include "core/formats/onnx.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

std::string multi_io_fixture(const std::string& name) {
    return CONVSCOPE_SOURCE_DIR "/tests/fixtures/onnx/multi_io/" + name;
}

void require_same_values(const Tensor& got, const Tensor& expected) {
    REQUIRE(got.shape() == expected.shape());
    REQUIRE(got.element_count() == expected.element_count());
    for (uint64_t i = 0; i < expected.element_count(); ++i) {
        INFO("element " << i);
        REQUIRE(got.value_at(i) == expected.value_at(i));
    }
}

}  // namespace

TEST_CASE("read_onnx_tensor decodes raw_data and typed int64_data TensorProtos like numpy", "[onnx]") {
    OnnxTensor image = read_onnx_tensor(read_file_bytes(multi_io_fixture("image.pb")), "image.pb");
    CHECK(image.name == "image");
    CHECK(image.tensor.dtype() == DType::f32);
    require_same_values(image.tensor, npy::read_file(multi_io_fixture("image.npy")));

    OnnxTensor indices = read_onnx_tensor(read_file_bytes(multi_io_fixture("indices.pb")), "indices.pb");
    CHECK(indices.name == "indices");
    CHECK(indices.tensor.dtype() == DType::i64);
    Tensor expected = npy::read_file(multi_io_fixture("indices.npy"));
    require_same_values(indices.tensor, expected);
    // Values past float precision survive (2^40 + 1 would not as float32).
    CHECK(indices.tensor.value_at(3) == 1099511627776.0);
}

TEST_CASE("read_onnx_tensor refuses a truncated TensorProto naming the file", "[onnx]") {
    FileBytes whole = read_file_bytes(multi_io_fixture("image.pb"));
    size_t refused = 0;
    for (size_t length = 1; length < whole->size(); ++length) {
        auto cut = std::make_shared<const std::vector<uint8_t>>(whole->begin(), whole->begin() + length);
        try {
            read_onnx_tensor(cut, "cut.pb");
        } catch (const FormatError& error) {
            CHECK(std::string(error.what()).find("cut.pb") != std::string::npos);
            ++refused;
        }
    }
    // Every cut loses data: either inside a field, or raw_data shorter than dims say.
    CHECK(refused == whole->size() - 1);
}
