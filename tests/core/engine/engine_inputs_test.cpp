// Several named graph inputs and outputs, and integer inputs that stay
// exact (the conformance runner and `convscope run --input NAME=FILE` feed
// models this way).
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "core/base/error.h"
#include "core/engine/engine.h"

using namespace convscope;

namespace {

Layer node(const std::string& type, std::vector<std::string> inputs, const std::string& output) {
    Layer layer;
    layer.name = output + "_node";
    layer.type = type;
    layer.inputs = std::move(inputs);
    layer.outputs = {output};
    return layer;
}

Tensor int64_values(const std::vector<int64_t>& values) {
    Tensor t = Tensor::zeros(DType::i64, {static_cast<int64_t>(values.size())});
    std::memcpy(t.mutable_raw(), values.data(), values.size() * sizeof(int64_t));
    return t;
}

// picked = Gather(data, indices); same = Identity(indices).
Model two_input_model() {
    Model model;
    model.format = "onnx";
    model.layout = DataLayout::channels_first;
    model.metadata["opset"] = "13";
    model.inputs = {ValueInfo{"data", {4}, DType::f32}, ValueInfo{"indices", {2}, DType::i64}};
    model.outputs = {ValueInfo{"picked", {2}, DType::f32}, ValueInfo{"same", {2}, DType::i64}};
    model.layers.push_back(node("Gather", {"data", "indices"}, "picked"));
    model.layers.push_back(node("Identity", {"indices"}, "same"));
    return model;
}

}  // namespace

TEST_CASE("engine: two named inputs, two outputs; an int64 input keeps values past float precision", "[engine]") {
    Engine engine = Engine::build(two_input_model());
    REQUIRE(engine.inputs().size() == 2);
    REQUIRE(engine.output_names() == std::vector<std::string>{"picked", "same"});
    const int64_t beyond_float = (int64_t(1) << 40) + 1;  // float32 would round it to 2^40
    std::map<std::string, Tensor> feeds{{"indices", int64_values({3, beyond_float})},
                                        {"data", Tensor::from_floats({4}, {10, 20, 30, 40})}};
    // Gather rejects the out-of-range index; Identity alone shows the value.
    CHECK_THROWS_AS(engine.run(feeds, RunOptions{}), Error);
    feeds["indices"] = int64_values({3, 1});
    RunResult result = engine.run(feeds, RunOptions{});
    CHECK(result.outputs.at("picked").to_float_vector() == std::vector<float>{40, 20});

    Model identity_only = two_input_model();
    identity_only.layers.erase(identity_only.layers.begin());
    identity_only.outputs.erase(identity_only.outputs.begin());
    Engine exact = Engine::build(identity_only);
    feeds["indices"] = int64_values({-7, beyond_float});
    Tensor same = exact.run(feeds, RunOptions{}).outputs.at("same");
    REQUIRE(same.dtype() == DType::i64);
    CHECK(same.value_at(0) == -7.0);
    int64_t second = 0;
    std::memcpy(&second, same.raw() + sizeof(int64_t), sizeof second);
    CHECK(second == beyond_float);
}

TEST_CASE("engine: a missing named input and an unnamed run of a two-input model say what is needed", "[engine]") {
    Engine engine = Engine::build(two_input_model());
    std::map<std::string, Tensor> feeds{{"data", Tensor::from_floats({4}, {1, 2, 3, 4})}};
    CHECK_THROWS_WITH(engine.run(feeds, RunOptions{}), Catch::Contains("no tensor given for model input 'indices'"));
    CHECK_THROWS_WITH(engine.run(Tensor::from_floats({4}, {1, 2, 3, 4})), Catch::Contains("2 inputs; pass them by name"));
}
