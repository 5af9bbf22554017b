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

namespace convscope::simd {

constexpr int f32_lanes = 4;

inline v128_t load_f32x4(const float* p) { return wasm_v128_load(p); }
inline void store_f32x4(float* p, v128_t v) { wasm_v128_store(p, v); }
inline v128_t splat_f32x4(float value) { return wasm_f32x4_splat(value); }
inline v128_t zero_f32x4() { return wasm_f32x4_splat(0.0f); }

// Loads `count` (0..4) floats, zero-filling the rest; for loop tails so a
// kernel never reads past the end of a tensor.
inline v128_t load_partial_f32x4(const float* p, int count) {
    alignas(16) float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < count; ++i) lanes[i] = p[i];
    return wasm_v128_load(lanes);
}

inline void store_partial_f32x4(float* p, v128_t v, int count) {
    alignas(16) float lanes[4];
    wasm_v128_store(lanes, v);
    for (int i = 0; i < count; ++i) p[i] = lanes[i];
}

// Lane-wise max/min that return the first operand's lane when either is
// NaN on neither backend guaranteed; pooling inputs are finite in practice.
inline v128_t max_f32x4(v128_t a, v128_t b) { return wasm_f32x4_pmax(a, b); }
inline v128_t min_f32x4(v128_t a, v128_t b) { return wasm_f32x4_pmin(a, b); }

inline float reduce_max_f32x4(v128_t v) {
    float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
    float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
    float ab = a > b ? a : b, cd = c > d ? c : d;
    return ab > cd ? ab : cd;
}

}  // namespace convscope::simd
