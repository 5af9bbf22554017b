#include "core/ops/activation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/base/thread_pool.h"
#include "core/simd/simd.h"

namespace convscope {

float activation_scalar(const Activation& a, float x) {
    switch (a.kind) {
        case ActivationKind::linear: return x;
        case ActivationKind::relu: {
            // Keras ReLU: x >= max_value -> max_value; threshold <= x -> x;
            // else negative_slope * (x - threshold).
            if (x >= a.alpha) return a.alpha;
            if (x >= a.gamma) return x;
            return a.beta * (x - a.gamma);
        }
        case ActivationKind::clip: return std::min(std::max(x, a.alpha), a.beta);
        case ActivationKind::leaky_relu: return x >= 0.0f ? x : a.alpha * x;
        case ActivationKind::elu: return x > 0.0f ? x : a.alpha * (std::exp(x) - 1.0f);
        case ActivationKind::selu: {
            const float scale = 1.05070098735548049342f, alpha = 1.67326324235437728481f;
            return x > 0.0f ? scale * x : scale * alpha * (std::exp(x) - 1.0f);
        }
        case ActivationKind::sigmoid: return 1.0f / (1.0f + std::exp(-x));
        case ActivationKind::hard_sigmoid: return std::min(1.0f, std::max(0.0f, a.alpha * x + a.beta));
        case ActivationKind::hard_swish: return x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f;
        case ActivationKind::tanh: return std::tanh(x);
        case ActivationKind::softplus: return x > 20.0f ? x : std::log1p(std::exp(x));
        case ActivationKind::softsign: return x / (1.0f + std::fabs(x));
        case ActivationKind::swish: return x / (1.0f + std::exp(-x));
        case ActivationKind::gelu: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
        case ActivationKind::gelu_tanh: {
            const float k = 0.7978845608028654f;  // sqrt(2 / pi)
            return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
        }
        case ActivationKind::exponential: return std::exp(x);
        case ActivationKind::log: return std::log(x);
        case ActivationKind::sqrt: return std::sqrt(x);
        case ActivationKind::negate: return -x;
        case ActivationKind::absolute: return std::fabs(x);
        case ActivationKind::reciprocal: return 1.0f / x;
        case ActivationKind::erf: return std::erf(x);
        case ActivationKind::floor: return std::floor(x);
        case ActivationKind::ceil: return std::ceil(x);
    }
    return x;
}

void activation_reference(const Activation& activation, float* data, int64_t count) {
    for (int64_t i = 0; i < count; ++i) data[i] = activation_scalar(activation, data[i]);
}

void apply_activation(const Activation& a, float* data, int64_t count) {
    if (a.kind == ActivationKind::linear) return;
    apply_activation(a, data, data, count);
}

namespace {

void activation_range(const Activation& a, const float* input, float* output, int64_t count) {
    using namespace simd;
    // Each vector is loaded before it is stored, so input == output is fine.
    int64_t i = 0;
    auto vector_loop = [&](auto f) {
        for (; i + 16 <= count; i += 16) {
            v128_t x0 = load_f32x4(input + i), x1 = load_f32x4(input + i + 4);
            v128_t x2 = load_f32x4(input + i + 8), x3 = load_f32x4(input + i + 12);
            store_f32x4(output + i, f(x0));
            store_f32x4(output + i + 4, f(x1));
            store_f32x4(output + i + 8, f(x2));
            store_f32x4(output + i + 12, f(x3));
        }
        for (; i + 4 <= count; i += 4) store_f32x4(output + i, f(load_f32x4(input + i)));
    };
    switch (a.kind) {
        case ActivationKind::linear:
            vector_loop([](v128_t x) { return x; });
            break;
        case ActivationKind::relu:
            // The plain relu (no cap, no slope, no threshold) is by far the
            // most common; the general Keras ReLU stays scalar.
            if (std::isinf(a.alpha) && a.alpha > 0 && a.beta == 0.0f && a.gamma == 0.0f) {
                v128_t zero = zero_f32x4();
                vector_loop([zero](v128_t x) { return max_f32x4(x, zero); });
            }
            break;
        case ActivationKind::clip: {
            v128_t low = splat_f32x4(a.alpha), high = splat_f32x4(a.beta);
            vector_loop([low, high](v128_t x) { return min_f32x4(max_f32x4(x, low), high); });
            break;
        }
        case ActivationKind::leaky_relu: {
            v128_t zero = zero_f32x4(), slope = splat_f32x4(a.alpha);
            vector_loop([zero, slope](v128_t x) {
                return wasm_v128_bitselect(wasm_f32x4_mul(x, slope), x, wasm_f32x4_lt(x, zero));
            });
            break;
        }
        default: break;
    }
    for (; i < count; ++i) output[i] = activation_scalar(a, input[i]);
}

}  // namespace

void apply_activation(const Activation& a, const float* input, float* output, int64_t count) {
    // Threads split blocks whose starts are multiples of 16, so every element
    // goes through the same vector or scalar step as with one thread.
    constexpr int64_t block = 4096;
    const int64_t blocks = count / block;
    if (blocks < 4) {
        activation_range(a, input, output, count);
        return;
    }
    parallel_for(blocks, [&](int64_t first_block, int64_t end_block) {
        const int64_t begin = first_block * block, end = end_block == blocks ? count : end_block * block;
        activation_range(a, input + begin, output + begin, end - begin);
    }, 4);
}

void softmax(const float* input, float* output, int64_t outer, int64_t axis_length, int64_t inner, bool log_softmax) {
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t in = 0; in < inner; ++in) {
            const float* x = input + o * axis_length * inner + in;
            float* y = output + o * axis_length * inner + in;
            float largest = -std::numeric_limits<float>::infinity();
            for (int64_t i = 0; i < axis_length; ++i) largest = std::max(largest, x[i * inner]);
            double sum = 0.0;
            for (int64_t i = 0; i < axis_length; ++i) sum += std::exp(static_cast<double>(x[i * inner] - largest));
            if (log_softmax) {
                float log_sum = static_cast<float>(std::log(sum));
                for (int64_t i = 0; i < axis_length; ++i) y[i * inner] = x[i * inner] - largest - log_sum;
            } else {
                for (int64_t i = 0; i < axis_length; ++i) {
                    y[i * inner] = static_cast<float>(std::exp(static_cast<double>(x[i * inner] - largest)) / sum);
                }
            }
        }
    }
}

}  // namespace convscope
