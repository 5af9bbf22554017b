// SafeTensors files (.safetensors, Hugging Face): a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian data.
//
// On-disk layout read (the format's README, github.com/huggingface/safetensors):
//   1. u64 little-endian N: the header's length in bytes (at most 100 MB,
//      and at most the bytes that follow).
//   2. N bytes of UTF-8 JSON, one object (the writer pads it with spaces to
//      keep the data 8-byte aligned). Each key but "__metadata__" is a
//      tensor name whose value is {"dtype": D, "shape": [dims],
//      "data_offsets": [begin, end]}. "__metadata__" is a flat map of
//      strings to strings.
//   3. The data area: the rest of the file. Offsets are relative to its
//      start; every range must lie inside it, ranges must not overlap, and
//      end - begin must equal the shape's element count times the dtype's
//      size. Dtypes read: F64, F32, F16, BF16 (converted to float32: our
//      DType has no bfloat16), I64, I32, I16, I8, U64, U32, U16, U8, BOOL.
//      Float8 and other dtypes are refused naming the tensor.
//
// Mapping into Model: format "safetensors", producer from __metadata__
// "format" when present ("pt" -> "pytorch"), layout channels_first,
// has_architecture false with one warning, layers by key prefix
// (state_dict.h) in header order, tensors are zero-copy views of the file
// when aligned. __metadata__ entries become metadata "metadata.<key>".
#pragma once

#include <string>

#include "core/formats/registry.h"

namespace convscope {

// The first 8 bytes give a header length that fits the file, and the
// header starts with '{'. Never throws.
bool looks_like_safetensors(ByteSpan bytes);

// Throws FormatError naming the tensor and the byte range, LimitError past limits.h.
Model open_safetensors(const FileBytes& bytes, const std::string& file_name);

}  // namespace convscope
