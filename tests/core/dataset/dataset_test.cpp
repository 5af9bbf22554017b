// Datasets and comparisons against facts computed independently by
// scripts/make_dataset_fixtures.py (numpy forward pass of the demo model's
// ONNX weights, and model copies built with known edits).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "core/base/error.h"
#include "core/dataset/activation_atlas.h"
#include "core/dataset/evaluation.h"
#include "core/dataset/image_dataset.h"
#include "core/dataset/model_compare.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

const std::string dataset_dir = CONVSCOPE_SOURCE_DIR "/tests/fixtures/dataset/";
const std::string small_onnx = CONVSCOPE_SOURCE_DIR "/assets/models/fashion_small.onnx";
const std::string small_h5 = CONVSCOPE_SOURCE_DIR "/assets/models/fashion_small.h5";

nlohmann::json expected() {
    std::ifstream in(dataset_dir + "expected.json");
    return nlohmann::json::parse(in);
}

std::vector<std::string> fashion_names() {
    std::ifstream in(dataset_dir + "labels.txt");
    std::vector<std::string> names;
    for (std::string line; std::getline(in, line);) if (!line.empty()) names.push_back(line);
    return names;
}

struct Loaded {
    Model model;
    Engine engine;
    Preprocessing preprocessing;
};

Loaded load(const std::string& path) {
    Model model = open_model(read_file_bytes(path), path);
    Engine engine = Engine::build(model);
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    return {std::move(model), std::move(engine), settings};
}

// Dataset image order differs by source (folders sort by class name); the
// file name "<class>/<index>.png" carries the original index.
int64_t original_index(const ImageDataset& data, size_t i) {
    const std::string& name = data.name(i);
    size_t slash = name.find_last_of('/');
    return std::stoll(name.substr(slash + 1, 3));
}

}  // namespace

TEST_CASE("a folder, its zip and its npz hold the same labelled images", "[dataset]") {
    ImageDataset folder = ImageDataset::open(dataset_dir + "fashion200");
    ImageDataset zip = ImageDataset::open(dataset_dir + "fashion200.zip");
    ImageDataset npz = ImageDataset::open(dataset_dir + "fashion200.npz");
    REQUIRE(folder.size() == 200);
    REQUIRE(zip.size() == 200);
    REQUIRE(npz.size() == 200);
    CHECK(folder.class_names().size() == 10);
    CHECK(zip.class_names() == folder.class_names());  // the zip's one top-level folder is skipped
    CHECK(npz.class_names().size() == 10);
    nlohmann::json facts = expected();
    std::vector<std::string> names = fashion_names();
    std::vector<int> folder_to_model = match_class_names(folder.class_names(), names, 10);
    for (int m : folder_to_model) CHECK(m >= 0);
    for (size_t i = 0; i < folder.size(); i += 17) {
        int64_t original = original_index(folder, i);
        INFO("image " << folder.name(i));
        CHECK(folder_to_model[static_cast<size_t>(folder.label(i))] == facts["labels"][static_cast<size_t>(original)].get<int>());
        CHECK(npz.label(static_cast<size_t>(original)) == facts["labels"][static_cast<size_t>(original)].get<int>());
        Tensor a = folder.image(i), b = zip.image(i), c = npz.image(static_cast<size_t>(original));
        REQUIRE(a.shape() == Shape{28, 28, 1});
        REQUIRE(c.shape() == a.shape());
        CHECK(a.to_float_vector() == b.to_float_vector());
        CHECK(a.to_float_vector() == c.to_float_vector());
    }
}

TEST_CASE("class names match across case and punctuation; numbered folders are indices", "[dataset]") {
    std::vector<std::string> model = {"T-shirt/top", "Trouser", "Ankle boot"};
    CHECK(match_class_names({"ankle_boot", "t-shirt_top", "cat"}, model, 3) == std::vector<int>{2, 0, -1});
    CHECK(match_class_names({"0", "2"}, {}, 10) == std::vector<int>{0, 2});
    CHECK(match_class_names({"0", "12"}, {}, 10) == std::vector<int>{-1, -1});
    CHECK(match_class_names({"dog"}, model, 3) == std::vector<int>{-1});
}

TEST_CASE("evaluation equals an independent numpy computation, in any step size", "[dataset][evaluate]") {
    nlohmann::json facts = expected();
    for (const std::string& model_path : {small_onnx, small_h5}) {
        INFO(model_path);
        Loaded m = load(model_path);
        ImageDataset data = ImageDataset::open(dataset_dir + "fashion200");
        EvaluationOptions options;
        options.preprocessing = m.preprocessing;
        options.class_of_label = match_class_names(data.class_names(), fashion_names(), 10);
        EvaluationResult once = evaluate(m.engine, data, options);
        CHECK(once.count == 200);
        CHECK(once.labelled == 200);
        CHECK(once.accuracy == Approx(facts["accuracy"].get<double>()).margin(1e-12));
        CHECK(once.top_k_accuracy == Approx(facts["top5"].get<double>()).margin(1e-12));
        CHECK(once.confusion == facts["confusion"].get<std::vector<std::vector<int64_t>>>());
        int64_t correct = 0;
        for (size_t c = 0; c < 10; ++c) correct += once.per_class[c].correct;
        CHECK(correct == once.correct);
        for (size_t k = 1; k < once.confident_wrong.size(); ++k) {
            CHECK(once.confident_wrong[k - 1].confidence >= once.confident_wrong[k].confidence);
        }
        int64_t binned = 0;
        for (const CalibrationBin& bin : once.calibration) binned += bin.count;
        CHECK(binned == 200);

        Evaluation stepped(m.engine, data, options);
        size_t slice = 1;
        while (!stepped.done()) {
            stepped.step(slice);
            slice = slice * 3 % 17 + 1;
            CHECK(stepped.progress() <= 1.0);
        }
        EvaluationResult r = stepped.result();
        CHECK(r.confusion == once.confusion);
        CHECK(r.predictions == once.predictions);
        CHECK(r.expected_calibration_error == once.expected_calibration_error);
    }
}

TEST_CASE("an npz with numeric labels evaluates like the folder", "[dataset][evaluate]") {
    Loaded m = load(small_onnx);
    ImageDataset data = ImageDataset::open(dataset_dir + "fashion200.npz");
    EvaluationOptions options;
    options.preprocessing = m.preprocessing;
    options.class_of_label = match_class_names(data.class_names(), {}, 10);
    EvaluationResult r = evaluate(m.engine, data, options);
    nlohmann::json facts = expected();
    CHECK(r.accuracy == Approx(facts["accuracy"].get<double>()).margin(1e-12));
    CHECK(r.predictions == facts["predictions"].get<std::vector<int>>());
}

TEST_CASE("a channel made dead on purpose is found, and only that one", "[dataset][activations]") {
    Loaded m = load(dataset_dir + "small_dead.onnx");
    ImageDataset data = ImageDataset::open(dataset_dir + "fashion200.zip");
    AtlasOptions options;
    options.preprocessing = m.preprocessing;
    options.top_k = 3;
    std::vector<LayerActivationStatistics> stats = activation_statistics(m.engine, m.model, data, {"/net/Relu"}, options);
    REQUIRE(stats.size() == 1);
    const LayerActivationStatistics& relu = stats[0];
    REQUIRE(relu.channels == 5);
    CHECK(relu.images == 200);
    int dead = expected()["dead_filter"].get<int>();
    for (int64_t c = 0; c < 5; ++c) {
        INFO("channel " << c);
        const ChannelStatistics& s = relu.per_channel[static_cast<size_t>(c)];
        CHECK(s.dead == (c == dead));
        CHECK(!s.saturated);
        REQUIRE(s.top.size() == 3);
        CHECK(s.top[0].value >= s.top[1].value);
        CHECK(s.top[0].map.shape() == Shape{26, 26});
        if (c != dead) {
            CHECK(s.fraction_active > 0.0);
            CHECK(s.max >= s.p95);
            CHECK(s.p95 >= s.p50);
            CHECK(s.p50 >= s.p5);
            CHECK(s.centroid_x > 0.0);
            CHECK(s.centroid_x < 1.0);
        }
    }
    // The top image's map really holds that image's maximum.
    const ChannelTopImage& top = relu.per_channel[0].top[0];
    const float* v = top.map.f32();
    CHECK(*std::max_element(v, v + top.map.element_count()) == top.value);

    ActivationAtlas all(m.engine, m.model, data, {}, options);
    while (!all.done()) all.step(40);
    std::vector<LayerActivationStatistics> every = all.result();
    CHECK(every.size() >= 4);
    auto conv = std::find_if(every.begin(), every.end(), [](const auto& l) { return l.layer == "/net/Relu"; });
    REQUIRE(conv != every.end());
    CHECK(conv->dead_count() == 1);
}

TEST_CASE("filter matching finds the permutation applied to a copied model", "[dataset][compare]") {
    Loaded a = load(small_onnx);
    Loaded b = load(dataset_dir + "small_permuted.onnx");
    ImageDataset data = ImageDataset::open(dataset_dir + "fashion200.npz");
    ModelComparison c = compare_models_on_images(a.model, a.engine, a.preprocessing, b.model, b.engine, b.preprocessing, data);
    REQUIRE(c.layers.size() == 3);
    CHECK(c.unmatched_a.empty());
    CHECK(c.unmatched_b.empty());
    std::vector<int> permutation = expected()["permutation"].get<std::vector<int>>();
    const LayerComparison& conv1 = c.layers[0];
    CHECK(conv1.matched_to == "/net/conv2d/Conv");
    REQUIRE(conv1.filter_match.size() == 5);
    // New filter i is old filter permutation[i]: old filter permutation[i] moved to i.
    for (size_t i = 0; i < 5; ++i) CHECK(conv1.filter_match[static_cast<size_t>(permutation[i])] == static_cast<int64_t>(i));
    CHECK(conv1.sign_flips.empty());
    CHECK(conv1.weight_rel_l2 > 0.5);
    REQUIRE(conv1.activation_cka);
    CHECK(*conv1.activation_cka == Approx(1.0).margin(1e-6));
    // conv2's input channels were permuted back: its output is unchanged.
    const LayerComparison& conv2 = c.layers[1];
    REQUIRE(conv2.sqnr_db);
    CHECK(*conv2.sqnr_db > 100.0);
    CHECK(c.layers[2].weight_rel_l2 == 0.0);
    REQUIRE(c.prediction_agreement);
    CHECK(*c.prediction_agreement == 1.0);
    CHECK(c.disagreements.empty());
}

TEST_CASE("comparison names the edited filters and the prediction change", "[dataset][compare]") {
    Loaded a = load(small_onnx);
    Loaded b = load(dataset_dir + "small_dead.onnx");
    ImageDataset data = ImageDataset::open(dataset_dir + "fashion200");
    ModelComparison c = compare_models_on_images(a.model, a.engine, a.preprocessing, b.model, b.engine, b.preprocessing, data);
    nlohmann::json facts = expected();
    const LayerComparison& conv1 = c.layers.at(0);
    int dead = facts["dead_filter"].get<int>();
    for (size_t f = 0; f < 5; ++f) CHECK((conv1.filter_change.at(f) > 0.0) == (static_cast<int>(f) == dead));
    CHECK(conv1.filter_change.at(static_cast<size_t>(dead)) == Approx(1.0).margin(1e-9));
    std::vector<int> perturbed = facts["perturbed_filters"].get<std::vector<int>>();
    const LayerComparison& conv2 = c.layers.at(1);
    for (size_t f = 0; f < 15; ++f) {
        bool edited = std::find(perturbed.begin(), perturbed.end(), static_cast<int>(f)) != perturbed.end();
        CHECK((conv2.filter_change.at(f) > 0.0) == edited);
        if (edited) CHECK(conv2.filter_change.at(f) == Approx(0.1).epsilon(0.5));
    }
    REQUIRE(c.prediction_agreement);
    CHECK(*c.prediction_agreement == Approx(facts["dead_agreement"].get<double>()).margin(1e-12));
    CHECK(c.disagreements.size() == std::min<size_t>(64, static_cast<size_t>(std::lround((1.0 - *c.prediction_agreement) * 200))));
}

TEST_CASE("a Keras file and its ONNX twin pair up by position with equal canonical weights", "[dataset][compare]") {
    Model keras = open_model(read_file_bytes(small_h5), small_h5);
    Model onnx = open_model(read_file_bytes(small_onnx), small_onnx);
    ModelComparison c = compare_models(keras, onnx);
    REQUIRE(c.layers.size() == 3);
    CHECK(c.layers[0].matched_by == "position");
    CHECK(c.layers[0].weight_rel_l2 < 1e-6);
    CHECK(c.layers[1].weight_rel_l2 < 1e-6);
    // Dense weights differ in row order (NHWC vs NCHW flatten), honestly shown as changed.
    CHECK(c.layers[2].matched_to == "/net/dense/Gemm");
    CHECK_THROWS_WITH(compare_models(keras, onnx, CompareOptions{{{"conv2d", "nope"}}}), Catch::Contains("no layer with weights named 'nope'"));
}

TEST_CASE("the assignment solver is optimal; linear CKA is invariant to rotation and scale", "[dataset][compare]") {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (size_t n = 1; n <= 6; ++n) {
        std::vector<double> s(n * n);
        for (double& v : s) v = uniform(rng);
        std::vector<int64_t> got = best_assignment(s, n);
        std::vector<int64_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        double best = -1e300;
        do {
            double total = 0.0;
            for (size_t i = 0; i < n; ++i) total += s[i * n + static_cast<size_t>(order[i])];
            best = std::max(best, total);
        } while (std::next_permutation(order.begin(), order.end()));
        double total = 0.0;
        std::vector<bool> used(n, false);
        for (size_t i = 0; i < n; ++i) {
            REQUIRE(got[i] >= 0);
            CHECK(!used[static_cast<size_t>(got[i])]);
            used[static_cast<size_t>(got[i])] = true;
            total += s[i * n + static_cast<size_t>(got[i])];
        }
        CHECK(total == Approx(best).margin(1e-12));
    }
    size_t n = 20, p = 3;
    std::vector<float> x(n * p), rotated(n * p), noise(n * p);
    for (float& v : x) v = static_cast<float>(uniform(rng));
    for (float& v : noise) v = static_cast<float>(uniform(rng));
    double angle = 0.7;
    for (size_t i = 0; i < n; ++i) {
        float a = x[i * p], b = x[i * p + 1];
        rotated[i * p] = static_cast<float>(3.0 * (std::cos(angle) * a - std::sin(angle) * b));
        rotated[i * p + 1] = static_cast<float>(3.0 * (std::sin(angle) * a + std::cos(angle) * b));
        rotated[i * p + 2] = 3.0f * x[i * p + 2];
    }
    CHECK(linear_cka(x, p, rotated, p, n) == Approx(1.0).margin(1e-5));
    CHECK(linear_cka(x, p, noise, p, n) < 0.6);
}

TEST_CASE("bad datasets give precise errors", "[dataset]") {
    std::filesystem::path empty = std::filesystem::temp_directory_path() / "convscope_empty_dataset";
    std::filesystem::create_directories(empty);
    CHECK_THROWS_WITH(ImageDataset::from_folder(empty.string()), Catch::Contains("no PNG/JPEG/BMP/GIF images"));
    CHECK_THROWS_WITH(ImageDataset::open(dataset_dir + "labels.txt"), Catch::Contains("not a folder, .zip, .npy, .npz or image"));
    Tensor not_images = Tensor::from_floats({2, 3, 5, 7, 9}, std::vector<float>(2 * 3 * 5 * 7 * 9, 0.0f));
    CHECK_THROWS(ImageDataset::from_npy(std::make_shared<const std::vector<uint8_t>>(npy::write(not_images)), "x.npy"));
    ImageDataset data = ImageDataset::open(dataset_dir + "fashion200.npz");
    CHECK_THROWS_WITH(data.image(200), Catch::Contains("image 200 of 200"));
    Loaded m = load(small_onnx);
    EvaluationOptions options;
    options.top_k = 0;
    CHECK_THROWS_WITH(Evaluation(m.engine, data, options), Catch::Contains("top-k must be at least 1"));
    CHECK_THROWS_WITH(ActivationAtlas(m.engine, m.model, data, {"missing"}, AtlasOptions{}), Catch::Contains("no layer 'missing'"));
}
