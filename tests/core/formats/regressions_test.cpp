// Hostile and broken inputs that are not model files: every Keras config,
// .npy and image under tests/fixtures/regressions must load or fail with a
// convscope::Error (model files there are covered by mutation_test.cpp).
// Plus the limits a hostile file must hit before anything is allocated,
// each checked for the error type and the message naming the limit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/image.h"
#include "core/formats/keras.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "support/bounded_run.h"

using namespace convscope;

namespace {

std::string regressions_dir() { return std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/regressions"; }

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> regression_files(const std::vector<std::string>& extensions) {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(regressions_dir())) {
        std::string extension = entry.path().extension().string();
        if (std::find(extensions.begin(), extensions.end(), extension) != extensions.end()) {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

enum class Outcome { loaded, convscope_error, other_exception };

template <typename Action>
Outcome outcome_of(Action&& action, std::string& message) {
    try {
        action();
        return Outcome::loaded;
    } catch (const Error& error) {
        message = error.what();
        return Outcome::convscope_error;
    } catch (const std::exception& error) {
        message = error.what();
        return Outcome::other_exception;
    }
}

template <typename ErrorType, typename Action>
std::string error_of(Action&& action) {
    try {
        action();
    } catch (const ErrorType& error) {
        return error.what();
    }
    FAIL("no error of the expected type");
    return "";
}

}  // namespace

TEST_CASE("regression configs, npy files and images load or fail cleanly", "[regressions]") {
    std::vector<std::string> files = regression_files({".json", ".npy", ".png", ".jpg", ".bmp", ".gif"});
    REQUIRE(files.size() >= 4);  // the hand-built ones from scripts/make_regressions.py at least
    for (const std::string& file : files) {
        std::string extension = std::filesystem::path(file).extension().string();
        std::string message;
        Outcome outcome = outcome_of(
            [&] {
                if (extension == ".json") {
                    (void)keras::model_from_config(read_text(file), file);
                } else if (extension == ".npy") {
                    (void)npy::read(read_file_bytes(file));
                } else {
                    FileBytes bytes = read_file_bytes(file);
                    (void)decode_image(ByteSpan(bytes->data(), bytes->size()), file);
                }
            },
            message);
        INFO(file << ": " << message);
        CHECK(outcome != Outcome::other_exception);
    }
}

TEST_CASE("regression model files load, build and run or fail cleanly", "[regressions]") {
    // mutation_test.cpp only loads them; several were found by running the engine on a loaded mutant.
    std::vector<std::string> files = regression_files({".h5", ".keras", ".onnx"});
    REQUIRE(files.size() >= 2);
    for (const std::string& file : files) {
        std::string message;
        Outcome outcome = outcome_of(
            [&] {
                Model model = open_model(read_file_bytes(file), file);
                (void)testing::build_and_run_bounded(model);
            },
            message);
        INFO(file << ": " << message);
        CHECK(outcome != Outcome::other_exception);
    }
}

TEST_CASE("HDF5 datasets built in memory share one budget per file", "[regressions]") {
    // Two sparse 576 MB datasets in a 10 KB file: the first is built, the second refused.
    FileBytes bytes = read_file_bytes(regressions_dir() + "/sparse_datasets.h5-sparse");
    std::string message = error_of<LimitError>([&] { open_model(bytes, "sparse.h5"); });
    CHECK_THAT(message, Catch::Contains("/dense_1/") && Catch::Contains("1073741824"));
}

TEST_CASE("a pooling stride of 0 is refused by name, not divided by", "[regressions]") {
    Model model = open_model(read_file_bytes(regressions_dir() + "/pool_zero_stride.onnx"), "pool.onnx");
    std::string message = error_of<UnsupportedError>([&] { (void)testing::build_and_run_bounded(model); });
    CHECK_THAT(message, Catch::Contains("strides 0x0"));
}

TEST_CASE("limits hold before allocation: JSON depth, image size, npy shape, ZIP sizes", "[regressions]") {
    std::string json = error_of<LimitError>(
        [] { keras::model_from_config(read_text(regressions_dir() + "/deep_nesting_config.json"), "deep.json"); });
    CHECK_THAT(json, Catch::Contains("deep.json") && Catch::Contains("nested deeper than 64"));

    FileBytes png = read_file_bytes(regressions_dir() + "/huge_dimensions.png");
    std::string image = error_of<LimitError>([&] { decode_image(ByteSpan(png->data(), png->size()), "huge.png"); });
    CHECK_THAT(image, Catch::Contains("huge.png") && Catch::Contains("20000"));

    std::string npy_message = error_of<Error>([] { npy::read(read_file_bytes(regressions_dir() + "/huge_shape.npy")); });
    CHECK_THAT(npy_message, Catch::Contains("1000000"));

    FileBytes archive = read_file_bytes(regressions_dir() + "/zip_declared_size_lie.keras");
    std::string zip = error_of<FormatError>([&] { open_model(archive, "lie.keras"); });
    CHECK_THAT(zip, Catch::Contains("config.json") && Catch::Contains("1073741808") && Catch::Contains("1032:1"));
}

TEST_CASE("an engine whose declared activations exceed the tensor limit fails at build with a LimitError",
          "[regressions]") {
    Model model = keras::model_from_config(read_text(regressions_dir() + "/huge_activation_config.json"));
    std::string message = error_of<LimitError>([&] { Engine::build(model); });
    CHECK_THAT(message, Catch::Contains("'conv'") && Catch::Contains("8192, 8192, 256"));
}

TEST_CASE("Lambda layers and custom objects are described, never executed", "[regressions]") {
    // lambda.h5 holds marshalled Python bytecode in its Lambda config and
    // custom_qconv.h5 a custom class; the engine must refuse both by name.
    for (const char* name : {"lambda.h5", "custom_qconv.h5"}) {
        std::string path = std::string(CONVSCOPE_SOURCE_DIR) + "/tests/fixtures/keras/" + name;
        Model model = open_model(read_file_bytes(path), name);
        bool found_refused_layer = false;
        for (const Layer& layer : model.layers) {
            if (layer.type == "Lambda" || !layer.unsupported_reason.empty()) {
                found_refused_layer = true;
                // Nothing holds the function body as something to run: only its kind is kept.
                CHECK(layer.attribute("function") == nullptr);
            }
        }
        CHECK(found_refused_layer);
        std::string message = error_of<UnsupportedError>([&] { Engine::build(model); });
        INFO(message);
        CHECK(message.find("cannot be run") != std::string::npos);
    }
}
