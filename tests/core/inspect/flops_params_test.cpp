#include <catch2/catch.hpp>

#include "core/inspect/flops.h"

using namespace convscope;

TEST_CASE("FLOPs of a transposed convolution use the compiler's strides", "[inspect][flops]") {
    Model model;
    model.format = ModelFormat::keras_h5;
    Layer up;
    up.name = "up";
    up.type = "Conv2DTranspose";
    up.inputs = {"in"};
    up.outputs = {"up"};
    up.attributes["kernel_size"] = std::vector<int64_t>{4, 4};
    up.attributes["strides"] = std::vector<int64_t>{2};  // one value: both axes
    up.attributes["padding"] = std::string("same");
    up.attributes["use_bias"] = int64_t{0};
    up.weights = {{"up/kernel:0", Tensor::zeros(DType::f32, {4, 4, 3, 2})}};  // [kh, kw, out, in]
    up.output_shape = {-1, 8, 8, 3};
    // Each input element meets the whole kernel: 4*4*2*3 weights over 3 outputs
    // per pixel is 32 per output element, divided by the stride product 4.
    LayerCost cost = layer_cost(model, up);
    REQUIRE(cost.known);
    CHECK(cost.macs == 8 * 8 * 3 * 8);
    CHECK(cost.flops == 2 * cost.macs);

    up.attributes["activation"] = std::string("not_an_activation");
    CHECK_FALSE(layer_cost(model, up).known);  // the engine cannot build it: no strides to trust
}
