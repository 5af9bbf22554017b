// Saliency, Integrated Gradients, Grad-CAM(++) and occlusion against PyTorch autograd on the
// same small CNN stored as ONNX (NCHW) and as a Keras .h5 (NHWC), generated
// with its goldens by scripts/make_explain_goldens.py.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/engine/engine.h"
#include "core/explain/gradcam.h"
#include "core/explain/integrated_gradients.h"
#include "core/explain/occlusion.h"
#include "core/explain/saliency.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"
#include "core/ops/tensor_ops.h"

using namespace convscope;

namespace {

const std::string fixtures = CONVSCOPE_SOURCE_DIR "/tests/fixtures/explain/";

Tensor golden(const std::string& name) { return npy::read_file(fixtures + name).to_float32(); }

// Goldens are NCHW (the ONNX input layout); Keras wants NHWC.
Tensor in_layout(const Tensor& nchw, DataLayout layout) {
    return layout == DataLayout::channels_first ? nchw : transpose(nchw, {0, 2, 3, 1});
}

// Every element within 1e-3 of the golden's largest magnitude: relative to
// the map as a whole, because near-zero elements have no meaningful
// element-wise relative error in float32.
void require_matches(const Tensor& got, const Tensor& want, const std::string& what) {
    REQUIRE(got.element_count() == want.element_count());
    const std::vector<float> g = got.to_float_vector(), w = want.to_float_vector();
    float scale = 0.0f;
    for (float v : w) scale = std::max(scale, std::fabs(v));
    REQUIRE(scale > 0.0f);
    for (size_t i = 0; i < w.size(); ++i) {
        if (!(std::fabs(g[i] - w[i]) <= 1e-3f * scale)) {
            std::ostringstream message;
            message << what << ": element " << i << " got " << g[i] << " want " << w[i] << " (scale " << scale << ")";
            FAIL(message.str());
        }
    }
    SUCCEED(what);
}

struct Loaded {
    Model model;
    Engine engine;
};

Loaded load(const std::string& file) {
    const std::string path = fixtures + file;
    Model model = open_model(read_file_bytes(path), path);
    Engine engine = Engine::build(model);
    return {std::move(model), std::move(engine)};
}

// Grad-CAM's feature map: the last conv layer after its ReLU - a fused
// activation in Keras (the Conv2D layer itself), a Relu node in ONNX.
std::string last_feature_layer(const Model& model) {
    std::string name;
    for (const Layer& layer : model.layers) {
        if (layer.type == "Relu" || layer.type == "Conv2D") name = layer.name;
    }
    return name;
}

}  // namespace

TEST_CASE("explanations match PyTorch autograd goldens on ONNX and Keras copies of one CNN", "[explain][goldens]") {
    const Tensor input = golden("input.npy");
    const int64_t expected_class = static_cast<int64_t>(golden("class.npy").f32()[0]);
    for (const char* file : {"tiny_cnn.onnx", "tiny_cnn.h5"}) {
        INFO(file);
        Loaded loaded = load(file);
        // The engine must outlive the gradient engine built on it, and so it
        // does: both live in this iteration's scope, `loaded` first.
        GradientEngine gradients = GradientEngine::build(loaded.model, loaded.engine);
        const DataLayout layout = gradients.layout();
        const Tensor x = in_layout(input, layout);

        Explanation s = saliency(gradients, x, Target::class_score());
        CHECK(s.class_index == expected_class);
        CHECK(std::fabs(s.score - golden("logits.npy").f32()[expected_class]) <= 1e-4f);
        require_matches(s.raw, in_layout(golden("saliency.npy"), layout), std::string(file) + " saliency");

        IntegratedGradientsOptions ig_options;
        ig_options.steps = 32;
        Explanation ig = integrated_gradients(gradients, x, Target::class_score(), ig_options);
        CHECK(ig.class_index == expected_class);
        require_matches(ig.raw, in_layout(golden("ig.npy"), layout), std::string(file) + " integrated gradients");
        double total = 0.0;
        for (float v : ig.raw.to_float_vector()) total += v;
        const double delta = golden("ig_delta.npy").f32()[0];
        INFO("sum of attributions " << total << ", logit(x) - logit(0) " << delta);
        CHECK(std::fabs(total - delta) <= 0.01 * std::fabs(delta));

        const std::string layer = last_feature_layer(loaded.model);
        REQUIRE(!layer.empty());
        INFO("Grad-CAM layer " << layer);
        Explanation cam = gradcam(gradients, x, Target::class_score(), layer, false);
        CHECK(cam.class_index == expected_class);
        require_matches(cam.raw, golden("gradcam.npy"), std::string(file) + " Grad-CAM");
        CHECK(cam.map.shape() == Shape{12, 12});
        Explanation cam_pp = gradcam(gradients, x, Target::class_score(), layer, true);
        require_matches(cam_pp.raw, golden("gradcampp.npy"), std::string(file) + " Grad-CAM++");

        OcclusionOptions occlusion_options;
        occlusion_options.window = 4;
        occlusion_options.stride = 4;
        occlusion_options.fill = 0.0f;
        Explanation occluded = occlusion(gradients, x, -1, occlusion_options);
        CHECK(occluded.class_index == expected_class);
        require_matches(occluded.raw, golden("occlusion.npy"), std::string(file) + " occlusion");

        // With no layer named, Grad-CAM must pick the same feature map (by
        // its value name in ONNX, "/net/Relu_1_output_0").
        INFO("default layer " << default_gradcam_layer(gradients, x));
        require_matches(gradcam(gradients, x, Target::class_score()).raw, golden("gradcam.npy"),
                        std::string(file) + " Grad-CAM, default layer");
    }
}
