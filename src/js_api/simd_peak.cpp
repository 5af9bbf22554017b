// The WASM SIMD128 arithmetic peak the benchmark compares our convolutions
// against. Guarded as a whole: only the WebAssembly module has it.
//
// WASM SIMD128 has no fused multiply-add, so the best a kernel can do per
// instruction pair is f32x4.mul + f32x4.add = 8 FLOP. Eight independent
// accumulators hide the add latency (3-4 cycles on x86 engines) so the loop
// is bound by issue width, not by a dependency chain: the same shape as the
// inner loop of a register-blocked GEMM, without its loads.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "js_api/engine_api.h"

namespace {
constexpr int accumulator_count = 8;
}

extern "C" {

float cs_simd_peak_loop(int iterations) {
    // Multipliers just under 1 and small addends keep the values finite
    // however many iterations run.
    const v128_t scale = wasm_f32x4_splat(0.999999f);
    const v128_t step = wasm_f32x4_splat(1e-7f);
    v128_t acc[accumulator_count];
    for (int a = 0; a < accumulator_count; ++a) acc[a] = wasm_f32x4_splat(static_cast<float>(a + 1));
    for (int i = 0; i < iterations; ++i) {
        // Written out: the compiler must keep all eight chains in registers.
        acc[0] = wasm_f32x4_add(wasm_f32x4_mul(acc[0], scale), step);
        acc[1] = wasm_f32x4_add(wasm_f32x4_mul(acc[1], scale), step);
        acc[2] = wasm_f32x4_add(wasm_f32x4_mul(acc[2], scale), step);
        acc[3] = wasm_f32x4_add(wasm_f32x4_mul(acc[3], scale), step);
        acc[4] = wasm_f32x4_add(wasm_f32x4_mul(acc[4], scale), step);
        acc[5] = wasm_f32x4_add(wasm_f32x4_mul(acc[5], scale), step);
        acc[6] = wasm_f32x4_add(wasm_f32x4_mul(acc[6], scale), step);
        acc[7] = wasm_f32x4_add(wasm_f32x4_mul(acc[7], scale), step);
    }
    v128_t sum = acc[0];
    for (int a = 1; a < accumulator_count; ++a) sum = wasm_f32x4_add(sum, acc[a]);
    return wasm_f32x4_extract_lane(sum, 0) + wasm_f32x4_extract_lane(sum, 1) +
           wasm_f32x4_extract_lane(sum, 2) + wasm_f32x4_extract_lane(sum, 3);
}

int cs_simd_peak_flops_per_iteration() { return accumulator_count * 4 * 2; }

}  // extern "C"
#endif  // __wasm_simd128__
