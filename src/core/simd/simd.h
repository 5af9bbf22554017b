// The one SIMD mapping header (after ggml): kernels are written once against
// the WebAssembly SIMD128 intrinsics. In the browser build these are the real
// wasm_simd128.h; natively SIMDe implements the same names with SSE/NEON or
// scalar code, so native tests run exactly the kernels that ship.
//
// CONVSCOPE_SIMD is 1 when the intrinsics are available. Code outside
// src/core/simd and src/core/ops should not include this header.
#pragma once

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define CONVSCOPE_SIMD 1
#define CONVSCOPE_SIMD_BACKEND "wasm-simd128"
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#define CONVSCOPE_SIMD 1
#define CONVSCOPE_SIMD_BACKEND "simde"
#endif

namespace convscope::simd {

// Horizontal sum of four float lanes.
inline float reduce_add_f32x4(v128_t v) {
    return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
           wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

// Fused-looking multiply-add; WASM SIMD128 has no FMA, so this is mul + add
// on both backends and results match bit for bit between them.
inline v128_t madd_f32x4(v128_t acc, v128_t a, v128_t b) {
    return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b));
}

}  // namespace convscope::simd
