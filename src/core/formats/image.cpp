#include "core/formats/image.h"

#include <climits>

#include <stb_image.h>

#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/ops/tensor_ops.h"

namespace convscope {

Tensor decode_image(ByteSpan bytes, const std::string& name, int desired_channels) {
    if (desired_channels < 0 || desired_channels > 4) throw Error(concat("decode_image: ", desired_channels, " channels requested"));
    if (bytes.size > static_cast<size_t>(INT_MAX)) throw_limit_error(name, ": image of ", bytes.size, " bytes is too large");
    int width = 0, height = 0, channels = 0;
    // Check the header before decoding so a hostile size cannot allocate.
    if (!stbi_info_from_memory(bytes.data, static_cast<int>(bytes.size), &width, &height, &channels)) {
        throw_format_error(name, ": not a PNG/JPEG/BMP/GIF image stb_image can read (", stbi_failure_reason(), ")");
    }
    int out_channels = desired_channels ? desired_channels : channels;
    Shape shape{height, width, out_channels};
    try {
        shape_element_count(shape);  // throws LimitError past limits::max_tensor_elements
    } catch (const LimitError& error) {
        throw_limit_error(name, ": image of ", width, " x ", height, " x ", out_channels, " is too large to decode (",
                          error.what(), ")");
    }
    unsigned char* pixels = stbi_load_from_memory(bytes.data, static_cast<int>(bytes.size), &width, &height, &channels, out_channels);
    if (!pixels) throw_format_error(name, ": image decoding failed (", stbi_failure_reason(), ")");
    Tensor out = Tensor::zeros(DType::f32, shape);
    float* dst = out.mutable_f32();
    for (uint64_t i = 0; i < out.element_count(); ++i) dst[i] = pixels[i];
    stbi_image_free(pixels);
    return out;
}

Tensor resize_image(const Tensor& image, int64_t out_h, int64_t out_w) {
    if (image.rank() != 3) throw Error(concat("resize_image: expected [h, w, c], got ", shape_to_string(image.shape())));
    if (image.shape()[0] == out_h && image.shape()[1] == out_w) return image;
    Shape s = image.shape();
    ResizeOptions options;
    options.mode = ResizeMode::bilinear;
    options.coordinates = CoordinateMode::half_pixel;
    Tensor out = resize2d(image.to_float32().reshaped({1, s[0], s[1], s[2]}), true, out_h, out_w, options);
    return out.reshaped({out_h, out_w, s[2]});
}

}  // namespace convscope
