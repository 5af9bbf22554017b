// Backward (vector-Jacobian) functions, one per operator family: given the
// gradient of a scalar with respect to an operator's output, they return the
// gradient with respect to its input(s). Only input gradients are computed:
// explanations never need weight gradients.
//
// Layouts follow src/core/ops: convolution and pooling work on NHWC float
// buffers with canonical weights ([kh][kw][in/groups][out]); callers that
// hold NCHW tensors (ONNX) transpose around them, as the forward steps do.
//
// Every function here is checked against central finite differences of the
// matching forward operator in tests/core/grad/backward_ops_test.cpp.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/ops/activation.h"
#include "core/ops/conv.h"
#include "core/ops/elementwise.h"
#include "core/ops/gemm.h"
#include "core/ops/pool.h"
#include "core/ops/tensor_ops.h"
#include "core/tensor/tensor.h"

namespace convscope {

// --- Convolution -------------------------------------------------------------

// Weights re-packed for the backward pass: per group, W_g transposed so that
// d(input columns) = d(output) x W_g^T is one packed GEMM (then col2im).
struct Conv2DBackwardWeights {
    Conv2DGeometry geometry;                     // pads are replaced per call
    std::vector<PackedMatrix> transposed_groups;  // unused for depthwise
    std::vector<float> depthwise;                // [kh][kw][out_channels] when groups == in_channels
    bool is_depthwise = false;
};
Conv2DBackwardWeights conv2d_backward_pack(const Conv2DGeometry& geometry, const float* canonical_weights);

// dx (zeroed and filled) from dy for a convolution whose geometry (with the
// pads actually used) is `geometry`; dy is [batch, oh, ow, out_channels].
void conv2d_backward_input(const Conv2DBackwardWeights& weights, const Conv2DGeometry& geometry_with_pads,
                           int64_t batch, int64_t input_h, int64_t input_w, const float* output_gradient,
                           float* input_gradient);
// Plain loops, the reference the packed path is tested against.
void conv2d_backward_input_reference(const Conv2DGeometry& geometry, const float* canonical_weights, int64_t batch,
                                     int64_t input_h, int64_t input_w, const float* output_gradient,
                                     float* input_gradient);

// --- Dense / matmul ----------------------------------------------------------

// y[rows x n] = x[rows x k] W[k x n]: dx = dy W^T. `packed_transpose` comes
// from dense_backward_pack(W) so repeated sweeps do not re-pack.
PackedMatrix dense_backward_pack(const float* weights, int64_t k, int64_t n);
void dense_backward_input(const PackedMatrix& packed_transpose, int64_t rows, const float* output_gradient,
                          float* input_gradient);

// --- Pooling -----------------------------------------------------------------

// Max pooling routes each output's gradient to the first maximum of its
// window (PyTorch's and TensorFlow's choice); average pooling spreads it over
// the taps that were counted. Geometry pads are the ones actually used.
void pool2d_backward(PoolKind kind, const Pool2DGeometry& geometry, const float* input, int64_t batch,
                     int64_t input_h, int64_t input_w, int64_t channels, const float* output_gradient,
                     float* input_gradient);
// [batch, pixels, channels] -> [batch, channels]; max routes to the first maximum.
void global_pool_backward(PoolKind kind, const float* input, int64_t batch, int64_t pixels, int64_t channels,
                          const float* output_gradient, float* input_gradient);

// --- Activations ---------------------------------------------------------------

// True when f'(x) can be written from y = f(x) alone (relu, sigmoid, tanh,
// elu, ...), so a fused activation needs no pre-activation value.
bool activation_derivative_from_output(const Activation& activation);
// dx = dy * f'(x). `input` may be null when activation_derivative_from_output().
void activation_backward(const Activation& activation, const float* input, const float* output,
                         const float* output_gradient, float* input_gradient, int64_t count);
// Softmax / log-softmax over the [outer, axis, inner] view, from the output.
void softmax_backward(const float* output, const float* output_gradient, float* input_gradient, int64_t outer,
                      int64_t axis_length, int64_t inner, bool log_softmax = false);

// --- Broadcasting element-wise ops ------------------------------------------------

// Sums `gradient` (shaped like the broadcast result) down to `shape`, the
// shape of an operand before broadcasting.
Tensor reduce_to_shape(const Tensor& gradient, const Shape& shape);
// Gradients of y = a (op) b for both operands, each shaped like its operand.
// maximum/minimum give the gradient to the operand that was picked (a on ties).
std::pair<Tensor, Tensor> binary_backward(BinaryKind kind, const Tensor& a, const Tensor& b,
                                          const Tensor& output_gradient);

// --- Data movement -------------------------------------------------------------

// dx[source[j]] += dy[j] for every output j with source[j] >= 0: the adjoint
// of any operator that only copies elements (reshape, transpose, pad, crop,
// concat slices, gather, nearest resize). `input_count` sizes dx.
void route_backward(const std::vector<int64_t>& source_of_output, const float* output_gradient,
                    float* input_gradient, int64_t input_count);

// Adjoint of transpose(x, perm).
Tensor transpose_backward(const Tensor& output_gradient, const std::vector<int64_t>& perm);

// Reduction over `axes` (normalised, sorted) of `input`; output_gradient has
// the reduced shape with or without kept dimensions.
Tensor reduce_backward(ReduceKind kind, const Tensor& input, const Tensor& output,
                       const std::vector<int64_t>& axes, const Tensor& output_gradient);

}  // namespace convscope
