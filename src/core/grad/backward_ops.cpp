#include "core/grad/backward_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/base/error.h"

namespace convscope {

// --- Convolution -------------------------------------------------------------

Conv2DBackwardWeights conv2d_backward_pack(const Conv2DGeometry& g, const float* weights) {
    g.validate("convolution backward");
    Conv2DBackwardWeights packed;
    packed.geometry = g;
    const int64_t taps = g.kernel_h * g.kernel_w;
    const int64_t cig = g.in_channels / g.groups, cog = g.out_channels / g.groups;
    if (g.groups == g.in_channels && g.groups > 1) {
        packed.is_depthwise = true;
        packed.depthwise.assign(weights, weights + taps * g.out_channels);
        return packed;
    }
    // W_g is (taps * cig) x cog inside a row of out_channels; W_g^T as the
    // GEMM's B is "n x k stored row-major" = W_g itself, hence transposed=true.
    for (int64_t group = 0; group < g.groups; ++group) {
        packed.transposed_groups.push_back(gemm_pack_b(weights + group * cog, cog, taps * cig, g.out_channels, true));
    }
    return packed;
}

void conv2d_backward_input(const Conv2DBackwardWeights& weights, const Conv2DGeometry& g, int64_t batch,
                           int64_t input_h, int64_t input_w, const float* dy, float* dx) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t cin = g.in_channels, cout = g.out_channels;
    std::fill(dx, dx + batch * input_h * input_w * cin, 0.0f);
    if (oh <= 0 || ow <= 0) return;
    if (weights.is_depthwise) {
        const int64_t multiplier = cout / cin;
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t oy = 0; oy < oh; ++oy)
                for (int64_t ox = 0; ox < ow; ++ox) {
                    const float* gy = dy + ((n * oh + oy) * ow + ox) * cout;
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                        if (iy < 0 || iy >= input_h) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                            if (ix < 0 || ix >= input_w) continue;
                            const float* w = weights.depthwise.data() + (ky * g.kernel_w + kx) * cout;
                            float* gx = dx + ((n * input_h + iy) * input_w + ix) * cin;
                            for (int64_t c = 0; c < cin; ++c) {
                                float sum = 0.0f;
                                for (int64_t m = 0; m < multiplier; ++m) sum += gy[c * multiplier + m] * w[c * multiplier + m];
                                gx[c] += sum;
                            }
                        }
                    }
                }
        return;
    }
    const int64_t taps = g.kernel_h * g.kernel_w;
    const int64_t cig = cin / g.groups, cog = cout / g.groups;
    const int64_t pixels = oh * ow;
    // Chunks of output pixels bound the column scratch (as the forward im2col does).
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(pixels, (1 << 20) / std::max<int64_t>(taps * cig, 1)));
    std::vector<float> columns(static_cast<size_t>(chunk * taps * cig));
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t group = 0; group < g.groups; ++group) {
            for (int64_t first = 0; first < pixels; first += chunk) {
                const int64_t count = std::min(chunk, pixels - first);
                gemm_packed(count, dy + (n * pixels + first) * cout + group * cog, cout,
                            weights.transposed_groups[static_cast<size_t>(group)], columns.data(), taps * cig, nullptr);
                for (int64_t p = 0; p < count; ++p) {
                    const int64_t oy = (first + p) / ow, ox = (first + p) % ow;
                    const float* column = columns.data() + p * taps * cig;
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                        if (iy < 0 || iy >= input_h) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                            if (ix < 0 || ix >= input_w) continue;
                            const float* source = column + (ky * g.kernel_w + kx) * cig;
                            float* gx = dx + ((n * input_h + iy) * input_w + ix) * cin + group * cig;
                            for (int64_t c = 0; c < cig; ++c) gx[c] += source[c];
                        }
                    }
                }
            }
        }
    }
}

void conv2d_backward_input_reference(const Conv2DGeometry& g, const float* weights, int64_t batch, int64_t input_h,
                                     int64_t input_w, const float* dy, float* dx) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    const int64_t cin = g.in_channels, cout = g.out_channels;
    const int64_t cig = cin / g.groups, cog = cout / g.groups;
    std::fill(dx, dx + batch * input_h * input_w * cin, 0.0f);
    for (int64_t n = 0; n < batch; ++n)
        for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox)
                for (int64_t ky = 0; ky < g.kernel_h; ++ky)
                    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                        int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
                        int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                        if (iy < 0 || iy >= input_h || ix < 0 || ix >= input_w) continue;
                        for (int64_t o = 0; o < cout; ++o) {
                            int64_t group = o / cog;
                            float gy = dy[((n * oh + oy) * ow + ox) * cout + o];
                            for (int64_t i = 0; i < cig; ++i) {
                                float w = weights[((ky * g.kernel_w + kx) * cig + i) * cout + o];
                                dx[((n * input_h + iy) * input_w + ix) * cin + group * cig + i] += gy * w;
                            }
                        }
                    }
}

// --- Dense -----------------------------------------------------------------

PackedMatrix dense_backward_pack(const float* weights, int64_t k, int64_t n) {
    // B = W^T (n x k); stored transposed that is W itself, k x n with row stride n.
    return gemm_pack_b(weights, n, k, n, true);
}

void dense_backward_input(const PackedMatrix& packed_transpose, int64_t rows, const float* dy, float* dx) {
    gemm_packed(rows, dy, packed_transpose.rows, packed_transpose, dx, packed_transpose.columns, nullptr);
}

// --- Pooling ---------------------------------------------------------------

namespace {

int64_t counted_taps(int64_t start, int64_t kernel, int64_t dilation, int64_t input_size, int64_t pad_end,
                     bool count_include_pad) {
    // Mirrors the forward average: with count_include_pad the trailing
    // padding counts but positions beyond it (ceil mode) do not.
    int64_t low = count_include_pad ? std::numeric_limits<int64_t>::min() : 0;
    int64_t high = count_include_pad ? input_size + pad_end : input_size;
    int64_t taps = 0;
    for (int64_t k = 0; k < kernel; ++k) {
        int64_t position = start + k * dilation;
        if (position >= low && position < high) ++taps;
    }
    return taps;
}

}  // namespace

void pool2d_backward(PoolKind kind, const Pool2DGeometry& g, const float* input, int64_t batch, int64_t input_h,
                     int64_t input_w, int64_t channels, const float* dy, float* dx) {
    const int64_t oh = g.output_h(input_h), ow = g.output_w(input_w);
    std::fill(dx, dx + batch * input_h * input_w * channels, 0.0f);
    for (int64_t n = 0; n < batch; ++n)
        for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox) {
                const int64_t y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
                const float* gy = dy + ((n * oh + oy) * ow + ox) * channels;
                if (kind == PoolKind::average) {
                    int64_t count = counted_taps(y0, g.kernel_h, g.dilation_h, input_h, g.pad_bottom, g.count_include_pad) *
                                    counted_taps(x0, g.kernel_w, g.dilation_w, input_w, g.pad_right, g.count_include_pad);
                    if (count <= 0) continue;
                    const float share = 1.0f / static_cast<float>(count);
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t iy = y0 + ky * g.dilation_h;
                        if (iy < 0 || iy >= input_h) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ix = x0 + kx * g.dilation_w;
                            if (ix < 0 || ix >= input_w) continue;
                            float* gx = dx + ((n * input_h + iy) * input_w + ix) * channels;
                            for (int64_t c = 0; c < channels; ++c) gx[c] += gy[c] * share;
                        }
                    }
                    continue;
                }
                for (int64_t c = 0; c < channels; ++c) {
                    float best = -std::numeric_limits<float>::infinity();
                    int64_t best_index = -1;
                    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
                        int64_t iy = y0 + ky * g.dilation_h;
                        if (iy < 0 || iy >= input_h) continue;
                        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                            int64_t ix = x0 + kx * g.dilation_w;
                            if (ix < 0 || ix >= input_w) continue;
                            int64_t index = ((n * input_h + iy) * input_w + ix) * channels + c;
                            if (best_index < 0 || input[index] > best) {
                                best = input[index];
                                best_index = index;
                            }
                        }
                    }
                    if (best_index >= 0) dx[best_index] += gy[c];
                }
            }
}

void global_pool_backward(PoolKind kind, const float* input, int64_t batch, int64_t pixels, int64_t channels,
                          const float* dy, float* dx) {
    std::fill(dx, dx + batch * pixels * channels, 0.0f);
    for (int64_t n = 0; n < batch; ++n)
        for (int64_t c = 0; c < channels; ++c) {
            const float g = dy[n * channels + c];
            if (kind == PoolKind::average) {
                const float share = pixels > 0 ? g / static_cast<float>(pixels) : 0.0f;
                for (int64_t p = 0; p < pixels; ++p) dx[(n * pixels + p) * channels + c] = share;
                continue;
            }
            int64_t best = -1;
            for (int64_t p = 0; p < pixels; ++p) {
                int64_t index = (n * pixels + p) * channels + c;
                if (best < 0 || input[index] > input[best]) best = index;
            }
            if (best >= 0) dx[best] = g;
        }
}

// --- Activations -----------------------------------------------------------

bool activation_derivative_from_output(const Activation& a) {
    switch (a.kind) {
        case ActivationKind::relu: return a.beta == 0.0f && a.gamma == 0.0f;
        case ActivationKind::leaky_relu: return a.alpha > 0.0f;
        case ActivationKind::linear: case ActivationKind::clip: case ActivationKind::elu: case ActivationKind::selu:
        case ActivationKind::sigmoid: case ActivationKind::hard_sigmoid: case ActivationKind::tanh:
        case ActivationKind::softplus: case ActivationKind::softsign: case ActivationKind::exponential:
        case ActivationKind::log: case ActivationKind::sqrt: case ActivationKind::negate:
        case ActivationKind::reciprocal: case ActivationKind::floor: case ActivationKind::ceil:
            return true;
        default: return false;
    }
}

namespace {

constexpr float selu_scale = 1.05070098735548049342f;
constexpr float selu_alpha = 1.67326324235437728481f;

// f'(x) from the input (when given) or the output.
float derivative(const Activation& a, const float* x, float y) {
    switch (a.kind) {
        case ActivationKind::linear: return 1.0f;
        case ActivationKind::relu:
            // Zero slope at the kink, as TensorFlow and PyTorch define it.
            if (!x) return y > 0.0f && y < a.alpha ? 1.0f : 0.0f;
            if (*x >= a.alpha) return 0.0f;
            return *x > a.gamma ? 1.0f : a.beta;
        case ActivationKind::clip: return y > a.alpha && y < a.beta ? 1.0f : 0.0f;
        case ActivationKind::leaky_relu: return (x ? *x : y) > 0.0f ? 1.0f : a.alpha;
        case ActivationKind::elu: return (x ? *x : y) > 0.0f ? 1.0f : y + a.alpha;
        case ActivationKind::selu: return (x ? *x : y) > 0.0f ? selu_scale : y + selu_scale * selu_alpha;
        case ActivationKind::sigmoid: return y * (1.0f - y);
        case ActivationKind::hard_sigmoid: return y > 0.0f && y < 1.0f ? a.alpha : 0.0f;
        case ActivationKind::tanh: return 1.0f - y * y;
        case ActivationKind::softplus: return -std::expm1(-y);
        case ActivationKind::softsign: return (1.0f - std::fabs(y)) * (1.0f - std::fabs(y));
        case ActivationKind::exponential: return y;
        case ActivationKind::log: return std::exp(-y);
        case ActivationKind::sqrt: return 0.5f / y;
        case ActivationKind::negate: return -1.0f;
        case ActivationKind::reciprocal: return -y * y;
        case ActivationKind::floor: case ActivationKind::ceil: return 0.0f;
        case ActivationKind::absolute: return *x > 0.0f ? 1.0f : *x < 0.0f ? -1.0f : 0.0f;
        case ActivationKind::hard_swish:
            if (*x <= -3.0f) return 0.0f;
            if (*x >= 3.0f) return 1.0f;
            return (2.0f * *x + 3.0f) / 6.0f;
        case ActivationKind::swish: {
            float s = 1.0f / (1.0f + std::exp(-*x));
            return s * (1.0f + *x * (1.0f - s));
        }
        case ActivationKind::gelu: {
            const float cdf = 0.5f * (1.0f + std::erf(*x * 0.70710678118654752f));
            const float pdf = std::exp(-0.5f * *x * *x) * 0.3989422804014327f;
            return cdf + *x * pdf;
        }
        case ActivationKind::gelu_tanh: {
            const float k = 0.7978845608028654f, v = *x;
            float t = std::tanh(k * (v + 0.044715f * v * v * v));
            return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * k * (1.0f + 3.0f * 0.044715f * v * v);
        }
        case ActivationKind::erf: return 1.1283791670955126f * std::exp(-*x * *x);
    }
    return 1.0f;
}

}  // namespace

void activation_backward(const Activation& a, const float* input, const float* output, const float* dy, float* dx,
                         int64_t count) {
    if (!input && !activation_derivative_from_output(a)) {
        throw UnsupportedError("activation backward: this activation needs its input, which was not given");
    }
    for (int64_t i = 0; i < count; ++i) dx[i] = dy[i] * derivative(a, input ? input + i : nullptr, output[i]);
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t outer, int64_t length, int64_t inner,
                      bool log_softmax) {
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
            const int64_t base = o * length * inner + i;
            double dot = 0.0;
            for (int64_t k = 0; k < length; ++k) {
                const int64_t at = base + k * inner;
                dot += log_softmax ? dy[at] : dy[at] * y[at];
            }
            for (int64_t k = 0; k < length; ++k) {
                const int64_t at = base + k * inner;
                // softmax: y (dy - <dy, y>); log-softmax: dy - softmax * sum(dy).
                dx[at] = log_softmax ? static_cast<float>(dy[at] - std::exp(y[at]) * dot)
                                     : static_cast<float>(y[at] * (dy[at] - dot));
            }
        }
}

// --- Broadcasting ----------------------------------------------------------

Tensor reduce_to_shape(const Tensor& gradient, const Shape& shape) {
    if (gradient.shape() == shape) return gradient;
    const int rank = gradient.rank();
    if (static_cast<int>(shape.size()) > rank) throw Error("reduce_to_shape: target has a higher rank than the gradient");
    // Align the target to the right, as NumPy broadcasting does.
    Shape aligned(static_cast<size_t>(rank - static_cast<int>(shape.size())), 1);
    aligned.insert(aligned.end(), shape.begin(), shape.end());
    Tensor out = Tensor::zeros(DType::f32, shape);
    float* o = out.mutable_f32();
    const float* g = gradient.f32();
    std::vector<int64_t> out_strides(static_cast<size_t>(rank), 0);
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
        if (aligned[d] != 1 && aligned[d] != gradient.shape()[d]) {
            throw Error(concat("reduce_to_shape: ", shape_to_string(shape), " does not broadcast to ",
                               shape_to_string(gradient.shape())));
        }
        out_strides[d] = aligned[d] == 1 ? 0 : stride;
        stride *= aligned[d];
    }
    std::vector<int64_t> index(static_cast<size_t>(rank), 0);
    int64_t offset = 0;
    for (uint64_t i = 0; i < gradient.element_count(); ++i) {
        o[offset] += g[i];
        for (int d = rank - 1; d >= 0; --d) {
            if (++index[d] < gradient.shape()[d]) {
                offset += out_strides[d];
                break;
            }
            offset -= out_strides[d] * (index[d] - 1);
            index[d] = 0;
        }
    }
    return out;
}

std::pair<Tensor, Tensor> binary_backward(BinaryKind kind, const Tensor& a_in, const Tensor& b_in, const Tensor& dy) {
    Tensor a = a_in.to_float32(), b = b_in.to_float32();
    const Shape& out_shape = dy.shape();
    // Broadcast both operands to the output shape through the forward op.
    Tensor zero_like = Tensor::zeros(DType::f32, out_shape);
    Tensor a_full = binary_op(BinaryKind::add, a, zero_like);
    Tensor b_full = binary_op(BinaryKind::add, b, zero_like);
    Tensor da = Tensor::zeros(DType::f32, out_shape), db = Tensor::zeros(DType::f32, out_shape);
    const float* av = a_full.f32();
    const float* bv = b_full.f32();
    const float* g = dy.f32();
    float* ga = da.mutable_f32();
    float* gb = db.mutable_f32();
    for (uint64_t i = 0; i < dy.element_count(); ++i) {
        switch (kind) {
            case BinaryKind::add: ga[i] = g[i]; gb[i] = g[i]; break;
            case BinaryKind::subtract: ga[i] = g[i]; gb[i] = -g[i]; break;
            case BinaryKind::multiply: ga[i] = g[i] * bv[i]; gb[i] = g[i] * av[i]; break;
            case BinaryKind::divide: ga[i] = g[i] / bv[i]; gb[i] = -g[i] * av[i] / (bv[i] * bv[i]); break;
            case BinaryKind::maximum: (av[i] >= bv[i] ? ga[i] : gb[i]) = g[i]; break;
            case BinaryKind::minimum: (av[i] <= bv[i] ? ga[i] : gb[i]) = g[i]; break;
            case BinaryKind::power: {
                float p = std::pow(av[i], bv[i]);
                ga[i] = g[i] * bv[i] * std::pow(av[i], bv[i] - 1.0f);
                gb[i] = av[i] > 0.0f ? g[i] * p * std::log(av[i]) : 0.0f;
                break;
            }
        }
    }
    return {reduce_to_shape(da, a.shape()), reduce_to_shape(db, b.shape())};
}

// --- Data movement -------------------------------------------------------------

void route_backward(const std::vector<int64_t>& source, const float* dy, float* dx, int64_t input_count) {
    std::fill(dx, dx + input_count, 0.0f);
    for (size_t j = 0; j < source.size(); ++j) {
        int64_t s = source[j];
        if (s >= 0 && s < input_count) dx[s] += dy[j];
    }
}

Tensor transpose_backward(const Tensor& dy, const std::vector<int64_t>& perm) {
    std::vector<int64_t> inverse(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) inverse[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
    return transpose(dy, inverse);
}

Tensor reduce_backward(ReduceKind kind, const Tensor& input_any, const Tensor& output_any, const std::vector<int64_t>& axes,
                       const Tensor& dy_any) {
    Tensor input = input_any.to_float32();
    Shape kept = input.shape();
    int64_t reduced_count = 1;
    for (int64_t a : axes) {
        reduced_count *= kept[static_cast<size_t>(a)];
        kept[static_cast<size_t>(a)] = 1;
    }
    Tensor dy = dy_any.to_float32().reshaped(kept);
    Tensor zero = Tensor::zeros(DType::f32, input.shape());
    Tensor spread = binary_op(BinaryKind::add, dy, zero);  // dy broadcast over the reduced axes
    float* s = spread.mutable_f32();
    if (kind == ReduceKind::mean) {
        for (uint64_t i = 0; i < spread.element_count(); ++i) s[i] /= static_cast<float>(std::max<int64_t>(reduced_count, 1));
    } else if (kind == ReduceKind::max || kind == ReduceKind::min) {
        Tensor picked = binary_op(BinaryKind::add, output_any.to_float32().reshaped(kept), zero);
        const float* p = picked.f32();
        const float* x = input.f32();
        for (uint64_t i = 0; i < spread.element_count(); ++i) if (x[i] != p[i]) s[i] = 0.0f;
    }
    return spread;
}

}  // namespace convscope
