// SmoothGrad: without noise it is the plain gradient (the averaging itself
// adds nothing), a seed reproduces it exactly, and noise really changes it.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/engine/engine.h"
#include "core/explain/saliency.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"

using namespace convscope;

TEST_CASE("SmoothGrad reduces to saliency without noise and is reproducible per seed", "[explain][smoothgrad]") {
    const std::string path = CONVSCOPE_SOURCE_DIR "/tests/fixtures/explain/tiny_cnn.onnx";
    Model model = open_model(read_file_bytes(path), path);
    Engine engine = Engine::build(model);
    GradientEngine gradients = GradientEngine::build(model, engine);
    const Tensor x = npy::read_file(CONVSCOPE_SOURCE_DIR "/tests/fixtures/explain/input.npy").to_float32();

    const std::vector<float> plain = saliency(gradients, x, Target::class_score()).raw.to_float_vector();
    SmoothGradOptions options;
    options.samples = 4;
    options.noise_fraction = 0.0f;
    const std::vector<float> silent = smoothgrad(gradients, x, Target::class_score(), options).raw.to_float_vector();
    REQUIRE(silent.size() == plain.size());
    for (size_t i = 0; i < plain.size(); ++i) CHECK(silent[i] == Approx(plain[i]).margin(1e-7));

    options.noise_fraction = 0.3f;
    options.samples = 8;
    options.seed = 5;
    const Explanation first = smoothgrad(gradients, x, Target::class_score(), options);
    const std::vector<float> again = smoothgrad(gradients, x, Target::class_score(), options).raw.to_float_vector();
    CHECK(first.raw.to_float_vector() == again);
    options.seed = 6;
    const std::vector<float> other = smoothgrad(gradients, x, Target::class_score(), options).raw.to_float_vector();
    double difference = 0.0, scale = 0.0;
    for (size_t i = 0; i < plain.size(); ++i) {
        difference += std::fabs(other[i] - first.raw.f32()[i]);
        scale += std::fabs(plain[i]);
    }
    CHECK(difference > 1e-3 * scale);
    CHECK(first.map.shape() == Shape{12, 12});
}
