#include "core/inspect/preprocess.h"

#include <cmath>
#include <cstdio>

#include "core/base/error.h"
#include "core/formats/image.h"

namespace convscope {

Preprocessing default_preprocessing(const Shape& input_shape, DataLayout layout) {
    if (input_shape.size() != 4) {
        throw Error(concat("the model's input ", shape_to_string(input_shape), " is not an image batch"));
    }
    Preprocessing settings;
    settings.layout = layout;
    const bool last = layout == DataLayout::channels_last;
    settings.height = last ? input_shape[1] : input_shape[2];
    settings.width = last ? input_shape[2] : input_shape[3];
    settings.channels = last ? input_shape[3] : input_shape[1];
    if (settings.height < 1 || settings.width < 1 || (settings.channels != 1 && settings.channels != 3)) {
        throw Error(concat("cannot feed pictures to the model's input ", shape_to_string(input_shape),
                           ": expected a known size and 1 or 3 channels"));
    }
    return settings;
}

std::string describe_preprocessing(const Preprocessing& settings) {
    char scale[32];
    if (std::fabs(settings.scale * 255.0 - 1.0) < 1e-9) {
        std::snprintf(scale, sizeof scale, "x/255");
    } else {
        std::snprintf(scale, sizeof scale, "x*%.4g", settings.scale);
    }
    std::string text = concat(settings.height, "x", settings.width, settings.channels == 1 ? " grey, " : " RGB, ", scale);
    if (settings.invert) text += ", inverted";
    if (settings.bgr) text += ", BGR order";
    auto list = [](const std::vector<double>& values) {
        std::string out;
        for (double v : values) out += (out.empty() ? "" : ",") + concat(v);
        return out;
    };
    if (!settings.mean.empty()) text += ", mean " + list(settings.mean);
    if (!settings.std.empty()) text += ", std " + list(settings.std);
    return text;
}

Tensor convert_channels(const Tensor& image_any, int64_t channels) {
    if (image_any.rank() != 3) throw Error(concat("expected an image [h, w, c], got ", shape_to_string(image_any.shape())));
    const Tensor image = image_any.to_float32();
    const int64_t h = image.shape()[0], w = image.shape()[1], c = image.shape()[2];
    if (c < 1 || c > 4) throw Error(concat("an image has 1 to 4 channels, this one ", c));
    if (channels != 1 && channels != 3) throw Error(concat("pictures convert to 1 or 3 channels, not ", channels));
    if (c == channels) return image;
    Tensor out = Tensor::zeros(DType::f32, {h, w, channels});
    const float* src = image.f32();
    float* dst = out.mutable_f32();
    for (int64_t i = 0; i < h * w; ++i) {
        const float* pixel = src + i * c;
        const float alpha = (c == 2 || c == 4) ? pixel[c - 1] / 255.0f : 1.0f;
        float r, g, b;
        if (c <= 2) {
            r = g = b = pixel[0];
        } else {
            r = pixel[0];
            g = pixel[1];
            b = pixel[2];
        }
        if (channels == 1) {
            dst[i] = (0.299f * r + 0.587f * g + 0.114f * b) * alpha;
        } else {
            dst[i * 3 + 0] = r * alpha;
            dst[i * 3 + 1] = g * alpha;
            dst[i * 3 + 2] = b * alpha;
        }
    }
    return out;
}

Tensor preprocess_image(const Tensor& image, const Preprocessing& settings) {
    if (settings.height < 1 || settings.width < 1) {
        throw Error(concat("preprocessing: target size ", settings.height, "x", settings.width, " is not positive"));
    }
    if (image.rank() != 3) throw Error(concat("expected an image [h, w, c], got ", shape_to_string(image.shape())));
    shape_element_count({settings.height, settings.width, settings.channels});  // LimitError for absurd sizes
    // Channels first, then resize: fewer channels to interpolate.
    Tensor converted = convert_channels(image, settings.channels);
    Tensor resized = resize_image(converted, settings.height, settings.width).to_float32();
    const int64_t h = settings.height, w = settings.width, c = settings.channels;
    auto per_channel = [](const std::vector<double>& values, int64_t channel, double fallback) {
        if (values.empty()) return fallback;
        return values.size() == 1 ? values[0] : values[static_cast<size_t>(channel) % values.size()];
    };
    std::vector<double> mean(static_cast<size_t>(c)), inv_std(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) {
        mean[static_cast<size_t>(k)] = per_channel(settings.mean, k, 0.0);
        double std = per_channel(settings.std, k, 1.0);
        if (!(std != 0.0) || !std::isfinite(std)) throw Error(concat("preprocessing: std of channel ", k, " is ", std));
        inv_std[static_cast<size_t>(k)] = 1.0 / std;
    }
    const bool last = settings.layout == DataLayout::channels_last;
    Tensor out = Tensor::zeros(DType::f32, last ? Shape{1, h, w, c} : Shape{1, c, h, w});
    const float* src = resized.f32();
    float* dst = out.mutable_f32();
    for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
            for (int64_t k = 0; k < c; ++k) {
                // Mean and std are per model channel, so they index by k.
                const int64_t source = settings.bgr && c == 3 ? 2 - k : k;
                double value = src[(y * w + x) * c + source];
                if (settings.invert) value = 255.0 - value;
                value = (value * settings.scale - mean[static_cast<size_t>(k)]) * inv_std[static_cast<size_t>(k)];
                const int64_t index = last ? (y * w + x) * c + k : (k * h + y) * w + x;
                dst[index] = static_cast<float>(value);
            }
        }
    }
    return out;
}

}  // namespace convscope
