// Single-precision matrix multiply: C[m x n] = A[m x k] * B[k x n] (+ bias[n]).
//
// Dense layers, 1x1 convolutions and im2col'd convolutions all end here.
// B (the weights) is packed once, when a plan is built, into column panels
// of `gemm_panel_width` floats so the micro-kernel streams it contiguously;
// A (the activations) is read in place with a row stride.
#pragma once

#include <cstdint>
#include <vector>

namespace convscope {

constexpr int64_t gemm_panel_width = 8;

struct PackedMatrix {
    int64_t rows = 0;     // k
    int64_t columns = 0;  // n
    // ceil(n / 8) panels, each k x 8 floats, zero-padded past n.
    std::vector<float> panels;
};

// Packs B, given either as k x n row-major with row stride `ld`, or (when
// `transposed`) as n x k row-major with row stride `ld` (ONNX Gemm transB,
// PyTorch Linear weights).
PackedMatrix gemm_pack_b(const float* b, int64_t k, int64_t n, int64_t ld, bool transposed);

// C = A * B (+ bias), C row stride ldc. With accumulate, adds into C instead.
void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedMatrix& b, float* c,
                 int64_t ldc, const float* bias, bool accumulate = false);

// The scalar reference the SIMD path is tested against.
void gemm_reference(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float* c, int64_t ldc, const float* bias, bool accumulate = false);

}  // namespace convscope
