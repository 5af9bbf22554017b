// The demo models and sample images that ship in assets/ (written by
// scripts/train_demo.py). Checks that what the app offers first actually
// works in our own code: every demo model file opens and runs in the engine,
// the three formats of one model compute the same function, and the engine
// reproduces the accuracy torch measured on the shipped sample images (the
// numbers in assets/models/metrics.json come from torch, not from us).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stb_image.h>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/formats/registry.h"
#include "core/model/model.h"

using namespace convscope;
using Json = nlohmann::json;

namespace {

std::string asset_path(const std::string& relative) {
    return std::string(CONVSCOPE_SOURCE_DIR) + "/assets/" + relative;
}

Json load_asset_json(const std::string& relative) {
    std::ifstream in(asset_path(relative));
    INFO("reading assets/" << relative);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    return Json::parse(text.str());
}

// The sample sprite decoded: one 28x28 tile per image, values / 255 as the
// models expect, in the order of fashion_samples.json's labels.
struct SampleSet {
    std::vector<std::vector<float>> images;
    std::vector<int> labels;
};

SampleSet load_samples() {
    Json description = load_asset_json("images/fashion_samples.json");
    FileBytes png = read_file_bytes(asset_path("images/" + description["image"].get<std::string>()));
    int width = 0, height = 0, channels = 0;
    unsigned char* pixels = stbi_load_from_memory(png->data(), static_cast<int>(png->size()), &width,
                                                  &height, &channels, 1);
    REQUIRE(pixels != nullptr);
    const int tile_w = description["tile_width"].get<int>();
    const int tile_h = description["tile_height"].get<int>();
    const int columns = description["columns"].get<int>();
    const int rows = description["rows"].get<int>();
    const int count = description["count"].get<int>();
    CHECK(channels == 1);
    CHECK(width == columns * tile_w);
    CHECK(height == rows * tile_h);
    REQUIRE(count <= columns * rows);
    SampleSet set;
    for (int tile = 0; tile < count && width == columns * tile_w && height == rows * tile_h; ++tile) {
        std::vector<float> image(static_cast<size_t>(tile_w) * tile_h);
        int x0 = (tile % columns) * tile_w, y0 = (tile / columns) * tile_h;
        for (int y = 0; y < tile_h; ++y)
            for (int x = 0; x < tile_w; ++x)
                image[static_cast<size_t>(y) * tile_w + x] =
                    pixels[static_cast<size_t>(y0 + y) * width + x0 + x] / 255.0f;
        set.images.push_back(std::move(image));
    }
    stbi_image_free(pixels);
    set.labels = description["labels"].get<std::vector<int>>();
    return set;
}

// Softmax outputs of one model file for every sample, computed in batches.
std::vector<std::vector<float>> predict_samples(const std::string& file, const SampleSet& samples) {
    Model model = open_model(read_file_bytes(asset_path("models/" + file)), file);
    Engine engine = Engine::build(model);
    REQUIRE(engine.output_names().size() == 1);
    const bool channels_first = engine.layout() == DataLayout::channels_first;
    const size_t batch = 100;
    std::vector<std::vector<float>> probabilities;
    for (size_t start = 0; start < samples.images.size(); start += batch) {
        size_t n = std::min(batch, samples.images.size() - start);
        std::vector<float> values;
        for (size_t i = 0; i < n; ++i)
            values.insert(values.end(), samples.images[start + i].begin(), samples.images[start + i].end());
        // One channel: NHWC and NCHW hold the pixels in the same order.
        Shape shape = channels_first ? Shape{static_cast<int64_t>(n), 1, 28, 28}
                                     : Shape{static_cast<int64_t>(n), 28, 28, 1};
        RunResult result = engine.run(Tensor::from_floats(shape, std::move(values)));
        const Tensor& output = result.outputs.at(engine.output_names()[0]);
        REQUIRE(output.shape() == Shape{static_cast<int64_t>(n), 10});
        std::vector<float> flat = output.to_float_vector();
        for (size_t i = 0; i < n; ++i) probabilities.emplace_back(flat.begin() + i * 10, flat.begin() + (i + 1) * 10);
    }
    return probabilities;
}

int count_correct(const std::vector<std::vector<float>>& probabilities, const std::vector<int>& labels) {
    int correct = 0;
    for (size_t i = 0; i < probabilities.size(); ++i) {
        auto best = std::max_element(probabilities[i].begin(), probabilities[i].end());
        if (best - probabilities[i].begin() == labels[i]) ++correct;
    }
    return correct;
}

}  // namespace

TEST_CASE("demo sample sprite holds 100 labelled test images per class", "[demo]") {
    Json description = load_asset_json("images/fashion_samples.json");
    SampleSet samples = load_samples();
    REQUIRE(samples.images.size() == 1000);
    REQUIRE(samples.labels.size() == 1000);
    REQUIRE(description["class_names"].size() == 10);
    std::map<int, int> per_class;
    for (int label : samples.labels) {
        REQUIRE(label >= 0);
        REQUIRE(label < 10);
        ++per_class[label];
    }
    for (int label = 0; label < 10; ++label) CHECK(per_class[label] == 100);
    std::vector<int> indices = description["source"]["test_indices"].get<std::vector<int>>();
    REQUIRE(indices.size() == 1000);
    CHECK(std::set<int>(indices.begin(), indices.end()).size() == 1000);
    CHECK(*std::min_element(indices.begin(), indices.end()) >= 0);
    CHECK(*std::max_element(indices.begin(), indices.end()) < 10000);
    // Every tile is a real picture, not an empty slot of the grid.
    for (const auto& image : samples.images) {
        float total = 0;
        for (float v : image) total += v;
        CHECK(total / image.size() > 0.02f);
    }
}

TEST_CASE("demo metrics meet the accuracy the app needs", "[demo]") {
    Json metrics = load_asset_json("models/metrics.json");
    // Grad-CAM needs a model that is right most of the time to show anything.
    CHECK(metrics["models"]["deep"]["test_accuracy"].get<double>() >= 0.90);
    CHECK(metrics["models"]["small"]["test_accuracy"].get<double>() >= 0.85);
    CHECK(metrics["models"]["deep"]["test_images"].get<int>() == 10000);
}

TEST_CASE("demo small model: first layer kernels are 3x3x1x5 and equal across formats", "[demo]") {
    Model h5 = open_model(read_file_bytes(asset_path("models/fashion_small.h5")), "fashion_small.h5");
    Model v3 = open_model(read_file_bytes(asset_path("models/fashion_small.keras")), "fashion_small.keras");
    Model onnx = open_model(read_file_bytes(asset_path("models/fashion_small.onnx")), "fashion_small.onnx");
    const Layer* h5_conv = h5.find_layer("conv2d");
    const Layer* v3_conv = v3.find_layer("conv2d");
    REQUIRE(h5_conv != nullptr);
    REQUIRE(v3_conv != nullptr);
    REQUIRE(h5_conv->weight("kernel") != nullptr);
    REQUIRE(v3_conv->weight("kernel") != nullptr);
    const Tensor& keras_kernel = h5_conv->weight("kernel")->tensor;
    REQUIRE(keras_kernel.shape() == Shape{3, 3, 1, 5});
    REQUIRE(v3_conv->weight("kernel")->tensor.shape() == Shape{3, 3, 1, 5});
    CHECK(keras_kernel.to_float_vector() == v3_conv->weight("kernel")->tensor.to_float_vector());

    const Weight* onnx_weight = nullptr;
    for (const Layer& layer : onnx.layers)
        for (const Weight& weight : layer.weights)
            if (weight.name == "net.conv2d.weight") onnx_weight = &weight;
    REQUIRE(onnx_weight != nullptr);
    REQUIRE(onnx_weight->tensor.shape() == Shape{5, 1, 3, 3});
    std::vector<float> hwio = keras_kernel.to_float_vector();
    std::vector<float> oihw = onnx_weight->tensor.to_float_vector();
    for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 3; ++w)
            for (int o = 0; o < 5; ++o) CHECK(hwio[(h * 3 + w) * 5 + o] == oihw[o * 9 + h * 3 + w]);
}

TEST_CASE("demo models run in the engine and reproduce torch's sample accuracy", "[demo]") {
    Json metrics = load_asset_json("models/metrics.json");
    SampleSet samples = load_samples();
    REQUIRE(samples.images.size() == samples.labels.size());
    for (const char* name : {"small", "deep"}) {
        const Json& entry = metrics["models"][name];
        const int recorded = static_cast<int>(std::lround(entry["sample_accuracy"].get<double>() *
                                                          static_cast<double>(samples.labels.size())));
        std::vector<std::vector<float>> reference;
        for (const Json& file_json : entry["files"]) {
            const std::string file = file_json.get<std::string>();
            INFO("model file " << file);
            std::vector<std::vector<float>> probabilities = predict_samples(file, samples);
            REQUIRE(probabilities.size() == samples.labels.size());
            for (const auto& row : probabilities) {
                float sum = 0;
                for (float p : row) sum += p;
                REQUIRE(sum == Approx(1.0f).margin(1e-4));
            }
            // torch and our kernels sum in different orders; an image whose
            // two best classes are within float noise may flip, nothing more.
            const int correct = count_correct(probabilities, samples.labels);
            CHECK(std::abs(correct - recorded) <= 1);
            if (reference.empty()) {
                reference = probabilities;
                continue;
            }
            float worst = 0;
            for (size_t i = 0; i < probabilities.size(); ++i)
                for (size_t k = 0; k < 10; ++k) worst = std::max(worst, std::fabs(probabilities[i][k] - reference[i][k]));
            CHECK(worst < 1e-4f);
        }
    }
}
