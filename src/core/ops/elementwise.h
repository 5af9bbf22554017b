// Binary element-wise operators with NumPy/ONNX broadcasting (Keras merge
// layers broadcast the same way), and per-channel affine transforms used by
// batch normalization, Keras Normalization and Rescaling.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace convscope {

enum class BinaryKind { add, subtract, multiply, divide, maximum, minimum, power };

const char* binary_kind_name(BinaryKind kind);

// The broadcast shape of two shapes; throws UnsupportedError naming both
// shapes and `context` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* context);

// float32 in, float32 out. The SIMD path covers equal shapes, a scalar
// operand and a trailing-vector operand (bias-like); other shapes take the
// general strided loop.
Tensor binary_op(BinaryKind kind, const Tensor& a, const Tensor& b);
Tensor binary_op_reference(BinaryKind kind, const Tensor& a, const Tensor& b);
// The same into `out`, which has the broadcast shape; `out` may be `a` (or
// share its buffer) when `a` already has that shape: every element is read
// before the same element is written.
void binary_op_into(BinaryKind kind, const Tensor& a, const Tensor& b, Tensor& out);

// y = x * scale[c] + shift[c] where c indexes `axis_length` elements spaced
// `inner` apart (the [outer, axis, inner] view); NHWC has inner == 1.
void channel_affine(const float* input, float* output, int64_t outer, int64_t axis_length, int64_t inner,
                    const float* scale, const float* shift);
void channel_affine_reference(const float* input, float* output, int64_t outer, int64_t axis_length,
                              int64_t inner, const float* scale, const float* shift);

// Layer normalization over the last `normalized` elements of each of `rows`
// rows; gamma/beta (may be null) have `normalized` elements.
void layer_norm(const float* input, float* output, int64_t rows, int64_t normalized, float epsilon,
                const float* gamma, const float* beta);

}  // namespace convscope
