// HDF5 reader tests. Expected trees come from h5py (scripts/make_hdf5_fixtures.py
// writes NAME.json next to NAME.h5); specific values below are the inputs the
// script wrote, not values copied from our reader's output.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/formats/hdf5.h"
#include "core/formats/registry.h"

using namespace convscope;
using Json = nlohmann::json;

namespace {

const std::string fixture_dir = CONVSCOPE_SOURCE_DIR "/tests/fixtures/hdf5/";
const std::string corpus_dir = CONVSCOPE_SOURCE_DIR "/../shared/corpus/";

Json load_json(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    return Json::parse(in);
}

hdf5::File open_fixture(const std::string& name) { return hdf5::File::open(read_file_bytes(fixture_dir + name)); }

// Empty when equal; otherwise the first difference with its JSON path.
// Numbers compare with a relative tolerance of 1e-9 (sums are accumulated in
// the same order on both sides, so they normally agree exactly).
std::string first_difference(const Json& expected, const Json& actual, const std::string& path) {
    if (expected.is_number() && actual.is_number()) {
        double a = expected.get<double>(), b = actual.get<double>();
        if (std::isnan(a) && std::isnan(b)) return "";
        double scale = std::max({1.0, std::fabs(a), std::fabs(b)});
        return std::fabs(a - b) <= 1e-9 * scale ? "" : path + ": expected " + expected.dump() + ", found " + actual.dump();
    }
    if (expected.type() != actual.type()) {
        return path + ": expected " + expected.dump().substr(0, 200) + ", found " + actual.dump().substr(0, 200);
    }
    if (expected.is_object()) {
        for (auto it = expected.begin(); it != expected.end(); ++it) {
            if (!actual.contains(it.key())) return path + ": missing key '" + it.key() + "'";
            std::string d = first_difference(it.value(), actual[it.key()], path + "." + it.key());
            if (!d.empty()) return d;
        }
        for (auto it = actual.begin(); it != actual.end(); ++it) {
            if (!expected.contains(it.key())) return path + ": unexpected key '" + it.key() + "'";
        }
        return "";
    }
    if (expected.is_array()) {
        if (expected.size() != actual.size()) {
            return path + ": expected " + std::to_string(expected.size()) + " elements, found " +
                   std::to_string(actual.size());
        }
        for (size_t i = 0; i < expected.size(); ++i) {
            std::string d = first_difference(expected[i], actual[i], path + "[" + std::to_string(i) + "]");
            if (!d.empty()) return d;
        }
        return "";
    }
    return expected == actual ? "" : path + ": expected " + expected.dump() + ", found " + actual.dump();
}

void check_against_h5py(const std::string& h5_path, const std::string& json_path) {
    INFO(h5_path);
    Json expected = load_json(json_path);
    hdf5::File file = hdf5::File::open(read_file_bytes(h5_path));
    CHECK(file.superblock_version() == expected["superblock_version"].get<int>());
    Json ours = Json::parse(hdf5::dump_canonical_json(file));
    CHECK(first_difference(expected["objects"], ours["objects"], "objects") == "");
}

std::vector<float> floats(const Tensor& tensor) { return tensor.to_float_vector(); }

}  // namespace

TEST_CASE("hdf5: every fixture reads as h5py reads it", "[hdf5]") {
    const char* const fixtures[] = {
        "basic_earliest", "basic_latest", "superblock_v1", "filters_earliest", "chunk_indexes",
        "chunk_indexes_large", "compact", "track_order", "dense", "strings", "split_attribute", "dtypes",
        "old_style_large", "superblock_v2", "userblock",
    };
    for (const char* name : fixtures) {
        SECTION(name) { check_against_h5py(fixture_dir + name + ".h5", fixture_dir + name + ".json"); }
    }
}

TEST_CASE("hdf5: the real Keras 2 .h5 from the corpus reads as h5py reads it", "[hdf5][corpus]") {
    std::string path = corpus_dir + "N-Harish_onnx_converted_model__mnist.h5";
    REQUIRE(std::ifstream(path).good());  // the corpus must be present: fail, do not skip
    check_against_h5py(path, fixture_dir + "corpus_N-Harish_mnist.json");

    hdf5::File file = hdf5::File::open(read_file_bytes(path));
    hdf5::Object kernel = file.root().child("model_weights").child("conv2d_2").child("conv2d_2_1").child("kernel:0");
    CHECK(kernel.shape() == Shape{3, 3, 1, 32});
    Tensor data = kernel.read();
    CHECK(data.dtype() == DType::f32);
    CHECK_FALSE(data.owns_data());  // contiguous little-endian: a view into the file
}

TEST_CASE("hdf5: API used by the Keras reader", "[hdf5]") {
    for (const char* name : {"basic_earliest.h5", "basic_latest.h5"}) {
        INFO(name);
        hdf5::File file = open_fixture(name);
        hdf5::Object root = file.root();
        CHECK(root.is_group());
        CHECK(root.path() == "/");
        CHECK(root.children() == std::vector<std::string>{"empty_group", "model_weights", "scalar_int64"});
        CHECK(std::get<std::string>(root.attribute("backend")) == "tensorflow");
        CHECK(root.has_attribute("keras_version"));
        CHECK_FALSE(root.has_attribute("missing"));

        hdf5::Object weights = root.child("model_weights");
        CHECK(weights.path() == "/model_weights");
        CHECK(std::get<std::vector<std::string>>(weights.attribute("layer_names")) ==
              std::vector<std::string>{"conv2d", "dense"});
        CHECK(std::get<std::vector<std::string>>(weights.child("conv2d").attribute("weight_names")) ==
              std::vector<std::string>{"conv2d/kernel:0", "conv2d/bias:0"});

        std::optional<hdf5::Object> kernel = root.find("model_weights/conv2d/conv2d/kernel:0");
        REQUIRE(kernel);
        CHECK(kernel->is_dataset());
        CHECK_FALSE(kernel->is_group());
        CHECK(kernel->path() == "/model_weights/conv2d/conv2d/kernel:0");
        CHECK(kernel->shape() == Shape{3, 3, 1, 5});
        CHECK(kernel->dtype() == DType::f32);
        Tensor tensor = kernel->read();
        CHECK(tensor.shape() == Shape{3, 3, 1, 5});
        CHECK_FALSE(tensor.owns_data());
        CHECK(weights.find("/model_weights/dense/dense/bias:0"));  // absolute paths start at the root

        Tensor scalar = root.child("scalar_int64").read();
        CHECK(scalar.shape().empty());
        CHECK(scalar.dtype() == DType::i64);
        CHECK(scalar.value_at(0) == 7.0);

        CHECK_FALSE(root.find("model_weights/nope"));
        CHECK(root.child("empty_group").children().empty());
        try {
            root.child("model_weights").child("nope");
            FAIL("child() of a missing name must throw");
        } catch (const FormatError& error) {
            CHECK_THAT(error.what(), Catch::Contains("/model_weights") && Catch::Contains("'nope'"));
        }
    }
}

TEST_CASE("hdf5: each chunk index and layout is exercised", "[hdf5]") {
    struct Expectation {
        const char* file;
        const char* dataset;
        const char* storage;
    };
    const Expectation expectations[] = {
        {"chunk_indexes.h5", "single_chunk", "chunked (single chunk index)"},
        {"chunk_indexes.h5", "single_chunk_gzip", "chunked (single chunk index; deflate)"},
        {"chunk_indexes.h5", "fixed_array", "chunked (fixed array index)"},
        {"chunk_indexes.h5", "fixed_array_gzip", "chunked (fixed array index; deflate, fletcher32)"},
        {"chunk_indexes.h5", "extensible_array", "chunked (extensible array index)"},
        {"chunk_indexes.h5", "extensible_array_gzip", "chunked (extensible array index; shuffle, deflate)"},
        {"chunk_indexes.h5", "btree_v2", "chunked (v2 B-tree index)"},
        {"chunk_indexes.h5", "btree_v2_gzip", "chunked (v2 B-tree index; deflate)"},
        {"chunk_indexes.h5", "implicit", "chunked (implicit index)"},
        {"chunk_indexes_large.h5", "fixed_array_paged", "chunked (fixed array index)"},
        {"chunk_indexes_large.h5", "extensible_array_many", "chunked (extensible array index)"},
        {"filters_earliest.h5", "gzip_shuffle_fletcher", "chunked (v1 B-tree index; shuffle, deflate, fletcher32)"},
        {"superblock_v1.h5", "chunked", "chunked (v1 B-tree index)"},
        {"compact.h5", "compact", "compact"},
        {"compact.h5", "contiguous", "contiguous"},
    };
    for (const Expectation& e : expectations) {
        INFO(e.file << " " << e.dataset);
        hdf5::File file = open_fixture(e.file);
        CHECK(file.root().child(e.dataset).storage_description() == e.storage);
    }
    CHECK(open_fixture("superblock_v1.h5").superblock_version() == 1);
    CHECK(open_fixture("superblock_v2.h5").superblock_version() == 2);
    CHECK(open_fixture("basic_earliest.h5").superblock_version() == 0);
    CHECK(open_fixture("basic_latest.h5").superblock_version() == 3);

    // Unwritten chunks read as the dataset's fill value (1.5 in the script).
    Tensor partial = open_fixture("filters_earliest.h5").root().child("partially_written").read();
    REQUIRE(partial.shape() == Shape{6, 6});
    CHECK(partial.value_at(5 * 6 + 5) == 1.5);
    CHECK(partial.value_at(3) == 1.5);
}

TEST_CASE("hdf5: numeric types", "[hdf5]") {
    hdf5::File file = open_fixture("dtypes.h5");
    hdf5::Object root = file.root();
    CHECK(root.child("float16").read().dtype() == DType::f16);  // kept as half, not widened
    CHECK(root.child("float64").dtype() == DType::f64);
    CHECK(root.child("int8").dtype() == DType::i8);
    CHECK(root.child("uint64").dtype() == DType::u64);
    CHECK(root.child("bool").dtype() == DType::boolean);
    Tensor big = root.child("big_endian_float32").read();
    CHECK(big.dtype() == DType::f32);
    CHECK(big.owns_data());  // byte-swapped into an owned buffer
    CHECK(root.child("big_endian_float32").datatype_description() == "float32 big-endian");
    CHECK(root.child("empty").read().element_count() == 0);
    CHECK(root.child("scalar_float16").read().value_at(0) == 1.5);

    Tensor big_attr = std::get<Tensor>(root.attribute("big_endian_attr"));
    CHECK(big_attr.dtype() == DType::i32);
    CHECK(floats(big_attr) == std::vector<float>{1, -2, 3});
    Tensor bools = std::get<Tensor>(root.attribute("bool_attr"));
    CHECK(bools.dtype() == DType::boolean);
    CHECK(floats(bools) == std::vector<float>{1, 0, 1});
    CHECK(std::get<Tensor>(root.attribute("float16_attr")).value_at(0) == -2.25);
    CHECK(std::get<Tensor>(root.attribute("int8_attr")).value_at(0) == -5);
}

TEST_CASE("hdf5: strings", "[hdf5]") {
    hdf5::Object root = open_fixture("strings.h5").root();
    CHECK(std::get<std::string>(root.attribute("vlen_scalar")) == "variable length");
    CHECK(std::get<std::vector<std::string>>(root.attribute("vlen_array")) ==
          std::vector<std::string>{"one", "two", "three"});
    CHECK(std::get<std::string>(root.attribute("fixed_scalar")) == "fixed");
    CHECK(std::get<std::vector<std::string>>(root.attribute("fixed_array")) == std::vector<std::string>{"a", "bb", "ccc"});
    CHECK(std::get<std::string>(root.attribute("utf8_scalar")) == "gr\xc3\xbc\xc3\x9f" "e");
    CHECK(std::get<std::string>(root.attribute("space_padded")) == "ab");
    CHECK(root.child("vlen_dataset").is_string_dataset());
    CHECK(root.child("vlen_dataset").read_strings() == std::vector<std::string>{"x", "yy", "zzz"});
    CHECK(root.child("fixed_dataset").read_strings() == std::vector<std::string>{"alpha", "be"});
    CHECK_THROWS_AS(root.child("vlen_dataset").read(), UnsupportedError);
}

TEST_CASE("hdf5: creation order and name order", "[hdf5]") {
    hdf5::Object root = open_fixture("track_order.h5").root();
    CHECK(root.child("ordered").children() == std::vector<std::string>{"zeta", "alpha", "mid", "beta"});
    CHECK(root.child("ordered").attribute_names() == std::vector<std::string>{"z_attr", "a_attr", "m_attr"});
    CHECK(root.child("unordered").children() == std::vector<std::string>{"alpha", "mid", "zeta"});
    CHECK(root.child("unordered").attribute_names() == std::vector<std::string>{"a_attr", "z_attr"});

    hdf5::Object dense = open_fixture("dense.h5").root();
    std::vector<std::string> names = dense.child("many_links").children();
    REQUIRE(names.size() == 20);
    CHECK(names.front() == "d00");
    CHECK(names.back() == "d19");
    CHECK(std::is_sorted(names.begin(), names.end()));
    CHECK(dense.child("many_links").child("d07").read().value_at(0) == 12);  // written with value 19 - 7
    std::vector<std::string> ordered = dense.child("many_links_ordered").children();
    REQUIRE(ordered.size() == 12);
    CHECK(ordered.front() == "g11");  // created first
    CHECK(dense.child("many_links_ordered").attribute_names().front() == "a11");
    CHECK(dense.child("many_attributes").attribute_names().size() == 22);
    std::string big = std::get<std::string>(dense.child("many_attributes").attribute("big_text"));
    CHECK(big.size() == 6400);  // a huge fractal heap object
    CHECK(big.substr(6384) == "0123456789abcdef");
    CHECK(std::get<std::string>(dense.child("many_attributes").attribute("text")) == "dense text attribute");
}

TEST_CASE("hdf5: old-style groups with internal B-tree nodes and soft links", "[hdf5]") {
    hdf5::Object root = open_fixture("old_style_large.h5").root();
    hdf5::Object many = root.child("many");
    std::vector<std::string> names = many.children();
    REQUIRE(names.size() == 303);
    CHECK(names[0] == "link000");
    CHECK(names[299] == "link299");
    CHECK(names[302] == "soft2");
    CHECK(many.child("link123").address() == root.child("target").address());
    CHECK(many.soft_link_target("soft1") == std::optional<std::string>("/target"));
    CHECK(floats(many.child("soft1").read()) == std::vector<float>{0, 1, 2});
    CHECK(root.child("many_chunks").read().element_count() == 150);
}

TEST_CASE("hdf5: a Keras attribute split past 64 KB reassembles", "[hdf5]") {
    hdf5::Object weights = open_fixture("split_attribute.h5").root().child("model_weights");
    std::vector<std::string> all;
    for (int i = 0; weights.has_attribute("layer_names" + std::to_string(i)); ++i) {
        auto part = std::get<std::vector<std::string>>(weights.attribute("layer_names" + std::to_string(i)));
        all.insert(all.end(), part.begin(), part.end());
    }
    REQUIRE(all.size() == 3000);
    CHECK(all[0] == "layer_with_a_long_name_00000");
    CHECK(all[2999] == "layer_with_a_long_name_02999");
    CHECK_FALSE(weights.has_attribute("layer_names"));
}

TEST_CASE("hdf5: soft links, shared hard links and cycles", "[hdf5]") {
    hdf5::File file = open_fixture("links.h5");
    hdf5::Object root = file.root();
    hdf5::Object soft = root.child("soft_to_data");
    CHECK(soft.path() == "/soft_to_data");
    CHECK(floats(soft.read()) == std::vector<float>{0, 1, 2, 3, 4, 5});
    CHECK(root.soft_link_target("soft_to_data") == std::optional<std::string>("/a/data"));
    CHECK(root.child("hard_to_a").address() == root.child("a").address());
    CHECK_FALSE(root.find("dangling"));
    try {
        root.child("dangling");
        FAIL("a dangling soft link must throw");
    } catch (const FormatError& error) {
        CHECK_THAT(error.what(), Catch::Contains("/nowhere"));
    }
    // /a/self is /a: following it forever must stop at the nesting limit.
    std::string deep = "a";
    for (int i = 0; i < 80; ++i) deep += "/self";
    CHECK_THROWS_AS(root.find(deep), LimitError);
    Json dump = Json::parse(hdf5::dump_canonical_json(file));
    bool saw_cycle = false;
    for (const Json& object : dump["objects"]) {
        if (object["path"] == "/a/self") {
            CHECK(object["kind"] == "hardlink");
            CHECK(object["target"] == "/a");
            saw_cycle = true;
        }
    }
    CHECK(saw_cycle);
}

TEST_CASE("hdf5: broken and hostile input fails with convscope errors only", "[hdf5][robustness]") {
    SECTION("not HDF5") {
        auto bytes = std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>(600, 0x42));
        CHECK_FALSE(hdf5::is_hdf5(ByteSpan(bytes->data(), bytes->size())));
        CHECK_THROWS_AS(hdf5::File::open(bytes), FormatError);
    }
    SECTION("a flipped byte in a v2 object header fails its checksum") {
        FileBytes original = read_file_bytes(fixture_dir + "basic_latest.h5");
        std::vector<uint8_t> bytes = *original;
        // The root object header follows the 48-byte superblock v3 and starts with OHDR.
        REQUIRE(bytes.size() > 60);
        REQUIRE(std::string(bytes.begin() + 48, bytes.begin() + 52) == "OHDR");
        bytes[58] ^= 0x01;
        try {
            hdf5::File::open(std::make_shared<const std::vector<uint8_t>>(bytes));
            FAIL("corrupt header accepted");
        } catch (const FormatError& error) {
            CHECK_THAT(error.what(), Catch::Contains("checksum"));
        }
    }
    SECTION("truncations and byte flips of every fixture") {
        const char* const files[] = {"basic_earliest.h5", "basic_latest.h5", "filters_earliest.h5", "chunk_indexes.h5",
                                     "dense.h5", "strings.h5", "dtypes.h5"};
        int failures_seen = 0;
        for (const char* name : files) {
            FileBytes original = read_file_bytes(fixture_dir + name);
            auto attempt = [&](std::vector<uint8_t> bytes, const std::string& what) {
                INFO(name << ": " << what);
                try {
                    hdf5::File file = hdf5::File::open(std::make_shared<const std::vector<uint8_t>>(std::move(bytes)));
                    hdf5::dump_canonical_json(file);
                } catch (const Error&) {
                    ++failures_seen;  // FormatError, LimitError, UnsupportedError: all fine
                } catch (const std::exception& other) {
                    FAIL("non-convscope exception: " << other.what());
                }
            };
            for (size_t cut = 0; cut < original->size(); cut += 211) {
                attempt(std::vector<uint8_t>(original->begin(), original->begin() + cut), "truncated at " + std::to_string(cut));
            }
            uint32_t state = 12345;  // fixed LCG seed: the same mutations every run
            for (int i = 0; i < 300; ++i) {
                std::vector<uint8_t> bytes = *original;
                state = state * 1664525u + 1013904223u;
                size_t at = state % bytes.size();
                bytes[at] ^= static_cast<uint8_t>(1u << ((state >> 24) % 8));
                attempt(std::move(bytes), "bit flip at " + std::to_string(at));
            }
        }
        CHECK(failures_seen > 0);
    }
}
