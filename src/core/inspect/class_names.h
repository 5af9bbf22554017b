// Class names for a classifier's outputs, and the input preprocessing it
// most likely expects, with the evidence for each guess.
//
// Names, first match wins:
//   1. names the model carries (an embedded or dropped labels.txt)
//   2. 1000 outputs: ImageNet (torchvision's order); 1001: "background" + ImageNet
//      (TensorFlow's slim/TFLite classifiers)
//   3. 100 outputs on a 32x32x3 input: CIFAR-100; 10 on 32x32x3: CIFAR-10
//   4. 10 outputs on a 28x28x1 input: Fashion-MNIST when the model's or the
//      file's name mentions "fashion", otherwise the digits of MNIST
//   5. none ("class 7")
//
// Preprocessing presets are the ones trained models use; the guess reads
// what the file records (a Keras Rescaling/Normalization layer means the
// model takes raw 0..255 pixels) and otherwise the format's convention for
// ImageNet-size models (torchvision's mean/std for ONNX/PyTorch, [-1, 1] for
// Keras/TFLite MobileNet-style files). Always editable in the app.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/inspect/preprocess.h"
#include "core/model/model.h"

namespace convscope {

const std::vector<std::string>& imagenet_class_names();
const std::vector<std::string>& cifar10_class_names();
const std::vector<std::string>& cifar100_class_names();
const std::vector<std::string>& fashion_mnist_class_names();

struct ClassNameGuess {
    std::vector<std::string> names;  // empty: no guess
    std::string source;              // "ImageNet", "labels.txt", ...
    std::string evidence;            // "1000 outputs"
};

// `model_names`: names the model or the user supplied (wins when its size
// matches `output_count`). `input_shape` in the model's layout, batch first.
ClassNameGuess guess_class_names(const Model& model, int64_t output_count, const Shape& input_shape,
                                 const std::vector<std::string>& model_names = {}, const std::string& file_name = "");

enum class InputPreset {
    unit,        // x / 255            -> [0, 1]
    symmetric,   // x / 127.5 - 1      -> [-1, 1]
    imagenet,    // x / 255, then (x - mean) / std with torchvision's ImageNet statistics
    caffe,       // RGB -> BGR, minus the ImageNet BGR means, no scaling (Keras ResNet50/VGG)
    raw,         // 0..255 as is (the model rescales itself)
};

const char* input_preset_name(InputPreset preset);
// Sets scale, mean, std and channel order; keeps size, layout and inversion.
void apply_input_preset(Preprocessing& settings, InputPreset preset);

struct PresetGuess {
    InputPreset preset = InputPreset::unit;
    std::string evidence;
};
PresetGuess guess_input_preset(const Model& model, const Shape& input_shape, const std::string& file_name = "");

}  // namespace convscope
