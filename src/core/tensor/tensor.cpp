#include "core/tensor/tensor.h"

#include <cstring>

#include "core/base/error.h"
#include "core/base/limits.h"

namespace convscope {

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::f16: return "float16";
        case DType::f32: return "float32";
        case DType::f64: return "float64";
        case DType::i8: return "int8";
        case DType::u8: return "uint8";
        case DType::i16: return "int16";
        case DType::u16: return "uint16";
        case DType::i32: return "int32";
        case DType::u32: return "uint32";
        case DType::i64: return "int64";
        case DType::u64: return "uint64";
        case DType::boolean: return "bool";
    }
    return "unknown";
}

size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::i8: case DType::u8: case DType::boolean: return 1;
        case DType::f16: case DType::i16: case DType::u16: return 2;
        case DType::f32: case DType::i32: case DType::u32: return 4;
        case DType::f64: case DType::i64: case DType::u64: return 8;
    }
    return 1;
}

std::string shape_to_string(const Shape& shape) {
    std::string out = "(";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) out += ", ";
        out += shape[i] < 0 ? "None" : std::to_string(shape[i]);
    }
    if (shape.size() == 1) out += ",";
    return out + ")";
}

std::string shape_to_string_x(const Shape& shape) {
    std::string out;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) out += "x";
        out += shape[i] < 0 ? "?" : std::to_string(shape[i]);
    }
    return out.empty() ? "scalar" : out;
}

uint64_t shape_element_count(const Shape& shape) {
    if (shape.size() > static_cast<size_t>(limits::max_rank)) {
        throw_limit_error("tensor rank ", shape.size(), " exceeds the limit of ", limits::max_rank);
    }
    uint64_t count = 1;
    for (int64_t dim : shape) {
        if (dim < 0) throw_format_error("tensor shape ", shape_to_string(shape), " has an unknown or negative dimension");
        if (dim != 0 && count > limits::max_tensor_elements / static_cast<uint64_t>(dim)) {
            throw_limit_error("tensor shape ", shape_to_string(shape), " exceeds the limit of ",
                              limits::max_tensor_elements, " elements");
        }
        count *= static_cast<uint64_t>(dim);
    }
    if (count > limits::max_tensor_elements) {
        throw_limit_error("tensor shape ", shape_to_string(shape), " exceeds the limit of ",
                          limits::max_tensor_elements, " elements");
    }
    return count;
}

namespace {

// Left uninitialised: kernels that write every element pay no fill.
std::shared_ptr<uint8_t> allocate_bytes(size_t size) {
    return std::shared_ptr<uint8_t>(new uint8_t[size], std::default_delete<uint8_t[]>());
}

}  // namespace

Tensor Tensor::zeros(DType dtype, Shape shape) {
    Tensor t = uninitialized(dtype, std::move(shape));
    if (t.byte_size()) std::memset(t.owned_.get(), 0, t.byte_size());
    return t;
}

Tensor Tensor::uninitialized(DType dtype, Shape shape) {
    Tensor t;
    t.dtype_ = dtype;
    t.element_count_ = shape_element_count(shape);
    t.shape_ = std::move(shape);
    t.owned_ = allocate_bytes(t.byte_size());
    t.data_ = t.owned_.get();
    t.storage_ = t.owned_;
    return t;
}

Tensor Tensor::from_floats(Shape shape, std::vector<float> values) {
    Tensor t = uninitialized(DType::f32, std::move(shape));
    if (values.size() != t.element_count_) {
        throw Error(concat("from_floats: ", values.size(), " values for shape ", shape_to_string(t.shape_)));
    }
    if (!values.empty()) std::memcpy(t.owned_.get(), values.data(), values.size() * sizeof(float));
    return t;
}

Tensor Tensor::view(DType dtype, Shape shape, const uint8_t* bytes, std::shared_ptr<const void> owner) {
    uint64_t count = shape_element_count(shape);
    size_t alignment = dtype_size(dtype);
    if (reinterpret_cast<uintptr_t>(bytes) % alignment != 0) {
        Tensor t = uninitialized(dtype, std::move(shape));
        if (t.byte_size()) std::memcpy(t.owned_.get(), bytes, t.byte_size());
        return t;
    }
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    t.element_count_ = count;
    t.data_ = bytes;
    t.storage_ = std::move(owner);
    return t;
}

uint8_t* Tensor::mutable_raw() {
    if (!owned_) throw Error("mutable_raw() on a tensor that views file bytes");
    return owned_.get();
}

const float* Tensor::f32() const {
    if (dtype_ != DType::f32) throw Error(concat("tensor is ", dtype_name(dtype_), ", not float32"));
    return reinterpret_cast<const float*>(data_);
}

float* Tensor::mutable_f32() {
    if (dtype_ != DType::f32) throw Error(concat("tensor is ", dtype_name(dtype_), ", not float32"));
    return reinterpret_cast<float*>(mutable_raw());
}

float half_to_float(uint16_t bits) {
    uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
    uint32_t exponent = (bits >> 10) & 0x1fu;
    uint32_t mantissa = bits & 0x3ffu;
    uint32_t out;
    if (exponent == 0) {
        if (mantissa == 0) {
            out = sign;
        } else {  // subnormal: renormalise
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                --exponent;
            }
            mantissa &= 0x3ffu;
            out = sign | (exponent << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        out = sign | 0x7f800000u | (mantissa << 13);
    } else {
        out = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float value;
    std::memcpy(&value, &out, sizeof value);
    return value;
}

double Tensor::value_at(uint64_t index) const {
    if (index >= element_count_) throw Error(concat("tensor index ", index, " out of ", element_count_));
    const uint8_t* p = data_ + index * dtype_size(dtype_);
    auto load = [p](auto type_tag) {
        decltype(type_tag) v;
        std::memcpy(&v, p, sizeof v);
        return v;
    };
    switch (dtype_) {
        case DType::f16: return half_to_float(load(uint16_t{}));
        case DType::f32: return load(float{});
        case DType::f64: return load(double{});
        case DType::i8: return load(int8_t{});
        case DType::u8: return load(uint8_t{});
        case DType::i16: return load(int16_t{});
        case DType::u16: return load(uint16_t{});
        case DType::i32: return load(int32_t{});
        case DType::u32: return load(uint32_t{});
        case DType::i64: return static_cast<double>(load(int64_t{}));
        case DType::u64: return static_cast<double>(load(uint64_t{}));
        case DType::boolean: return load(uint8_t{}) ? 1.0 : 0.0;
    }
    return 0.0;
}

Tensor Tensor::to_float32() const {
    if (dtype_ == DType::f32) return *this;
    Tensor out = uninitialized(DType::f32, shape_);
    float* dst = out.mutable_f32();
    for (uint64_t i = 0; i < element_count_; ++i) dst[i] = static_cast<float>(value_at(i));
    return out;
}

std::vector<float> Tensor::to_float_vector() const {
    Tensor f = to_float32();
    return std::vector<float>(f.f32(), f.f32() + f.element_count());
}

Tensor Tensor::reshaped(Shape new_shape) const {
    uint64_t count = shape_element_count(new_shape);
    if (count != element_count_) {
        throw Error(concat("cannot reshape ", shape_to_string(shape_), " to ", shape_to_string(new_shape)));
    }
    Tensor t = *this;
    t.shape_ = std::move(new_shape);
    return t;
}

float bfloat16_to_float(uint16_t bits) {
    uint32_t widened = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &widened, sizeof value);
    return value;
}

}  // namespace convscope
