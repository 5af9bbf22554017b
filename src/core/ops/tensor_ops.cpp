#include "core/ops/tensor_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/base/error.h"

namespace convscope {

int normalize_axis(int64_t axis, int rank, const std::string& context) {
    int64_t resolved = axis < 0 ? axis + rank : axis;
    if (resolved < 0 || resolved >= rank) {
        throw UnsupportedError(concat(context, ": axis ", axis, " is out of range for rank ", rank));
    }
    return static_cast<int>(resolved);
}

namespace {

std::vector<int64_t> contiguous_strides(const Shape& shape) {
    std::vector<int64_t> strides(shape.size(), 1);
    for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
    return strides;
}

// Calls visit(output_index, input_offset) for every output element where
// the input offset advances by in_strides along the output's axes.
template <typename Visit>
void for_each_strided(const Shape& out_shape, const std::vector<int64_t>& in_strides, int64_t in_base, Visit visit) {
    uint64_t total = shape_element_count(out_shape);
    std::vector<int64_t> index(out_shape.size(), 0);
    int64_t offset = in_base;
    for (uint64_t i = 0; i < total; ++i) {
        visit(i, offset);
        for (size_t axis = out_shape.size(); axis-- > 0;) {
            offset += in_strides[axis];
            if (++index[axis] < out_shape[axis]) break;
            offset -= in_strides[axis] * out_shape[axis];
            index[axis] = 0;
        }
    }
}

}  // namespace

Tensor transpose(const Tensor& input, const std::vector<int64_t>& perm) {
    const Shape& shape = input.shape();
    if (perm.size() != shape.size()) {
        throw UnsupportedError(concat("transpose: permutation of ", perm.size(), " axes for a rank-",
                                      shape.size(), " tensor"));
    }
    std::vector<bool> seen(shape.size(), false);
    Shape out_shape(shape.size());
    std::vector<int64_t> strides = contiguous_strides(shape), out_strides(shape.size());
    for (size_t i = 0; i < perm.size(); ++i) {
        int axis = normalize_axis(perm[i], static_cast<int>(shape.size()), "transpose");
        if (seen[axis]) throw UnsupportedError(concat("transpose: axis ", axis, " appears twice in the permutation"));
        seen[axis] = true;
        out_shape[i] = shape[axis];
        out_strides[i] = strides[axis];
    }
    // for_each_strided visits every output element once.
    Tensor out = Tensor::uninitialized(input.dtype(), out_shape);
    size_t element = dtype_size(input.dtype());
    const uint8_t* src = input.raw();
    uint8_t* dst = out.mutable_raw();
    if (element == 4) {
        for_each_strided(out_shape, out_strides, 0, [&](uint64_t i, int64_t offset) {
            std::memcpy(dst + i * 4, src + offset * 4, 4);
        });
    } else {
        for_each_strided(out_shape, out_strides, 0, [&](uint64_t i, int64_t offset) {
            std::memcpy(dst + i * element, src + offset * element, element);
        });
    }
    return out;
}

Tensor pad(const Tensor& input, const std::vector<int64_t>& pads, PadMode mode, float value) {
    const Shape& shape = input.shape();
    const size_t rank = shape.size();
    if (pads.size() != 2 * rank) {
        throw UnsupportedError(concat("pad: ", pads.size(), " pad values for a rank-", rank, " tensor (need ", 2 * rank, ")"));
    }
    Shape out_shape(rank);
    for (size_t i = 0; i < rank; ++i) {
        out_shape[i] = shape[i] + pads[i] + pads[i + rank];
        if (out_shape[i] < 0) throw UnsupportedError(concat("pad: negative output size on axis ", i));
        if (mode == PadMode::reflect && (pads[i] >= shape[i] || pads[i + rank] >= shape[i]) && (pads[i] || pads[i + rank])) {
            throw UnsupportedError(concat("pad: reflect padding of ", pads[i], "/", pads[i + rank],
                                          " needs more than ", shape[i], " elements on axis ", i));
        }
        if (mode == PadMode::edge && shape[i] == 0 && out_shape[i] > 0) {
            throw UnsupportedError("pad: edge padding of an empty axis");
        }
    }
    Tensor in32 = input.to_float32();
    Tensor out = Tensor::zeros(DType::f32, out_shape);
    const float* src = in32.f32();
    float* dst = out.mutable_f32();
    std::vector<int64_t> strides = contiguous_strides(shape);
    std::vector<int64_t> index(rank, 0);
    uint64_t total = out.element_count();
    for (uint64_t i = 0; i < total; ++i) {
        int64_t offset = 0;
        bool inside = true;
        for (size_t axis = 0; axis < rank; ++axis) {
            int64_t position = index[axis] - pads[axis];
            if (position < 0 || position >= shape[axis]) {
                if (mode == PadMode::constant) { inside = false; break; }
                if (mode == PadMode::edge) position = position < 0 ? 0 : shape[axis] - 1;
                else position = position < 0 ? -position : 2 * (shape[axis] - 1) - position;
            }
            offset += position * strides[axis];
        }
        dst[i] = inside ? src[offset] : value;
        for (size_t axis = rank; axis-- > 0;) {
            if (++index[axis] < out_shape[axis]) break;
            index[axis] = 0;
        }
    }
    return out;
}

Tensor slice(const Tensor& input, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
             const std::vector<int64_t>& steps) {
    const Shape& shape = input.shape();
    Shape out_shape(shape.size());
    std::vector<int64_t> strides = contiguous_strides(shape), in_strides(shape.size());
    int64_t base = 0;
    for (size_t i = 0; i < shape.size(); ++i) {
        int64_t step = steps[i];
        if (step == 0) throw UnsupportedError("slice: step 0");
        int64_t count = step > 0 ? (ends[i] - starts[i] + step - 1) / step : (starts[i] - ends[i] - step - 1) / -step;
        out_shape[i] = std::max<int64_t>(0, count);
        if (out_shape[i] > 0 && (starts[i] < 0 || starts[i] >= shape[i])) {
            throw UnsupportedError(concat("slice: start ", starts[i], " outside axis ", i, " of size ", shape[i]));
        }
        base += out_shape[i] > 0 ? starts[i] * strides[i] : 0;
        in_strides[i] = strides[i] * step;
    }
    Tensor out = Tensor::uninitialized(input.dtype(), out_shape);  // every element copied below
    size_t element = dtype_size(input.dtype());
    const uint8_t* src = input.raw();
    uint8_t* dst = out.mutable_raw();
    if (out.element_count() == 0) return out;
    for_each_strided(out_shape, in_strides, base, [&](uint64_t i, int64_t offset) {
        std::memcpy(dst + i * element, src + offset * element, element);
    });
    return out;
}

Tensor concat(const std::vector<const Tensor*>& inputs, int64_t axis_value) {
    if (inputs.empty()) throw UnsupportedError("concat: no inputs");
    const Tensor& first = *inputs[0];
    int rank = first.rank();
    int axis = normalize_axis(axis_value, rank, "concat");
    Shape out_shape = first.shape();
    out_shape[axis] = 0;
    for (const Tensor* t : inputs) {
        if (t->rank() != rank || t->dtype() != first.dtype()) {
            throw UnsupportedError(concat("concat: cannot join ", dtype_name(t->dtype()), shape_to_string(t->shape()),
                                          " with ", dtype_name(first.dtype()), shape_to_string(first.shape())));
        }
        for (int i = 0; i < rank; ++i) {
            if (i != axis && t->shape()[i] != first.shape()[i]) {
                throw UnsupportedError(concat("concat on axis ", axis, ": shapes ", shape_to_string(t->shape()),
                                              " and ", shape_to_string(first.shape()), " differ on axis ", i));
            }
        }
        out_shape[axis] += t->shape()[axis];
    }
    Tensor out = Tensor::zeros(first.dtype(), out_shape);
    size_t element = dtype_size(first.dtype());
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= out_shape[i];
    for (int i = axis + 1; i < rank; ++i) inner *= out_shape[i];
    uint8_t* dst = out.mutable_raw();
    int64_t out_row = out_shape[axis] * inner * static_cast<int64_t>(element);
    int64_t written = 0;
    for (const Tensor* t : inputs) {
        int64_t row = t->shape()[axis] * inner * static_cast<int64_t>(element);
        for (int64_t o = 0; o < outer; ++o) {
            if (row) std::memcpy(dst + o * out_row + written, t->raw() + o * row, static_cast<size_t>(row));
        }
        written += row;
    }
    return out;
}

Tensor gather(const Tensor& data, const Tensor& indices, int64_t axis_value) {
    int rank = data.rank();
    int axis = normalize_axis(axis_value, rank, "gather");
    const Shape& shape = data.shape();
    Shape out_shape(shape.begin(), shape.begin() + axis);
    out_shape.insert(out_shape.end(), indices.shape().begin(), indices.shape().end());
    out_shape.insert(out_shape.end(), shape.begin() + axis + 1, shape.end());
    Tensor out = Tensor::zeros(data.dtype(), out_shape);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= shape[i];
    for (int i = axis + 1; i < rank; ++i) inner *= shape[i];
    size_t element = dtype_size(data.dtype());
    size_t block = static_cast<size_t>(inner) * element;
    int64_t count = static_cast<int64_t>(indices.element_count());
    uint8_t* dst = out.mutable_raw();
    for (int64_t j = 0; j < count; ++j) {
        int64_t index = static_cast<int64_t>(indices.value_at(static_cast<uint64_t>(j)));
        if (index < 0) index += shape[axis];
        if (index < 0 || index >= shape[axis]) {
            throw UnsupportedError(concat("gather: index ", index, " outside axis ", axis, " of size ", shape[axis]));
        }
        for (int64_t o = 0; o < outer; ++o) {
            std::memcpy(dst + (o * count + j) * block, data.raw() + (o * shape[axis] + index) * block, block);
        }
    }
    return out;
}

namespace {

// `stated_scale` > 0: the output/input scale the file gives (else the sizes' ratio).
float source_coordinate(CoordinateMode mode, int64_t out_index, int64_t in_size, int64_t out_size, double stated_scale) {
    float scale = stated_scale > 0 ? static_cast<float>(1.0 / stated_scale) : static_cast<float>(in_size) / static_cast<float>(out_size);
    switch (mode) {
        case CoordinateMode::half_pixel: return (out_index + 0.5f) * scale - 0.5f;
        case CoordinateMode::pytorch_half_pixel: return out_size > 1 ? (out_index + 0.5f) * scale - 0.5f : 0.0f;
        case CoordinateMode::asymmetric: return out_index * scale;
        case CoordinateMode::tf_half_pixel_for_nn: return (out_index + 0.5f) * scale;
        case CoordinateMode::align_corners:
            return out_size > 1 ? out_index * static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1) : 0.0f;
    }
    return 0.0f;
}

int64_t nearest_index(NearestRounding rounding, float x, int64_t size) {
    int64_t index;
    switch (rounding) {
        case NearestRounding::floor: index = static_cast<int64_t>(std::floor(x)); break;
        case NearestRounding::ceil: index = static_cast<int64_t>(std::ceil(x)); break;
        case NearestRounding::round_prefer_ceil: index = static_cast<int64_t>(std::floor(x + 0.5f)); break;
        case NearestRounding::round_prefer_floor:
        default: index = static_cast<int64_t>(std::ceil(x - 0.5f)); break;
    }
    return std::min(std::max<int64_t>(index, 0), size - 1);
}

}  // namespace

Tensor resize2d(const Tensor& input, bool channels_last, int64_t output_h, int64_t output_w,
                const ResizeOptions& options) {
    if (input.rank() != 4) throw UnsupportedError(concat("resize: expected a rank-4 tensor, got ", shape_to_string(input.shape())));
    const Shape& s = input.shape();
    int64_t batch = s[0], height = channels_last ? s[1] : s[2], width = channels_last ? s[2] : s[3];
    int64_t channels = channels_last ? s[3] : s[1];
    if (output_h < 1 || output_w < 1 || height < 1 || width < 1) {
        throw UnsupportedError(concat("resize: cannot resize ", shape_to_string(s), " to ", output_h, "x", output_w));
    }
    Shape out_shape = channels_last ? Shape{batch, output_h, output_w, channels} : Shape{batch, channels, output_h, output_w};
    Tensor out = Tensor::zeros(DType::f32, out_shape);
    const float* src = input.f32();
    float* dst = out.mutable_f32();
    // Element strides of (y, x, c) inside one image.
    int64_t sy = channels_last ? width * channels : width, sx = channels_last ? channels : 1;
    int64_t sc = channels_last ? 1 : height * width;
    int64_t dy = channels_last ? output_w * channels : output_w, dx = channels_last ? channels : 1;
    int64_t dc = channels_last ? 1 : output_h * output_w;
    for (int64_t n = 0; n < batch; ++n) {
        const float* image = src + n * height * width * channels;
        float* out_image = dst + n * output_h * output_w * channels;
        for (int64_t oy = 0; oy < output_h; ++oy) {
            float fy = source_coordinate(options.coordinates, oy, height, output_h, options.scale_h);
            for (int64_t ox = 0; ox < output_w; ++ox) {
                float fx = source_coordinate(options.coordinates, ox, width, output_w, options.scale_w);
                if (options.mode == ResizeMode::nearest) {
                    int64_t iy = nearest_index(options.rounding, fy, height), ix = nearest_index(options.rounding, fx, width);
                    for (int64_t c = 0; c < channels; ++c) out_image[oy * dy + ox * dx + c * dc] = image[iy * sy + ix * sx + c * sc];
                } else {
                    float cy = std::min(std::max(fy, 0.0f), static_cast<float>(height - 1));
                    float cx = std::min(std::max(fx, 0.0f), static_cast<float>(width - 1));
                    int64_t y0 = static_cast<int64_t>(std::floor(cy)), x0 = static_cast<int64_t>(std::floor(cx));
                    int64_t y1 = std::min(y0 + 1, height - 1), x1 = std::min(x0 + 1, width - 1);
                    float wy = cy - y0, wx = cx - x0;
                    for (int64_t c = 0; c < channels; ++c) {
                        const float* p = image + c * sc;
                        float top = p[y0 * sy + x0 * sx] * (1 - wx) + p[y0 * sy + x1 * sx] * wx;
                        float bottom = p[y1 * sy + x0 * sx] * (1 - wx) + p[y1 * sy + x1 * sx] * wx;
                        out_image[oy * dy + ox * dx + c * dc] = top * (1 - wy) + bottom * wy;
                    }
                }
            }
        }
    }
    return out;
}

Tensor reduce(const Tensor& input_any, std::vector<int64_t> axes, ReduceKind kind, bool keep_dims) {
    Tensor input = input_any.to_float32();
    int rank = input.rank();
    std::vector<bool> reduced(rank, axes.empty());
    for (int64_t a : axes) reduced[normalize_axis(a, rank, "reduce")] = true;
    Shape kept_shape(rank), out_shape;
    for (int i = 0; i < rank; ++i) {
        kept_shape[i] = reduced[i] ? 1 : input.shape()[i];
        if (!reduced[i] || keep_dims) out_shape.push_back(kept_shape[i]);
    }
    Tensor out = Tensor::zeros(DType::f32, kept_shape);
    float* dst = out.mutable_f32();
    uint64_t out_count = out.element_count();
    float initial = kind == ReduceKind::max ? -std::numeric_limits<float>::infinity()
                  : kind == ReduceKind::min ? std::numeric_limits<float>::infinity() : 0.0f;
    std::fill(dst, dst + out_count, initial);
    std::vector<int64_t> out_strides = contiguous_strides(kept_shape);
    for (int i = 0; i < rank; ++i) if (reduced[i]) out_strides[i] = 0;
    const float* src = input.f32();
    for_each_strided(input.shape(), out_strides, 0, [&](uint64_t i, int64_t offset) {
        float v = src[i];
        float& d = dst[offset];
        if (kind == ReduceKind::max) d = std::max(d, v);
        else if (kind == ReduceKind::min) d = std::min(d, v);
        else d += v;
    });
    if (kind == ReduceKind::mean && out_count > 0) {
        float divisor = static_cast<float>(input.element_count() / out_count);
        for (uint64_t i = 0; i < out_count; ++i) dst[i] /= divisor;
    }
    return out.reshaped(out_shape);
}

}  // namespace convscope
