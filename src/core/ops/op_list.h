// The closed list of operators the engine executes (after ggml): one enum
// entry, one name in the table below, one compute family in src/core/ops/.
// Keras layer classes and ONNX op types both map onto these in
// src/core/engine/compile_*.cpp; anything that maps to nothing is reported
// as unsupported when a plan is built.
#pragma once

#include <cstddef>

namespace convscope {

enum class OpKind : int {
    input,
    identity,       // Dropout, SpatialDropout, Identity, InputLayer
    constant,
    conv2d,         // Conv1D/2D, depthwise, grouped, ONNX Conv
    separable_conv2d,
    conv_transpose2d,
    dense,          // Keras Dense, ONNX Gemm
    matmul,
    max_pool2d,
    avg_pool2d,
    global_avg_pool,
    global_max_pool,
    batch_norm,
    layer_norm,
    normalization,  // Keras Normalization / Rescaling
    activation,     // relu, sigmoid, tanh, ... (one op, a kind parameter)
    softmax,
    prelu,
    binary,         // add, sub, mul, div, max, min, pow with broadcasting
    variadic,       // Keras Add/Multiply/Average/Maximum..., ONNX Sum/Mean/Max/Min
    concat,
    flatten,
    reshape,
    transpose,
    squeeze,
    unsqueeze,
    pad,
    crop,
    resize,
    shape,
    gather,
    slice,
    reduce,
    cast,
    split,          // ONNX Split (several outputs)
    count
};

inline constexpr const char* op_names[] = {
    "input", "identity", "constant", "conv2d", "separable_conv2d", "conv_transpose2d",
    "dense", "matmul", "max_pool2d", "avg_pool2d", "global_avg_pool", "global_max_pool",
    "batch_norm", "layer_norm", "normalization", "activation", "softmax", "prelu",
    "binary", "variadic", "concat", "flatten", "reshape", "transpose", "squeeze",
    "unsqueeze", "pad", "crop", "resize", "shape", "gather", "slice", "reduce", "cast",
    "split",
};
static_assert(sizeof(op_names) / sizeof(op_names[0]) == static_cast<size_t>(OpKind::count),
              "op_names must list every OpKind");

inline const char* op_name(OpKind kind) {
    int index = static_cast<int>(kind);
    return index >= 0 && index < static_cast<int>(OpKind::count) ? op_names[index] : "?";
}

}  // namespace convscope
