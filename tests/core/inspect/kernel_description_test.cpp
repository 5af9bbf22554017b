// The kernel descriptions name the classic detectors correctly and stay
// silent on kernels that are not clearly one thing.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "core/inspect/class_names.h"
#include "core/inspect/kernel_description.h"

using namespace convscope;

namespace {

std::string pattern_of(std::vector<float> k, int64_t h, int64_t w) { return describe_kernel(k.data(), h, w).pattern; }

std::vector<float> negated(std::vector<float> k) {
    for (float& v : k) v = -v;
    return k;
}

}  // namespace

TEST_CASE("edge, spot and brightness kernels are named by what they fire on", "[inspect][kernel_description]") {
    // Sobel x: weights increase to the right -> fires where dark meets bright
    // on the bright side's left: the left edge of a bright shape.
    std::vector<float> sobel_x = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
    std::vector<float> sobel_y = {-1, -2, -1, 0, 0, 0, 1, 2, 1};
    CHECK(pattern_of(sobel_x, 3, 3) == "left vertical edges");
    CHECK(pattern_of(negated(sobel_x), 3, 3) == "right vertical edges");
    CHECK(pattern_of(sobel_y, 3, 3) == "top horizontal edges");
    CHECK(pattern_of(negated(sobel_y), 3, 3) == "bottom horizontal edges");
    CHECK(pattern_of({0, 1, 2, -1, 0, 1, -2, -1, 0}, 3, 3) == "bottom-left diagonal edges");
    CHECK(pattern_of({-1, -1, -1, -1, 8, -1, -1, -1, -1}, 3, 3) == "bright spots");
    CHECK(pattern_of({1, 1, 1, 1, -8, 1, 1, 1, 1}, 3, 3) == "dark spots");
    CHECK(pattern_of({1, 1.1f, 0.9f, 1, 1, 1, 1.05f, 1, 0.95f}, 3, 3) == "overall brightness");
    CHECK(pattern_of({-1, -1, -1, -1, -1, -1, -1, -1, -1}, 3, 3) == "overall darkness");
    // A 5x5 ramp and a 1x1 kernel.
    std::vector<float> ramp(25);
    for (int y = 0; y < 5; ++y) for (int x = 0; x < 5; ++x) ramp[static_cast<size_t>(y * 5 + x)] = static_cast<float>(x);
    CHECK(pattern_of(ramp, 5, 5) == "left vertical edges");
    CHECK(pattern_of({3.0f}, 1, 1).empty());
    CHECK(kernel_sentence(0, describe_kernel(sobel_x.data(), 3, 3)) == "kernel 0 responds most to left vertical edges");
    CHECK(kernel_sentence(4, KernelDescription{}).empty());
}

TEST_CASE("noise kernels are mostly left undescribed", "[inspect][kernel_description]") {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    int described = 0;
    for (int trial = 0; trial < 200; ++trial) {
        std::vector<float> k(25);
        for (float& v : k) v = normal(rng);
        KernelDescription d = describe_kernel(k.data(), 5, 5);
        if (!d.pattern.empty()) {
            ++described;
            CHECK(d.strength >= 0.6);
        }
    }
    CHECK(described < 30);  // a random 5x5 kernel rarely correlates 0.6 with a template
}

TEST_CASE("class names come from the output size and input shape, labels win", "[inspect][class_names]") {
    Model model;
    model.layout = DataLayout::channels_first;
    CHECK(imagenet_class_names().size() == 1000);
    CHECK(imagenet_class_names()[0] == "tench");
    CHECK(imagenet_class_names()[281] == "tabby");
    CHECK(cifar100_class_names().size() == 100);
    ClassNameGuess g = guess_class_names(model, 1000, {1, 3, 224, 224});
    CHECK(g.source == "ImageNet");
    g = guess_class_names(model, 1001, {1, 3, 224, 224});
    REQUIRE(g.names.size() == 1001);
    CHECK(g.names[0] == "background");
    CHECK(g.names[1] == "tench");
    CHECK(guess_class_names(model, 10, {1, 3, 32, 32}).source == "CIFAR-10");
    CHECK(guess_class_names(model, 100, {1, 3, 32, 32}).source == "CIFAR-100");
    CHECK(guess_class_names(model, 10, {1, 1, 28, 28}).source == "MNIST digits");
    CHECK(guess_class_names(model, 10, {1, 1, 28, 28}, {}, "fashion_small.onnx").source == "Fashion-MNIST");
    CHECK(guess_class_names(model, 7, {1, 3, 64, 64}).names.empty());
    std::vector<std::string> labels = {"a", "b", "c"};
    CHECK(guess_class_names(model, 3, {1, 3, 64, 64}, labels).names == labels);
    CHECK(guess_class_names(model, 1000, {1, 3, 224, 224}, labels).source == "ImageNet");  // a size mismatch does not win
}

TEST_CASE("input presets set scale, mean, std and channel order", "[inspect][class_names]") {
    Preprocessing p;
    p.channels = 3;
    apply_input_preset(p, InputPreset::imagenet);
    CHECK(p.mean == std::vector<double>{0.485, 0.456, 0.406});
    apply_input_preset(p, InputPreset::caffe);
    CHECK(p.bgr);
    CHECK(p.scale == 1.0);
    apply_input_preset(p, InputPreset::symmetric);
    CHECK(!p.bgr);
    // 0 -> -1 and 255 -> 1.
    CHECK((0.0 * p.scale - p.mean[0]) == Approx(-1.0));
    CHECK((255.0 * p.scale - p.mean[0]) == Approx(1.0));
    // BGR order reverses the channels before the per-channel mean.
    Tensor pixel = Tensor::from_floats({1, 1, 3}, {10.0f, 20.0f, 30.0f});
    p.height = p.width = 1;
    p.layout = DataLayout::channels_last;
    apply_input_preset(p, InputPreset::caffe);
    Tensor input = preprocess_image(pixel, p);
    CHECK(input.f32()[0] == Approx(30.0 - 103.939));
    CHECK(input.f32()[2] == Approx(10.0 - 123.68));
    Model keras;
    keras.layout = DataLayout::channels_last;
    Layer rescale;
    rescale.type = "Rescaling";
    keras.layers.push_back(rescale);
    CHECK(guess_input_preset(keras, {1, 224, 224, 3}).preset == InputPreset::raw);
    Model torch_model;
    torch_model.layout = DataLayout::channels_first;
    CHECK(guess_input_preset(torch_model, {1, 3, 224, 224}).preset == InputPreset::imagenet);
    CHECK(guess_input_preset(torch_model, {1, 1, 28, 28}).preset == InputPreset::unit);
}
