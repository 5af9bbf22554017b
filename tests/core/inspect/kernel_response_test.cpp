#include <catch2/catch.hpp>

#include "core/engine/engine.h"
#include "core/inspect/kernel_response.h"
#include "support/op_check.h"

using namespace convscope;

TEST_CASE("kernel response: equals the layer's channel without bias; channel slices sum to it", "[explain][engine]") {
    test::OpRandom random(42);
    Model model;
    model.format = ModelFormat::keras_h5;
    model.inputs = {ValueInfo{"in", {-1, 6, 7, 3}, DType::f32}};
    Layer conv;
    conv.name = "conv";
    conv.type = "Conv2D";
    conv.inputs = {"in"};
    conv.outputs = {"conv"};
    conv.attributes["kernel_size"] = std::vector<int64_t>{3, 3};
    conv.attributes["strides"] = std::vector<int64_t>{2, 1};
    conv.attributes["padding"] = std::string("same");
    conv.attributes["use_bias"] = int64_t{0};
    conv.weights = {{"conv/kernel:0", Tensor::from_floats({3, 3, 3, 4}, random.floats(108))}};
    model.layers.push_back(conv);
    Tensor image = Tensor::from_floats({6, 7, 3}, random.floats(126));
    Tensor layer_output = Engine::build(model).run(image).outputs.at("conv");  // [1, 3, 7, 4]
    REQUIRE(layer_output.shape() == Shape{1, 3, 7, 4});
    KernelResponseRequest request;
    request.output_channel = 2;
    Tensor response = convolve_single_kernel(model, conv, image, request);
    REQUIRE(response.shape() == Shape{3, 7});
    std::vector<float> expected, summed(21, 0.0f);
    for (int64_t p = 0; p < 21; ++p) expected.push_back(layer_output.f32()[p * 4 + 2]);
    test::require_close(response.to_float_vector(), expected, "kernel response vs layer");
    for (int64_t c = 0; c < 3; ++c) {
        request.input_channel = c;
        std::vector<float> part = convolve_single_kernel(model, conv, image, request).to_float_vector();
        for (size_t i = 0; i < part.size(); ++i) summed[i] += part[i];
    }
    test::require_close(summed, expected, "per-channel slices sum to the full response");
}
