// Framework-neutral step builders the Keras and ONNX compilers share: they
// own packed weights and run on NHWC float tensors (ONNX wraps them in
// NCHW <-> NHWC transposes).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model/layer_params.h"
#include "core/ops/activation.h"
#include "core/ops/conv.h"
#include "core/ops/conv_nchw.h"
#include "core/ops/gemm.h"
#include "core/ops/gemv.h"
#include "core/ops/pool.h"
#include "core/tensor/tensor.h"

namespace convscope {

// PaddingRule and OutputActivation are part of the typed layer parameters
// (core/model/layer_params.h).
void apply_output_activation(const OutputActivation& activation, Tensor& tensor);

// Convolution on NHWC input [N, H, W, C] (or [N, L, C] when one_dimensional).
struct ConvStep {
    std::shared_ptr<Conv2DKernel> kernel;
    PaddingRule padding;
    bool one_dimensional = false;
    OutputActivation activation;

    Tensor run(const Tensor& input) const;
};

// Convolution on NCHW input [N, C, H, W] (or [N, C, L] when one_dimensional):
// the ONNX layout, with no transposes around the kernel.
struct NchwConvStep {
    std::shared_ptr<Conv2DNchwKernel> kernel;
    PaddingRule padding;
    bool one_dimensional = false;

    Tensor run(const Tensor& input) const;
};

struct ConvTransposeStep {
    std::shared_ptr<ConvTranspose2DKernel> kernel;  // output size unused (computed per run)
    // Keras: output length = input * stride (same) or input * stride + max(k - stride, 0) (valid),
    // or an explicit output_padding; ONNX: pads/output_padding/output_shape.
    enum class SizeRule { keras_same, keras_valid, onnx } size_rule = SizeRule::onnx;
    int64_t output_padding_h = -1, output_padding_w = -1;  // -1: not given
    int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  // onnx
    int64_t output_shape_h = -1, output_shape_w = -1;                  // onnx output_shape
    bool auto_pad_upper = true;
    bool one_dimensional = false;
    OutputActivation activation;

    Tensor run(const Tensor& input) const;
};

struct PoolStep {
    PoolKind kind = PoolKind::max;
    Pool2DGeometry geometry;  // pads overwritten per run when padding is "same"
    PaddingRule padding;
    bool one_dimensional = false;

    Tensor run(const Tensor& input) const;
};

// y = x W (+ b) over the last axis of x.
//
// When the model's weight matrix is a float32 view of the file bytes, the
// step runs from it in place (core/ops/gemv.h) and holds the Tensor, whose
// storage keeps the bytes alive; otherwise it packs its own copy for
// gemm_packed. A large model's dense layers are most of its bytes, so the
// in-place path is what keeps an opened and built model near its file size.
struct DenseStep {
    std::shared_ptr<PackedMatrix> weights;  // packed path; null when `matrix` is used
    Tensor matrix;                          // in-place path: k x n, or n x k when transposed
    bool matrix_transposed = false;
    std::vector<float> bias;  // empty when absent
    OutputActivation activation;

    bool runs_in_place() const { return !weights; }
    int64_t input_size() const;   // k
    int64_t output_size() const;  // n
    Tensor run(const Tensor& input) const;
};

// A dense step over a 2-D weight `matrix` given as k x n, or as n x k when
// `transposed` (ONNX transB), scaled by `alpha`. In place when the matrix
// is a float32 view and alpha is 1; packed (with no intermediate float
// copy for float32 weights) otherwise.
DenseStep make_dense_step(const Tensor& matrix, bool transposed, float alpha = 1.0f);

// The pads of one spatial axis (height or width) under `rule` for an input
// of `size`: what every step, backward and kernel response uses.
PadPair resolve_padding(const PaddingRule& rule, bool height, int64_t size, int64_t kernel, int64_t stride, int64_t dilation);

}  // namespace convscope
