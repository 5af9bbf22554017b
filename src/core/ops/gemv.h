// Dense layers straight from the model's weight matrix, with no packed copy.
//
// A dense layer at batch 1 reads every weight once per call, so it is bound
// by memory bandwidth, not arithmetic: running from the file's own bytes
// costs no speed, and saves the engine a second copy of the largest tensors
// of a VGG-like model (the reason opening a 95 MB model took 2.7x its size
// in the browser). Two layouts, as the formats store them:
//   - rows (Keras Dense kernel, ONNX MatMul / Gemm without transB):
//     W is k x n row-major, y = x W, computed as y += x[p] * W[p, :], a few
//     rows of x at a time so each row of W is read once per row group;
//   - transposed (ONNX Gemm with transB, PyTorch Linear): W is n x k
//     row-major, y[j] = dot(x, W[j, :]).
// x is m x k and y is m x n, both row-major and contiguous; bias (n values)
// may be null. Every SIMD load stays inside the matrices (tails of k and n
// run scalar).
#pragma once

#include <cstdint>

namespace convscope {

void gemv_rows(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y);
void gemv_rows_reference(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                         float* y);

void gemv_transposed(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias, float* y);
void gemv_transposed_reference(int64_t m, int64_t k, int64_t n, const float* x, const float* w, const float* bias,
                               float* y);

}  // namespace convscope
