#include "core/inspect/class_names.h"

#include <algorithm>
#include <cctype>

#include "core/base/error.h"

namespace convscope {

namespace {

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// Height, width and channels of an image input in either layout; zeros when
// the input is not an image.
struct ImageInput {
    int64_t height = 0, width = 0, channels = 0;
};

ImageInput image_input(const Shape& shape, DataLayout layout) {
    if (shape.size() != 4) return {};
    if (layout == DataLayout::channels_last) return {shape[1], shape[2], shape[3]};
    return {shape[2], shape[3], shape[1]};
}

bool mentions(const Model& model, const std::string& file_name, const char* word) {
    return lower(model.name).find(word) != std::string::npos || lower(file_name).find(word) != std::string::npos;
}

bool has_layer_type(const Model& model, const char* type) {
    return std::any_of(model.layers.begin(), model.layers.end(), [&](const Layer& l) { return l.type == type; });
}

}  // namespace

const std::vector<std::string>& imagenet_class_names() {
    static const std::vector<std::string> names = {
#include "core/inspect/imagenet_classes.inc"
    };
    return names;
}

const std::vector<std::string>& cifar10_class_names() {
    static const std::vector<std::string> names = {"airplane", "automobile", "bird", "cat", "deer",
                                                   "dog", "frog", "horse", "ship", "truck"};
    return names;
}

const std::vector<std::string>& cifar100_class_names() {
    // The fine labels in the dataset's own (alphabetical) order.
    static const std::vector<std::string> names = {
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    };
    return names;
}

const std::vector<std::string>& fashion_mnist_class_names() {
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    return names;
}

ClassNameGuess guess_class_names(const Model& model, int64_t output_count, const Shape& input_shape,
                                 const std::vector<std::string>& model_names, const std::string& file_name) {
    if (!model_names.empty() && static_cast<int64_t>(model_names.size()) == output_count) {
        return {model_names, "labels", concat(model_names.size(), " names given for ", output_count, " outputs")};
    }
    if (output_count == 1000) return {imagenet_class_names(), "ImageNet", "1000 outputs"};
    if (output_count == 1001) {
        std::vector<std::string> names{"background"};
        names.insert(names.end(), imagenet_class_names().begin(), imagenet_class_names().end());
        return {names, "ImageNet with background", "1001 outputs (background first, as TensorFlow classifiers write them)"};
    }
    ImageInput image = image_input(input_shape, model.layout);
    if (image.height == 32 && image.width == 32 && image.channels == 3) {
        if (output_count == 100) return {cifar100_class_names(), "CIFAR-100", "100 outputs on a 32x32 RGB input"};
        if (output_count == 10) return {cifar10_class_names(), "CIFAR-10", "10 outputs on a 32x32 RGB input"};
    }
    if (image.height == 28 && image.width == 28 && image.channels == 1 && output_count == 10) {
        if (mentions(model, file_name, "fashion")) {
            return {fashion_mnist_class_names(), "Fashion-MNIST", "10 outputs on a 28x28 grey input, and the name says fashion"};
        }
        std::vector<std::string> digits;
        for (int d = 0; d < 10; ++d) digits.push_back(std::to_string(d));
        return {digits, "MNIST digits", "10 outputs on a 28x28 grey input"};
    }
    return {};
}

const char* input_preset_name(InputPreset preset) {
    switch (preset) {
        case InputPreset::unit: return "[0, 1]";
        case InputPreset::symmetric: return "[-1, 1]";
        case InputPreset::imagenet: return "ImageNet mean/std";
        case InputPreset::caffe: return "Caffe BGR mean subtraction";
        case InputPreset::raw: return "0..255";
    }
    return "?";
}

void apply_input_preset(Preprocessing& settings, InputPreset preset) {
    settings.mean.clear();
    settings.std.clear();
    settings.bgr = false;
    switch (preset) {
        case InputPreset::unit: settings.scale = 1.0 / 255.0; break;
        case InputPreset::symmetric:
            settings.scale = 1.0 / 127.5;
            settings.mean = {1.0};
            break;
        case InputPreset::imagenet:
            settings.scale = 1.0 / 255.0;
            settings.mean = {0.485, 0.456, 0.406};
            settings.std = {0.229, 0.224, 0.225};
            if (settings.channels == 1) {
                settings.mean = {0.449};
                settings.std = {0.226};
            }
            break;
        case InputPreset::caffe:
            settings.scale = 1.0;
            settings.bgr = settings.channels == 3;
            settings.mean = settings.channels == 3 ? std::vector<double>{103.939, 116.779, 123.68} : std::vector<double>{116.779};
            break;
        case InputPreset::raw: settings.scale = 1.0; break;
    }
}

PresetGuess guess_input_preset(const Model& model, const Shape& input_shape, const std::string& file_name) {
    if (has_layer_type(model, "Rescaling") || has_layer_type(model, "Normalization")) {
        return {InputPreset::raw, "the model has a Rescaling/Normalization layer: it takes 0..255 pixels"};
    }
    ImageInput image = image_input(input_shape, model.layout);
    bool large = image.channels == 3 && image.height >= 96 && image.width >= 96;
    if (!large) return {InputPreset::unit, "a small image input: [0, 1] is the common choice"};
    bool channels_first = model.layout == DataLayout::channels_first;
    if (!channels_first) {
        if (mentions(model, file_name, "resnet50") || mentions(model, file_name, "vgg")) {
            return {InputPreset::caffe, "a Keras ResNet50/VGG by name: Keras applications feed these Caffe-style inputs"};
        }
        return {InputPreset::symmetric, "a channels-last RGB model of ImageNet size: Keras/TFLite MobileNet-style [-1, 1]"};
    }
    return {InputPreset::imagenet, "a channels-first RGB model of ImageNet size: torchvision's mean/std"};
}

}  // namespace convscope
