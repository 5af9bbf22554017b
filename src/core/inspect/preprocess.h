// Turning a picture into a model's input: resize, channel conversion,
// inversion, scaling and per-channel mean/std, in that order. The UI shows
// and edits these settings per model; `convscope response` and the UI use
// the same function so their numbers agree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/tensor/tensor.h"

namespace convscope {

struct Preprocessing {
    int64_t height = 28;
    int64_t width = 28;
    int64_t channels = 1;        // 1 (grey) or 3 (RGB)
    DataLayout layout = DataLayout::channels_last;
    bool invert = false;         // v -> 255 - v before scaling (dark-on-light pictures)
    bool bgr = false;            // 3 channels fed in B, G, R order (Caffe-style models)
    double scale = 1.0 / 255.0;  // applied to 0..255 pixel values
    // Per channel (one value applies to all); empty means 0 / 1.
    std::vector<double> mean;
    std::vector<double> std;
};

// Settings for a model whose first input has `input_shape` (framework
// layout, batch 1 or -1 first): its spatial size and channels, 1/255
// scaling, no mean/std. Throws Error when the input is not an image
// ([N, H, W, C] / [N, C, H, W] with 1..4 channels).
Preprocessing default_preprocessing(const Shape& input_shape, DataLayout layout);

// One line for status texts: "28x28 grey, x/255, inverted, mean 0.5 std 0.5".
std::string describe_preprocessing(const Preprocessing& settings);

// [h, w, c] image with 0..255 values and c in 1..4 -> [h, w, channels]:
// grey -> RGB by copying, RGB -> grey with ITU-R BT.601 luma weights
// (0.299, 0.587, 0.114), alpha composited over black (the background of
// MNIST-style data).
Tensor convert_channels(const Tensor& image, int64_t channels);

// [h, w, c] 0..255 image -> the model input [1, H, W, C] (channels_last) or
// [1, C, H, W] (channels_first), float32. Throws Error for bad settings
// (non-positive sizes, channels other than 1/3, zero std).
Tensor preprocess_image(const Tensor& image, const Preprocessing& settings);

}  // namespace convscope
