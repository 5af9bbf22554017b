// Tensor: a typed, shaped, row-major array that may view bytes it does not own.
//
// Weights read from a model file are views into the file's bytes whenever the
// bytes are stored little-endian, uncompressed and aligned for their type, so
// opening a large model does not double its memory. Otherwise the reader
// decodes into an owned buffer. Either way `storage` keeps the bytes alive.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace convscope {

enum class DType : uint8_t { f16, f32, f64, i8, u8, i16, u16, i32, u32, i64, u64, boolean };

const char* dtype_name(DType dtype);          // "float32", as numpy names it
size_t dtype_size(DType dtype);

using Shape = std::vector<int64_t>;            // -1 marks an unknown (batch) dimension

std::string shape_to_string(const Shape& shape);  // "(None, 26, 26, 5)" style
std::string shape_to_string_x(const Shape& shape);  // "3x3x1x5"
// Element count of a fully known shape; throws LimitError past limits::max_tensor_elements
// and FormatError for negative dimensions.
uint64_t shape_element_count(const Shape& shape);

class Tensor {
public:
    Tensor() = default;

    // An owned, zero-filled tensor.
    static Tensor zeros(DType dtype, Shape shape);
    // An owned tensor whose contents are indeterminate: for kernel outputs
    // that write every element, so no time goes into zero-filling them.
    static Tensor uninitialized(DType dtype, Shape shape);
    // Owned float32 tensor with the given values (values.size() must match shape).
    static Tensor from_floats(Shape shape, std::vector<float> values);
    // A view of `bytes` (which `owner` keeps alive). Copies into an owned,
    // aligned buffer when `bytes` is not aligned for `dtype`.
    static Tensor view(DType dtype, Shape shape, const uint8_t* bytes,
                       std::shared_ptr<const void> owner);

    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    uint64_t element_count() const { return element_count_; }
    size_t byte_size() const { return static_cast<size_t>(element_count_) * dtype_size(dtype_); }
    bool empty() const { return data_ == nullptr && element_count_ == 0; }
    bool owns_data() const { return owned_ != nullptr; }

    const uint8_t* raw() const { return data_; }
    // Only for owned tensors (zeros / from_floats / to_float32 results).
    uint8_t* mutable_raw();
    const float* f32() const;   // requires dtype f32
    float* mutable_f32();

    // Element i converted to double, whatever the dtype.
    double value_at(uint64_t index) const;
    // A float32 copy (or the same tensor if already float32).
    Tensor to_float32() const;
    std::vector<float> to_float_vector() const;
    // Same data, new shape with equal element count.
    Tensor reshaped(Shape new_shape) const;

private:
    DType dtype_ = DType::f32;
    Shape shape_;
    uint64_t element_count_ = 0;
    const uint8_t* data_ = nullptr;
    std::shared_ptr<const void> storage_;
    std::shared_ptr<uint8_t> owned_;  // an array (new uint8_t[]), null for views
};

float half_to_float(uint16_t bits);
// bfloat16 is float32's upper half: widening is exact.
float bfloat16_to_float(uint16_t bits);

}  // namespace convscope
