// The WASM SIMD128 arithmetic peak the benchmark compares our convolutions
// against. Guarded as a whole: only the WebAssembly module has it.
//
// WASM SIMD128 has no fused multiply-add, so the best a kernel can do per
// instruction pair is f32x4.mul + f32x4.add = 8 FLOP. Sixteen independent
// accumulators hide the mul and add latencies so the loop is bound by the
// floating-point ports, not by a dependency chain: the shape of the inner
// loop of a register-blocked GEMM, without its loads.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "js_api/engine_api.h"

namespace {
// Measured on the benchmark machine (V8 in Node 20, best of 40 short loops):
// 4 chains 20, 8 chains 35, 12 chains 42, 16 chains 42.7 GFLOP/s. A mul+add
// chain is several cycles long, so fewer chains leave the FP ports idle.
constexpr int accumulator_count = 16;
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
        // Fully unrolled: one mul and one add per chain, no loop overhead between them.
#pragma unroll
        for (int a = 0; a < accumulator_count; ++a) acc[a] = wasm_f32x4_add(wasm_f32x4_mul(acc[a], scale), step);
    }
    v128_t sum = acc[0];
    for (int a = 1; a < accumulator_count; ++a) sum = wasm_f32x4_add(sum, acc[a]);
    return wasm_f32x4_extract_lane(sum, 0) + wasm_f32x4_extract_lane(sum, 1) +
           wasm_f32x4_extract_lane(sum, 2) + wasm_f32x4_extract_lane(sum, 3);
}

int cs_simd_peak_flops_per_iteration() { return accumulator_count * 4 * 2; }

}  // extern "C"
#endif  // __wasm_simd128__
