#include "core/ops/elementwise.h"

#include <algorithm>
#include <cmath>

#include "core/base/error.h"
#include "core/base/thread_pool.h"
#include "core/simd/simd.h"

namespace convscope {

const char* binary_kind_name(BinaryKind kind) {
    switch (kind) {
        case BinaryKind::add: return "add";
        case BinaryKind::subtract: return "subtract";
        case BinaryKind::multiply: return "multiply";
        case BinaryKind::divide: return "divide";
        case BinaryKind::maximum: return "maximum";
        case BinaryKind::minimum: return "minimum";
        case BinaryKind::power: return "power";
    }
    return "?";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* context) {
    size_t rank = std::max(a.size(), b.size());
    Shape out(rank, 1);
    for (size_t i = 0; i < rank; ++i) {
        int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da != db && da != 1 && db != 1) {
            throw UnsupportedError(concat(context, ": shapes ", shape_to_string(a), " and ", shape_to_string(b),
                                          " do not broadcast (dimension ", i, ": ", da, " vs ", db, ")"));
        }
        out[i] = da == 1 ? db : da;
    }
    return out;
}

namespace {

inline float apply_binary(BinaryKind kind, float x, float y) {
    switch (kind) {
        case BinaryKind::add: return x + y;
        case BinaryKind::subtract: return x - y;
        case BinaryKind::multiply: return x * y;
        case BinaryKind::divide: return x / y;
        case BinaryKind::maximum: return std::max(x, y);
        case BinaryKind::minimum: return std::min(x, y);
        case BinaryKind::power: return std::pow(x, y);
    }
    return 0.0f;
}

// Element strides of `shape` seen through the broadcast `out_shape`
// (0 where the operand is broadcast).
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out_shape) {
    std::vector<int64_t> strides(out_shape.size(), 0);
    int64_t stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        size_t out_axis = i + (out_shape.size() - shape.size());
        strides[out_axis] = shape[i] == 1 ? 0 : stride;
        stride *= shape[i];
    }
    return strides;
}

void binary_general(BinaryKind kind, const Tensor& a, const Tensor& b, Tensor& out) {
    const Shape& shape = out.shape();
    std::vector<int64_t> sa = broadcast_strides(a.shape(), shape), sb = broadcast_strides(b.shape(), shape);
    std::vector<int64_t> index(shape.size(), 0);
    const float* pa = a.f32();
    const float* pb = b.f32();
    float* po = out.mutable_f32();
    uint64_t total = out.element_count();
    int64_t offset_a = 0, offset_b = 0;
    for (uint64_t i = 0; i < total; ++i) {
        po[i] = apply_binary(kind, pa[offset_a], pb[offset_b]);
        for (size_t axis = shape.size(); axis-- > 0;) {
            offset_a += sa[axis];
            offset_b += sb[axis];
            if (++index[axis] < shape[axis]) break;
            offset_a -= sa[axis] * shape[axis];
            offset_b -= sb[axis] * shape[axis];
            index[axis] = 0;
        }
    }
}

v128_t apply_binary_simd(BinaryKind kind, v128_t x, v128_t y) {
    switch (kind) {
        case BinaryKind::add: return wasm_f32x4_add(x, y);
        case BinaryKind::subtract: return wasm_f32x4_sub(x, y);
        case BinaryKind::multiply: return wasm_f32x4_mul(x, y);
        case BinaryKind::divide: return wasm_f32x4_div(x, y);
        case BinaryKind::maximum: return wasm_f32x4_max(x, y);
        case BinaryKind::minimum: return wasm_f32x4_min(x, y);
        case BinaryKind::power: break;
    }
    return x;
}

// out[i] = a[i] op b[i % b_length] (b_length == 1: scalar b); and the
// mirrored form when the short operand is on the left.
void binary_rows(BinaryKind kind, const float* a, const float* b, float* out, int64_t total, int64_t b_length,
                 bool short_on_left) {
    using namespace simd;
    if (b_length == 1) {
        v128_t bv = splat_f32x4(b[0]);
        int64_t i = 0;
        for (; i + 4 <= total; i += 4) {
            v128_t av = load_f32x4(a + i);
            store_f32x4(out + i, short_on_left ? apply_binary_simd(kind, bv, av) : apply_binary_simd(kind, av, bv));
        }
        for (; i < total; ++i) out[i] = short_on_left ? apply_binary(kind, b[0], a[i]) : apply_binary(kind, a[i], b[0]);
        return;
    }
    for (int64_t row = 0; row < total; row += b_length) {
        const float* ar = a + row;
        float* orow = out + row;
        int64_t i = 0;
        for (; i + 4 <= b_length; i += 4) {
            v128_t av = load_f32x4(ar + i), bv = load_f32x4(b + i);
            store_f32x4(orow + i, short_on_left ? apply_binary_simd(kind, bv, av) : apply_binary_simd(kind, av, bv));
        }
        for (; i < b_length; ++i) orow[i] = short_on_left ? apply_binary(kind, b[i], ar[i]) : apply_binary(kind, ar[i], b[i]);
    }
}

// out[(o * middle + m) * inner + i] = a[same] op b[m]: the short operand
// varies along one block of axes (NCHW per-channel [1, C, 1, 1]); mirrored
// when it is on the left.
void binary_middle(BinaryKind kind, const float* a, const float* b, float* out, int64_t outer, int64_t middle,
                   int64_t inner, bool short_on_left) {
    using namespace simd;
    // Threads split the (outer, middle) rows: independent outputs.
    parallel_for(outer * middle, [&](int64_t first_row, int64_t end_row) {
        for (int64_t row = first_row; row < end_row; ++row) {
            const int64_t m = row % middle;
            const int64_t base = row * inner;
            const float value = b[m];
            const v128_t bv = splat_f32x4(value);
            int64_t i = 0;
            for (; i + 4 <= inner; i += 4) {
                v128_t av = load_f32x4(a + base + i);
                store_f32x4(out + base + i, short_on_left ? apply_binary_simd(kind, bv, av) : apply_binary_simd(kind, av, bv));
            }
            for (; i < inner; ++i) {
                out[base + i] = short_on_left ? apply_binary(kind, value, a[base + i]) : apply_binary(kind, a[base + i], value);
            }
        }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)));
}

// When `small` (right-aligned against `big`) equals `big` on one contiguous
// block of axes and is 1 elsewhere, gives the [outer, middle, inner] split.
bool middle_block_of(const Shape& small, const Shape& big, int64_t& outer, int64_t& middle, int64_t& inner) {
    if (small.size() > big.size()) return false;
    const size_t shift = big.size() - small.size();
    auto dim = [&](size_t axis) { return axis < shift ? int64_t(1) : small[axis - shift]; };
    size_t first = big.size(), last = 0;  // the block of non-1 axes of small
    for (size_t axis = 0; axis < big.size(); ++axis) {
        if (dim(axis) != 1) { first = std::min(first, axis); last = axis; }
    }
    if (first == big.size()) return false;  // a scalar: handled elsewhere
    outer = 1, middle = 1, inner = 1;
    for (size_t axis = 0; axis < big.size(); ++axis) {
        if (axis < first) outer *= big[axis];
        else if (axis > last) inner *= big[axis];
        else if (dim(axis) != big[axis]) return false;
        else middle *= big[axis];
    }
    return true;
}

// True when `small` equals the trailing dimensions of `big` (after
// dropping leading 1s), so it repeats every small-size elements.
bool is_trailing_of(const Shape& small, const Shape& big) {
    size_t first = 0;
    while (first < small.size() && small[first] == 1) ++first;
    size_t length = small.size() - first;
    if (length > big.size()) return false;
    for (size_t i = 0; i < length; ++i) {
        if (small[first + i] != big[big.size() - length + i]) return false;
    }
    return true;
}

}  // namespace

Tensor binary_op_reference(BinaryKind kind, const Tensor& a, const Tensor& b) {
    Tensor out = Tensor::zeros(DType::f32, broadcast_shapes(a.shape(), b.shape(), binary_kind_name(kind)));
    binary_general(kind, a, b, out);
    return out;
}

Tensor binary_op(BinaryKind kind, const Tensor& a, const Tensor& b) {
    // Every path of binary_op_into writes every output element.
    Tensor out = Tensor::uninitialized(DType::f32, broadcast_shapes(a.shape(), b.shape(), binary_kind_name(kind)));
    binary_op_into(kind, a, b, out);
    return out;
}

void binary_op_into(BinaryKind kind, const Tensor& a, const Tensor& b, Tensor& out) {
    const Shape& shape = out.shape();
    if (broadcast_shapes(a.shape(), b.shape(), binary_kind_name(kind)) != shape) {
        throw UnsupportedError(concat(binary_kind_name(kind), ": output shape ", shape_to_string(shape), " is not the broadcast of ",
                                      shape_to_string(a.shape()), " and ", shape_to_string(b.shape())));
    }
    if (kind != BinaryKind::power) {
        uint64_t total = out.element_count();
        if (a.element_count() == total && is_trailing_of(b.shape(), shape) && b.element_count() > 0) {
            binary_rows(kind, a.f32(), b.f32(), out.mutable_f32(), static_cast<int64_t>(total),
                        static_cast<int64_t>(b.element_count()), false);
            return;
        }
        if (b.element_count() == total && is_trailing_of(a.shape(), shape) && a.element_count() > 0) {
            binary_rows(kind, b.f32(), a.f32(), out.mutable_f32(), static_cast<int64_t>(total),
                        static_cast<int64_t>(a.element_count()), true);
            return;
        }
        int64_t outer, middle, inner;
        if (a.element_count() == total && b.element_count() > 0 && middle_block_of(b.shape(), shape, outer, middle, inner)) {
            binary_middle(kind, a.f32(), b.f32(), out.mutable_f32(), outer, middle, inner, false);
            return;
        }
        if (b.element_count() == total && a.element_count() > 0 && middle_block_of(a.shape(), shape, outer, middle, inner)) {
            binary_middle(kind, b.f32(), a.f32(), out.mutable_f32(), outer, middle, inner, true);
            return;
        }
    }
    binary_general(kind, a, b, out);
}

void channel_affine_reference(const float* input, float* output, int64_t outer, int64_t axis_length,
                              int64_t inner, const float* scale, const float* shift) {
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t c = 0; c < axis_length; ++c) {
            for (int64_t i = 0; i < inner; ++i) {
                int64_t index = (o * axis_length + c) * inner + i;
                output[index] = input[index] * scale[c] + shift[c];
            }
        }
    }
}

void channel_affine(const float* input, float* output, int64_t outer, int64_t axis_length, int64_t inner,
                    const float* scale, const float* shift) {
    using namespace simd;
    if (inner == 1) {
        const int64_t vector_end = axis_length - axis_length % 4;
        for (int64_t o = 0; o < outer; ++o) {
            const float* x = input + o * axis_length;
            float* y = output + o * axis_length;
            int64_t c = 0;
            for (; c < vector_end; c += 4) {
                store_f32x4(y + c, madd_f32x4(load_f32x4(shift + c), load_f32x4(x + c), load_f32x4(scale + c)));
            }
            for (; c < axis_length; ++c) y[c] = x[c] * scale[c] + shift[c];
        }
        return;
    }
    const int64_t vector_end = inner - inner % 4;
    // Threads split the (outer, channel) planes: independent outputs.
    parallel_for(outer * axis_length, [&](int64_t first_plane, int64_t end_plane) {
        for (int64_t plane = first_plane; plane < end_plane; ++plane) {
            const int64_t c = plane % axis_length;
            const float* x = input + plane * inner;
            float* y = output + plane * inner;
            v128_t s = splat_f32x4(scale[c]), t = splat_f32x4(shift[c]);
            int64_t i = 0;
            for (; i < vector_end; i += 4) store_f32x4(y + i, madd_f32x4(t, load_f32x4(x + i), s));
            for (; i < inner; ++i) y[i] = x[i] * scale[c] + shift[c];
        }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)));
}

void layer_norm(const float* input, float* output, int64_t rows, int64_t normalized, float epsilon,
                const float* gamma, const float* beta) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* x = input + r * normalized;
        float* y = output + r * normalized;
        double mean = 0.0;
        for (int64_t i = 0; i < normalized; ++i) mean += x[i];
        mean /= static_cast<double>(normalized);
        double variance = 0.0;
        for (int64_t i = 0; i < normalized; ++i) variance += (x[i] - mean) * (x[i] - mean);
        variance /= static_cast<double>(normalized);
        float inverse = static_cast<float>(1.0 / std::sqrt(variance + epsilon));
        for (int64_t i = 0; i < normalized; ++i) {
            float v = static_cast<float>(x[i] - mean) * inverse;
            if (gamma) v *= gamma[i];
            if (beta) v += beta[i];
            y[i] = v;
        }
    }
}

}  // namespace convscope
