// Element-wise activations and unary math, in place on float buffers, and
// softmax along an axis. The piecewise-linear ones (relu, relu6, leaky relu,
// clip, linear) have a SIMD path; the transcendental ones use std:: maths so
// results match the frameworks' float32 to ~1e-6.
#pragma once

#include <cstdint>
#include <string>

namespace convscope {

enum class ActivationKind {
    linear,
    relu,          // Keras ReLU layer: max_value (alpha), negative_slope (beta), threshold (gamma)
    clip,          // [alpha, beta]; relu6 is clip(0, 6)
    leaky_relu,    // alpha
    elu,           // alpha
    selu,
    sigmoid,
    hard_sigmoid,  // clip(alpha * x + beta, 0, 1)
    hard_swish,    // x * relu6(x + 3) / 6
    tanh,
    softplus,
    softsign,
    swish,         // x * sigmoid(x), a.k.a. silu
    gelu,          // exact (erf)
    gelu_tanh,     // tanh approximation
    exponential,
    log,
    sqrt,
    negate,
    absolute,
    reciprocal,
    erf,
    floor,
    ceil,
};

struct Activation {
    ActivationKind kind = ActivationKind::linear;
    float alpha = 0.0f;
    float beta = 0.0f;
    float gamma = 0.0f;
};

// Keras activation names ("relu", ...; "softmax" is not one of these: the
// Keras compiler's keras_activation() handles it). Returns false for unknown names. `keras3` picks Keras 3's
// hard_sigmoid (relu6(x + 3) / 6) over tf.keras's (0.2 x + 0.5).
bool activation_from_keras_name(const std::string& name, bool keras3, Activation& out);

float activation_scalar(const Activation& activation, float x);
void activation_reference(const Activation& activation, float* data, int64_t count);
void apply_activation(const Activation& activation, float* data, int64_t count);
// Out of place: output[i] = f(input[i]) in one pass (output may equal input).
void apply_activation(const Activation& activation, const float* input, float* output, int64_t count);

// Softmax (or log-softmax) over `axis_length` elements spaced `inner` apart,
// for each of `outer` blocks: a tensor's [outer, axis, inner] view.
void softmax(const float* input, float* output, int64_t outer, int64_t axis_length, int64_t inner, bool log_softmax = false);

}  // namespace convscope
