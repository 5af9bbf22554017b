// The engine runs element-wise ONNX steps in place when it alone holds their
// input's buffer. These graphs are built so that a wrong hand-over (a value
// still read later, captured, aliased by a Flatten view, or an op whose
// runtime input is not its input 0) changes the result.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

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

// y = 1 - clip(relu(s) + s, -0.5, 3) with s = a + relu(a), a = x * [2, -1] per channel.
Model in_place_model() {
    Model model;
    model.format = ModelFormat::onnx;
    model.layout = DataLayout::channels_first;
    model.opset_imports[""] = 13;
    model.inputs = {ValueInfo{"x", {1, 2, 3, 3}, DType::f32}};
    model.outputs = {ValueInfo{"y", {1, 18}, DType::f32}};

    Layer mul = node("Mul", {"x", "scale"}, "a");
    mul.weights = {Weight{"scale", Tensor::from_floats({1, 2, 1, 1}, {2.0f, -1.0f})}};
    model.layers.push_back(mul);
    model.layers.push_back(node("Relu", {"a"}, "r"));            // a is read again below: not in place
    model.layers.push_back(node("Add", {"a", "r"}, "s"));        // a's last use: may be in place
    model.layers.push_back(node("Flatten", {"s"}, "f"));         // a view of s's buffer
    model.layers.push_back(node("Relu", {"s"}, "t"));            // s's last use, but f still views it
    model.layers.push_back(node("Flatten", {"t"}, "g"));
    model.layers.push_back(node("Add", {"g", "f"}, "sum"));
    Layer clip = node("Clip", {"sum", "low", "high"}, "c");
    clip.weights = {Weight{"low", Tensor::from_floats({}, {-0.5f})}, Weight{"high", Tensor::from_floats({}, {3.0f})}};
    model.layers.push_back(clip);
    Layer sub = node("Sub", {"one", "c"}, "y");                 // runtime input is the op's input 1
    sub.weights = {Weight{"one", Tensor::from_floats({1}, {1.0f})}};
    model.layers.push_back(sub);
    return model;
}

std::vector<float> input_values() {
    std::vector<float> x(18);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) * 0.25f - 0.8f;
    return x;
}

std::vector<float> expected_output(const std::vector<float>& x) {
    std::vector<float> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        float a = x[i] * (i < 9 ? 2.0f : -1.0f);
        float s = a + std::max(a, 0.0f);
        float sum = std::max(s, 0.0f) + s;
        y[i] = 1.0f - std::min(std::max(sum, -0.5f), 3.0f);
    }
    return y;
}

}  // namespace

TEST_CASE("engine: in-place element-wise steps leave every value that is still needed intact", "[engine][in-place]") {
    Engine engine = Engine::build(in_place_model());
    std::vector<float> x = input_values();
    Tensor input = Tensor::from_floats({1, 2, 3, 3}, x);
    std::vector<float> want = expected_output(x);

    // Twice: a constant changed in place by the first run would show in the second.
    for (int run = 0; run < 2; ++run) {
        RunResult result = engine.run(input);
        std::vector<float> got = result.outputs.at("y").to_float_vector();
        REQUIRE(got.size() == want.size());
        for (size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-6));
    }
    REQUIRE(input.to_float_vector() == x);

    // A captured value keeps its own contents although later steps could have reused its buffer.
    RunOptions options;
    options.capture = {"a", "s"};
    RunResult captured = engine.run(input, options);
    std::vector<float> a = captured.activations.at("a").to_float_vector();
    std::vector<float> s = captured.activations.at("s").to_float_vector();
    for (size_t i = 0; i < x.size(); ++i) {
        float expected_a = x[i] * (i < 9 ? 2.0f : -1.0f);
        REQUIRE(a[i] == Approx(expected_a).margin(1e-6));
        REQUIRE(s[i] == Approx(expected_a + std::max(expected_a, 0.0f)).margin(1e-6));
    }
    std::vector<float> got = captured.outputs.at("y").to_float_vector();
    for (size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-6));

    // Every layer's output, all at once.
    RunOptions all;
    all.capture_all = true;
    RunResult everything = engine.run(input, all);
    std::vector<float> t = everything.activations.at("t").to_float_vector();
    for (size_t i = 0; i < x.size(); ++i) REQUIRE(t[i] == Approx(std::max(s[i], 0.0f)).margin(1e-6));
    REQUIRE(engine.run_until(input, "r").to_float_vector() == everything.activations.at("r").to_float_vector());
}

TEST_CASE("engine: BatchNormalization after Gemm runs in place and keeps a captured input", "[engine][in-place]") {
    // y = bn(x W + b): x [2, 3], W [3, 2], per-column scale/shift.
    Model model;
    model.format = ModelFormat::onnx;
    model.layout = DataLayout::channels_first;
    model.opset_imports[""] = 13;
    model.inputs = {ValueInfo{"x", {2, 3}, DType::f32}};
    model.outputs = {ValueInfo{"y", {2, 2}, DType::f32}};
    Layer gemm = node("Gemm", {"x", "w", "b"}, "h");
    gemm.weights = {Weight{"w", Tensor::from_floats({3, 2}, {1, 0, 0, 1, 1, 1})}, Weight{"b", Tensor::from_floats({2}, {0.5f, -0.5f})}};
    model.layers.push_back(gemm);
    Layer bn = node("BatchNormalization", {"h", "scale", "bias", "mean", "var"}, "y");
    bn.attributes["epsilon"] = 0.0;
    bn.weights = {Weight{"scale", Tensor::from_floats({2}, {2.0f, 3.0f})}, Weight{"bias", Tensor::from_floats({2}, {1.0f, 0.0f})},
                  Weight{"mean", Tensor::from_floats({2}, {0.5f, 1.0f})}, Weight{"var", Tensor::from_floats({2}, {4.0f, 9.0f})}};
    model.layers.push_back(bn);
    Engine engine = Engine::build(model);
    Tensor input = Tensor::from_floats({2, 3}, {1, 2, 3, -1, 0, 2});
    // h = [[1 + 3 + 0.5, 2 + 3 - 0.5], [-1 + 2 + 0.5, 0 + 2 - 0.5]] = [[4.5, 4.5], [1.5, 1.5]]
    std::vector<float> h = {4.5f, 4.5f, 1.5f, 1.5f};
    std::vector<float> want(4);
    for (int i = 0; i < 4; ++i) {
        int c = i % 2;
        float scale = c == 0 ? 2.0f : 3.0f, bias = c == 0 ? 1.0f : 0.0f, mean = c == 0 ? 0.5f : 1.0f, sd = c == 0 ? 2.0f : 3.0f;
        want[i] = (h[i] - mean) / sd * scale + bias;
    }
    for (int run = 0; run < 2; ++run) {
        std::vector<float> got = engine.run(input).outputs.at("y").to_float_vector();
        for (int i = 0; i < 4; ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-6));
    }
    RunOptions options;
    options.capture = {"h"};
    RunResult captured = engine.run(input, options);
    std::vector<float> got_h = captured.activations.at("h").to_float_vector();
    for (int i = 0; i < 4; ++i) REQUIRE(got_h[i] == Approx(h[i]).margin(1e-6));
    std::vector<float> got = captured.outputs.at("y").to_float_vector();
    for (int i = 0; i < 4; ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-6));
}
