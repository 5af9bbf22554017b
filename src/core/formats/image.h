// Decodes PNG/JPEG/BMP/GIF bytes (stb_image) into a float tensor
// [height, width, channels] with values 0..255, and resizes images
// bilinearly for model inputs.
#pragma once

#include <string>

#include "core/base/byte_reader.h"
#include "core/tensor/tensor.h"

namespace convscope {

// desired_channels: 0 keeps the file's channels, else 1..4 (stb converts).
// Throws FormatError naming `name` and stb's reason.
Tensor decode_image(ByteSpan bytes, const std::string& name, int desired_channels = 0);

// [h, w, c] -> [out_h, out_w, c], half-pixel bilinear (like tf.image.resize).
Tensor resize_image(const Tensor& image, int64_t out_h, int64_t out_w);

}  // namespace convscope
