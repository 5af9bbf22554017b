// ZIP reader tests against archives written by Python's zipfile (and a few
// hand-patched variants); see scripts/make_zip_fixtures.py.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/base/crc32.h"
#include "core/base/error.h"
#include "core/formats/registry.h"
#include "core/formats/zip.h"

using namespace convscope;

namespace {

std::string zip_fixture_path(const std::string& name) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/zip/" + name;
}

nlohmann::json zip_expectations() {
    std::ifstream in(zip_fixture_path("expected.json"));
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("ZipArchive reads every member zipfile wrote, stored, deflated and zip64", "[zip]") {
    nlohmann::json expected = zip_expectations();
    REQUIRE(expected["good"].size() == 5);
    for (auto& [archive_name, members] : expected["good"].items()) {
        INFO("archive " << archive_name);
        FileBytes bytes = read_file_bytes(zip_fixture_path(archive_name));
        CHECK(looks_like_zip(ByteSpan(bytes->data(), bytes->size())));
        ZipArchive archive = ZipArchive::open(bytes, archive_name);
        std::vector<std::string> names = archive.names();
        REQUIRE(names.size() == members.size());
        for (size_t i = 0; i < members.size(); ++i) {
            const nlohmann::json& member = members[i];
            std::string name = member["name"];
            INFO("member " << name);
            CHECK(names[i] == name);
            CHECK(archive.contains(name));
            CHECK(archive.entry(name).method == member["method"].get<int>());
            ZipMemberBytes view = archive.view(name);
            CHECK(view.span.size == member["size"].get<uint64_t>());
            uint64_t byte_sum = 0;
            for (size_t k = 0; k < view.span.size; ++k) byte_sum += view.span.data[k];
            CHECK(byte_sum == member["byte_sum"].get<uint64_t>());
            CHECK(crc32(view.span.data, view.span.size) == member["crc32"].get<uint32_t>());
            if (archive.entry(name).method == 0) {
                // Stored members are views into the archive's own bytes.
                CHECK(view.span.data >= bytes->data());
                CHECK(view.span.data + view.span.size <= bytes->data() + bytes->size());
                CHECK(view.span.base_offset == archive.entry(name).data_offset);
            }
            FileBytes copy = archive.read(name);
            REQUIRE(copy);
            CHECK(copy->size() == view.span.size);
            CHECK(std::equal(copy->begin(), copy->end(), view.span.data));
        }
    }
}

TEST_CASE("ZipArchive member text and missing-member errors", "[zip]") {
    ZipArchive archive = ZipArchive::open(read_file_bytes(zip_fixture_path("deflated.zip")), "deflated.zip");
    std::string config = archive.read_text("config.json");
    CHECK(config.find("\"class_name\": \"Sequential\"") != std::string::npos);
    CHECK(archive.entry("folder/").is_directory());
    CHECK(archive.read("empty.txt")->empty());
    CHECK_FALSE(archive.contains("model.weights.h5"));
    std::string message = error_of([&] { archive.view("model.weights.h5"); });
    CHECK(message.find("no member named 'model.weights.h5'") != std::string::npos);
    CHECK(message.find("'config.json'") != std::string::npos);
}

TEST_CASE("ZipArchive keeps the archive alive through member views", "[zip]") {
    ZipMemberBytes member;
    {
        ZipArchive archive = ZipArchive::open(read_file_bytes(zip_fixture_path("stored.zip")));
        member = archive.view("config.json");
    }
    std::string text(reinterpret_cast<const char*>(member.span.data), member.span.size);
    CHECK(text.find("conv2d") != std::string::npos);
}

TEST_CASE("ZipArchive rejects broken archives with a message naming the problem", "[zip]") {
    nlohmann::json expected = zip_expectations();
    REQUIRE(expected["bad"].size() >= 10);
    for (auto& item : expected["bad"].items()) {
        // A named copy: lambdas cannot capture structured bindings in C++17.
        const std::string archive_name = item.key();
        const nlohmann::json& phrase = item.value();
        INFO("archive " << archive_name);
        FileBytes bytes = read_file_bytes(zip_fixture_path(archive_name));
        // Open may succeed when the damage is inside a member; reading every
        // member must then fail.
        std::string message = error_of([&] {
            ZipArchive archive = ZipArchive::open(bytes, archive_name);
            for (const std::string& name : archive.names()) archive.read(name);
        });
        INFO("message: " << message);
        CHECK(message.find(phrase.get<std::string>()) != std::string::npos);
        CHECK(message.find(archive_name) != std::string::npos);
    }
}

TEST_CASE("ZipArchive errors carry the member, the method and the offset", "[zip]") {
    std::string encrypted = error_of([] {
        ZipArchive::open(read_file_bytes(zip_fixture_path("encrypted.zip")), "encrypted.zip").read("weights.bin");
    });
    CHECK(encrypted.find("'weights.bin'") != std::string::npos);
    CHECK(encrypted.find("method 0") != std::string::npos);
    std::string bzip2 = error_of([] {
        ZipArchive::open(read_file_bytes(zip_fixture_path("bzip2.zip")), "bzip2.zip").read("config.json");
    });
    CHECK(bzip2.find("'config.json'") != std::string::npos);
    CHECK(bzip2.find("method 12 (bzip2)") != std::string::npos);
    std::string crc = error_of([] {
        ZipArchive::open(read_file_bytes(zip_fixture_path("bad_crc.zip")), "bad_crc.zip").read("weights.bin");
    });
    CHECK(crc.find("at 0x") != std::string::npos);
}

TEST_CASE("ZipArchive survives every truncation of a valid archive", "[zip]") {
    FileBytes whole = read_file_bytes(zip_fixture_path("deflated.zip"));
    size_t failures = 0;
    for (size_t length = 0; length < whole->size(); ++length) {
        auto cut = std::make_shared<const std::vector<uint8_t>>(whole->begin(), whole->begin() + length);
        try {
            ZipArchive archive = ZipArchive::open(cut);
            for (const std::string& name : archive.names()) archive.read(name);
        } catch (const FormatError&) {
            ++failures;
        }
    }
    // A prefix never holds the end record, so every one must be refused.
    CHECK(failures == whole->size());
}

TEST_CASE("ZipArchive survives single-byte corruption anywhere", "[zip]") {
    FileBytes whole = read_file_bytes(zip_fixture_path("deflated.zip"));
    size_t opened = 0;
    for (size_t position = 0; position < whole->size(); ++position) {
        auto bytes = std::make_shared<std::vector<uint8_t>>(*whole);
        (*bytes)[position] ^= 0xA5;
        try {
            ZipArchive archive = ZipArchive::open(bytes);
            for (const std::string& name : archive.names()) archive.read(name);
            ++opened;
        } catch (const Error&) {
        }
    }
    // Only bytes nothing checks (timestamps, attributes, versions) may be
    // changed without an error; member data is covered by CRC-32.
    CHECK(opened < whole->size() / 4);
}

TEST_CASE("ZipArchive reads the corpus .keras archive", "[zip]") {
    FileBytes bytes = read_file_bytes(std::string(CONVSCOPE_SOURCE_DIR) +
                                      "/../shared/corpus/Aman-21k_cnn-fashion-mnist-classifier__model.keras");
    ZipArchive archive = ZipArchive::open(bytes, "model.keras");
    CHECK(archive.names() == std::vector<std::string>{"metadata.json", "config.json", "model.weights.h5"});
    ZipMemberBytes weights = archive.view("model.weights.h5");
    CHECK(weights.span.size == 1496356);
    CHECK(ByteSpan(weights.span.data, weights.span.size).starts_with("\x89HDF\r\n\x1a\n"));
    CHECK(archive.read_text("metadata.json").find("keras_version") != std::string::npos);
}
