// NumPy .npy files (format versions 1.0, 2.0 and 3.0), little-endian, C order.
//
// On-disk layout (numpy/lib/format.py, "NEP 1"):
//   1. magic "\x93NUMPY" (6 bytes)
//   2. major, minor version bytes (1.0, 2.0 or 3.0)
//   3. header length: u16 (v1) or u32 (v2, v3), little-endian
//   4. header: a Python dict literal in ASCII (v3: UTF-8)
//        {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//      padded with spaces and ended by '\n' so that the data starts at a
//      multiple of 64 bytes
//   5. the raw array data, shape-product * itemsize bytes
//
// The writer is used by `convscope weights --out` so numpy.load returns the
// array exactly (float16 stays float16); the reader serves `convscope run
// --input`. Big-endian data and Fortran order of rank > 1 are refused with
// an error naming the descr / flag, not converted silently.
#pragma once

#include <string>
#include <vector>

#include "core/formats/registry.h"
#include "core/tensor/tensor.h"

namespace convscope::npy {

struct Header {
    int major_version = 1;
    int minor_version = 0;
    std::string descr;      // "<f4"
    DType dtype = DType::f32;
    Shape shape;
    bool fortran_order = false;
    uint64_t data_offset = 0;  // first byte of the array data
};

// "<f4" for float32, "|u1" for uint8, ...
std::string descr_for(DType dtype);

// Parses and validates the header: magic, version, dict keys, dtype, shape
// (within limits) and that the data fits in `bytes`.
Header parse_header(ByteSpan bytes);

// The array in `bytes` (a zero-copy view when aligned; `bytes` stays alive).
Tensor read(const FileBytes& bytes);
Tensor read_file(const std::string& path);

// Version 1.0 when the header fits in 65535 bytes, else 2.0.
std::vector<uint8_t> write(const Tensor& tensor);
// Throws Error naming the path when the file cannot be written.
void write_file(const std::string& path, const Tensor& tensor);

}  // namespace convscope::npy
