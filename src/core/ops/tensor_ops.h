// Data movement operators: transpose, pad, slice/crop, concat, gather,
// resize and reductions. These work on any element type where it makes
// sense (ONNX shape arithmetic runs on int64 tensors) by moving bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace convscope {

// Resolves a possibly negative axis against `rank`; throws UnsupportedError
// mentioning `context` when out of range.
int normalize_axis(int64_t axis, int rank, const std::string& context);

// out.shape[i] = in.shape[perm[i]].
Tensor transpose(const Tensor& input, const std::vector<int64_t>& perm);

enum class PadMode { constant, reflect, edge };
// pads: begin for every axis, then end for every axis (ONNX order).
Tensor pad(const Tensor& input, const std::vector<int64_t>& pads, PadMode mode, float value);

// Elements [starts[i], ends[i]) with steps[i] on every axis (already clamped
// and non-negative; steps may be negative with starts > ends).
Tensor slice(const Tensor& input, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
             const std::vector<int64_t>& steps);

Tensor concat(const std::vector<const Tensor*>& inputs, int64_t axis);

// ONNX Gather: indices (int64/int32/float) pick entries along `axis`.
Tensor gather(const Tensor& data, const Tensor& indices, int64_t axis);

enum class ResizeMode { nearest, bilinear };
enum class CoordinateMode { half_pixel, asymmetric, align_corners, pytorch_half_pixel, tf_half_pixel_for_nn };
enum class NearestRounding { round_prefer_floor, round_prefer_ceil, floor, ceil };

struct ResizeOptions {
    ResizeMode mode = ResizeMode::nearest;
    CoordinateMode coordinates = CoordinateMode::asymmetric;
    NearestRounding rounding = NearestRounding::floor;
    // The output/input scale per axis for the coordinate transform when the
    // file states scales (ONNX uses them, not the rounded sizes' ratio);
    // 0: the ratio of the sizes.
    double scale_h = 0, scale_w = 0;
};

// Resizes the two spatial axes of a rank-4 float tensor, NHWC when
// channels_last else NCHW.
Tensor resize2d(const Tensor& input, bool channels_last, int64_t output_h, int64_t output_w,
                const ResizeOptions& options);

enum class ReduceKind { mean, sum, max, min };
Tensor reduce(const Tensor& input, std::vector<int64_t> axes, ReduceKind kind, bool keep_dims);

}  // namespace convscope
