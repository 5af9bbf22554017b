#include <catch2/catch.hpp>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/engine/keras_params.h"
#include "core/engine/plan.h"
#include "core/ops/activation.h"

using namespace convscope;

TEST_CASE("Keras activation names: relu6 and both hard_sigmoid definitions", "[engine][keras]") {
    Activation relu6;
    REQUIRE(keras_activation_from_name("relu6", false, relu6));
    REQUIRE(activation_scalar(relu6, 7.0f) == 6.0f);
    Activation hard;
    REQUIRE(keras_activation_from_name("hard_sigmoid", false, hard));
    REQUIRE(activation_scalar(hard, 1.0f) == Approx(0.7f));  // tf.keras: 0.2 x + 0.5
    REQUIRE(keras_activation_from_name("hard_sigmoid", true, hard));
    REQUIRE(activation_scalar(hard, 1.0f) == Approx(4.0f / 6.0f));  // Keras 3: relu6(x + 3) / 6
    CHECK_FALSE(keras_activation_from_name("no_such_activation", false, hard));
}

namespace {

Layer keras_layer(const std::string& type) {
    Layer layer;
    layer.name = "l";
    layer.type = type;
    layer.inputs = {"in"};
    layer.outputs = {"l"};
    return layer;
}

}  // namespace

TEST_CASE("Keras conv params: Keras 1 and 2 names resolve alike, 1-D as height 1, weights give channels", "[engine][keras]") {
    Model model;
    for (const char* type : {"Conv1D", "Convolution1D"}) {
        Layer conv = keras_layer(type);
        conv.attributes["kernel_size"] = std::vector<int64_t>{3};
        conv.attributes["strides"] = std::vector<int64_t>{2};
        conv.attributes["padding"] = std::string("causal");
        conv.attributes["activation"] = std::string("relu");
        conv.weights = {{"l/kernel:0", Tensor::zeros(DType::f32, {3, 4, 5})}, {"l/bias:0", Tensor::zeros(DType::f32, {5})}};
        KerasConvParams p = keras_conv_params(model, conv);
        CHECK(p.variant == KerasConvVariant::regular);
        CHECK(p.one_dimensional);
        CHECK(p.geometry.kernel_h == 1);
        CHECK(p.geometry.kernel_w == 3);
        CHECK(p.geometry.stride_h == 1);
        CHECK(p.geometry.stride_w == 2);
        CHECK(p.geometry.in_channels == 4);
        CHECK(p.geometry.out_channels == 5);
        CHECK(p.padding.kind == PaddingRule::Kind::causal);
        CHECK(p.activation.activation.kind == ActivationKind::relu);
        CHECK(p.bias != nullptr);
    }
    Layer separable = keras_layer("SeparableConv2D");
    separable.attributes["kernel_size"] = std::vector<int64_t>{3, 3};
    separable.attributes["activation"] = std::string("some_custom_activation");
    separable.weights = {{"l/depthwise_kernel:0", Tensor::zeros(DType::f32, {3, 3, 2, 2})},
                         {"l/pointwise_kernel:0", Tensor::zeros(DType::f32, {1, 1, 4, 6})},
                         {"l/bias:0", Tensor::zeros(DType::f32, {6})}};
    KerasConvParams s = keras_conv_params(model, separable);
    CHECK(s.variant == KerasConvVariant::separable);
    CHECK(s.geometry.groups == 2);
    CHECK(s.geometry.out_channels == 4);
    CHECK(s.pointwise_geometry.out_channels == 6);
    CHECK(s.unsupported_activation == "some_custom_activation");  // recorded for the compiler's message

    separable.weights.back().tensor = Tensor::zeros(DType::f32, {5});
    CHECK_THROWS_AS(keras_conv_params(model, separable), UnsupportedError);
    CHECK_THROWS_WITH(keras_conv_params(model, keras_layer("Dense")), Catch::Contains("not a Keras convolution"));
}

TEST_CASE("Keras pool and merge params: aliases and defaults", "[engine][keras]") {
    Layer pool = keras_layer("MaxPool1D");
    pool.attributes["pool_size"] = std::vector<int64_t>{3};
    KerasPoolParams p = keras_pool_params(pool);
    CHECK(p.kind == PoolKind::max);
    CHECK(p.one_dimensional);
    CHECK(p.geometry.kernel_w == 3);
    CHECK(p.geometry.stride_w == 3);  // strides default to the pool size
    CHECK(p.geometry.kernel_h == 1);
    Layer average = keras_layer("AveragePooling2D");
    average.attributes["padding"] = std::string("same");
    KerasPoolParams a = keras_pool_params(average);
    CHECK(a.kind == PoolKind::average);
    CHECK(a.geometry.kernel_h == 2);
    CHECK(a.padding.kind == PaddingRule::Kind::same_upper);
    CHECK_FALSE(a.geometry.count_include_pad);

    CHECK(keras_merge_params(keras_layer("Average")).average);
    CHECK(keras_merge_params(keras_layer("Subtract")).kind == BinaryKind::subtract);
    CHECK_THROWS_AS(keras_merge_params(keras_layer("Concatenate")), UnsupportedError);
}

TEST_CASE("Keras plan steps carry the typed parameters their steps were built from", "[engine][keras]") {
    Model model;
    model.format = ModelFormat::keras_h5;
    model.inputs = {ValueInfo{"in", {-1, 8, 8, 3}, DType::f32}};
    Layer conv = keras_layer("Conv2D");
    conv.name = "conv";
    conv.outputs = {"conv"};
    conv.attributes["kernel_size"] = std::vector<int64_t>{3, 3};
    conv.attributes["strides"] = std::vector<int64_t>{2, 2};
    conv.attributes["padding"] = std::string("same");
    conv.attributes["activation"] = std::string("relu");
    conv.weights = {{"conv/kernel:0", Tensor::zeros(DType::f32, {3, 3, 3, 4})}, {"conv/bias:0", Tensor::zeros(DType::f32, {4})}};
    Layer pool = keras_layer("MaxPooling2D");
    pool.name = "pool";
    pool.inputs = {"conv"};
    pool.outputs = {"pool"};
    Layer flatten = keras_layer("Flatten");
    flatten.name = "flatten";
    flatten.inputs = {"pool"};
    flatten.outputs = {"flatten"};
    Layer dense = keras_layer("Dense");
    dense.name = "dense";
    dense.inputs = {"flatten"};
    dense.outputs = {"dense"};
    dense.attributes["activation"] = std::string("softmax");
    dense.weights = {{"dense/kernel:0", Tensor::zeros(DType::f32, {16, 5})}, {"dense/bias:0", Tensor::zeros(DType::f32, {5})}};
    model.layers = {conv, pool, flatten, dense};
    model.outputs = {ValueInfo{"dense", {-1, 5}, DType::f32}};
    Engine engine = Engine::build(model);
    const ConvParams* c = nullptr;
    const PoolParams* p = nullptr;
    const DenseParams* d = nullptr;
    for (const PlanStep& step : engine.plan_steps()) {
        if (step.layer_name == "conv") c = std::get_if<ConvParams>(&step.params);
        if (step.layer_name == "pool") p = std::get_if<PoolParams>(&step.params);
        if (step.layer_name == "dense") d = std::get_if<DenseParams>(&step.params);
    }
    REQUIRE(c);
    CHECK(c->kernel_h == 3);
    CHECK(c->stride_w == 2);
    CHECK(c->padding.kind == PaddingRule::Kind::same_upper);
    CHECK(c->in_channels == 3);
    CHECK(c->out_channels == 4);
    CHECK(c->has_bias);
    CHECK(c->activation.activation.kind == ActivationKind::relu);
    REQUIRE(p);
    CHECK(p->kind == PoolKind::max);
    CHECK(p->geometry.kernel_h == 2);
    REQUIRE(d);
    CHECK(d->in_features == 16);
    CHECK(d->out_features == 5);
    CHECK(d->activation.softmax);
    Tensor out = engine.run(Tensor::zeros(DType::f32, {1, 8, 8, 3})).outputs.at("dense");
    CHECK(out.shape() == Shape{1, 5});
}
