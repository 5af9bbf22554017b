// SafeTensors reader tests: files written with numpy + json by
// scripts/make_pytorch_fixtures.py (checked against torch's tensors), and
// headers built here to break one rule each.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/formats/registry.h"
#include "core/formats/safetensors.h"
#include "core/inspect/kernels.h"
#include "support/tensor_expectations.h"

using namespace convscope;
using convscope::testing::pytorch_fixture;

namespace {

FileBytes safetensors_bytes(const std::string& header, size_t data_bytes) {
    auto bytes = std::make_shared<std::vector<uint8_t>>();
    uint64_t length = header.size();
    for (int i = 0; i < 8; ++i) bytes->push_back(static_cast<uint8_t>(length >> (8 * i)));
    bytes->insert(bytes->end(), header.begin(), header.end());
    for (size_t i = 0; i < data_bytes; ++i) bytes->push_back(static_cast<uint8_t>(i));
    return bytes;
}

std::string error_of(const std::string& header, size_t data_bytes) {
    try {
        open_safetensors(safetensors_bytes(header, data_bytes), "t.safetensors");
    } catch (const Error& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("SafeTensors files give torch's tensors, zero-copy where aligned", "[safetensors]") {
    for (const char* file : {"small_cnn.safetensors", "dtypes.safetensors"}) {
        INFO(file);
        Model model = open_model(read_file_bytes(pytorch_fixture(file)), file);
        CHECK(model.format == ModelFormat::safetensors);
        CHECK_FALSE(model.has_architecture);
        REQUIRE(model.warnings.size() == 1);
        testing::check_tensors_match_torch(model, file);
        CHECK(testing::weight_count(model) == testing::pytorch_expectations().at(file).size());
        CHECK(testing::check_npy_match_torch(model, file) > 0);
    }
    Model model = open_model(read_file_bytes(pytorch_fixture("small_cnn.safetensors")), "small_cnn.safetensors");
    CHECK(model.producer == "pytorch");
    CHECK(model.metadata.at("metadata.source") == "make_pytorch_fixtures.py");
    CHECK_FALSE(model.find_layer("features.0")->weights[0].tensor.owns_data());
    CHECK(model.find_layer("features.1")->type == "BatchNorm2d");
    std::optional<ConvKernels> kernels = conv_kernels(model, *model.find_layer("features.0"));
    REQUIRE(kernels);
    CHECK(kernels->out_channels == 8);
    CHECK(kernels->in_channels == 3);
}

TEST_CASE("SafeTensors magic", "[safetensors]") {
    FileBytes good = safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
    CHECK(looks_like_safetensors(ByteSpan(good->data(), good->size())));
    FileBytes long_header = safetensors_bytes("{}", 0);
    (*std::const_pointer_cast<std::vector<uint8_t>>(long_header))[0] = 200;
    CHECK_FALSE(looks_like_safetensors(ByteSpan(long_header->data(), long_header->size())));
    Model model = open_model(good, "a.safetensors");
    CHECK(model.layers.at(0).weights.at(0).tensor.value_at(0) == Approx(0.0).margin(1e-30));
}

TEST_CASE("SafeTensors byte ranges and entries are checked", "[safetensors]") {
    auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
        return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
    };
    CHECK(error_of("{\"a\":" + entry("F32", "[2]", "[0,8]") + ",\"b\":" + entry("F32", "[2]", "[4,12]") + "}", 12)
              .find("overlap") != std::string::npos);
    CHECK(error_of("{\"a\":" + entry("F32", "[2]", "[0,8]") + "}", 4).find("not inside the data area of 4 bytes") !=
          std::string::npos);
    CHECK(error_of("{\"a\":" + entry("F32", "[3]", "[0,8]") + "}", 8).find("needs 12") != std::string::npos);
    CHECK(error_of("{\"a\":" + entry("F8_E4M3", "[1]", "[0,1]") + "}", 1).find("dtype F8_E4M3 is not read") !=
          std::string::npos);
    CHECK(error_of("{\"a\":" + entry("F32", "[-1]", "[0,4]") + "}", 4).find("not a size") != std::string::npos);
    CHECK(error_of("{\"a\":" + entry("F32", "[1]", "[8,4]") + "}", 8).find("not inside") != std::string::npos);
    CHECK(error_of(R"({"a":{"dtype":"F32","shape":[1]}})", 4).find("data_offsets") != std::string::npos);
    CHECK(error_of(R"({"__metadata__":{"k":3}})", 0).find("is not a string") != std::string::npos);
    CHECK(error_of("{\"a\":[1,2", 0).find("not JSON") != std::string::npos);
    CHECK(error_of(std::string(100, '[') , 0).find("nested deeper") != std::string::npos);
    CHECK(error_of("{\"a\":" + entry("BF16", "[2]", "[0,4]") + "}", 4) == "(no error)");
}
