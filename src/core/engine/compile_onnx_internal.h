// Shared pieces of the ONNX compiler: the node as a compile function sees it,
// what it returns, the op table's row, and the helpers the op families share.
// compile_onnx.cpp holds the table and the dispatch; compile_onnx_ops_*.cpp
// hold one small compile function per op (after tinygrad's onnx.py): each
// reads its attributes once, with the defaults of the node's opset, and
// returns the typed parameters with the step. Internal to src/core/engine.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/plan.h"
#include "core/model/layer_params.h"
#include "core/model/model.h"
#include "core/ops/activation.h"

namespace convscope::onnx_compile {

// All of an ONNX op's inputs, in ONNX order: initializers baked at build
// time, runtime values filled per run, absent optional inputs null.
using OnnxFunction = std::function<std::vector<Tensor>(const std::vector<const Tensor*>& all_inputs)>;
// In place: the engine hands over input 0's buffer (see ConsumingStepFunction).
using OnnxConsumingFunction = std::function<Tensor(Tensor& consumed, const std::vector<const Tensor*>& all_inputs)>;

// One node as a compile function sees it.
struct OnnxNode {
    const Model& model;
    const Layer& layer;
    int64_t opset;  // of the node's domain
    std::string domain;  // "" for the default domain
    // The baked initializer at ONNX input i, or null when it is a runtime
    // value or absent (a node may list fewer inputs than its op needs).
    std::function<const Tensor*(size_t)> constant_at;
    bool input_listed(size_t i) const { return i < layer.inputs.size() && !layer.inputs[i].empty(); }
};

struct OnnxStep {
    OpKind op = OpKind::identity;
    OnnxFunction function;
    OnnxConsumingFunction consuming;  // optional, for element-wise ops
    std::string algorithm;
    LayerParams params;
};

using OnnxCompileFunction = OnnxStep (*)(const OnnxNode& node);

inline constexpr int64_t any_opset = std::numeric_limits<int64_t>::max();

// A row of the op table: the op applies to opsets [min_opset, max_opset] of
// `domain` ("" = ai.onnx).
struct OnnxOpEntry {
    const char* op_type;
    const char* domain;
    int64_t min_opset;
    int64_t max_opset;
    OnnxCompileFunction compile;
};

// The families' rows (compile_onnx_ops_*.cpp).
std::vector<OnnxOpEntry> onnx_nn_ops();
std::vector<OnnxOpEntry> onnx_math_ops();
std::vector<OnnxOpEntry> onnx_tensor_ops();

// [helpers] shared by the families (compile_onnx.cpp).
std::vector<int64_t> ints_of(const Tensor& t);
const Tensor& input_at(const std::vector<const Tensor*>& in, size_t i, const char* op);
bool has_input(const std::vector<const Tensor*>& in, size_t i);
Tensor int64_tensor(const std::vector<int64_t>& values);
Tensor to_int64(const Tensor& t);
bool is_integer(DType d);
// Conv/pool padding from pads + auto_pad for `spatial` axes (1 or 2).
PaddingRule onnx_padding(const Layer& layer, size_t spatial);
// A per-spatial-axis attribute as (h, w); 1-D gets h = 1.
std::vector<int64_t> two_d(std::vector<int64_t> v, size_t spatial, int64_t fallback);
// NCHW (or NCL) input through an NHWC step and back.
Tensor via_nhwc(const Tensor& input, bool one_d, const std::function<Tensor(const Tensor&)>& step);
// One pass from the input into a fresh output (the input may be a weight
// view or a value another step still reads, so it is never changed).
Tensor activated(const Activation& a, const Tensor& input);
OnnxFunction unary(Activation a);
OnnxConsumingFunction unary_consuming(Activation a);
Activation make_activation(ActivationKind kind, float alpha = 0, float beta = 0);
// An axes list from input `index` when the opset takes it as an input
// (`input_from_opset` and later), else from the `axes` attribute; the other
// form present is an error, so a malformed file is named, not misread.
struct AxesSource {
    bool from_input = false;
    std::vector<int64_t> attribute_axes;
};
AxesSource axes_source(const OnnxNode& n, int64_t input_from_opset, size_t index);
std::vector<int64_t> resolve_axes(const AxesSource& source, const std::vector<const Tensor*>& in, size_t index);

}  // namespace convscope::onnx_compile
