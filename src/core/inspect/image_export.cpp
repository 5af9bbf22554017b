#include "core/inspect/image_export.h"

#include <algorithm>
#include <cmath>

#include <stb_image_write.h>

#include "core/base/error.h"
#include "core/base/limits.h"

namespace convscope {

namespace {

void append_bytes(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    const auto* bytes = static_cast<const uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

void color_range(const float* values, size_t count, ExportColorMap map, float* low, float* high) {
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; ++i) {
        if (!std::isfinite(values[i])) continue;
        lo = std::min(lo, values[i]);
        hi = std::max(hi, values[i]);
    }
    if (lo > hi) lo = hi = 0.0f;
    if (map == ExportColorMap::diverging) {
        const float extent = std::max(std::fabs(lo), std::fabs(hi));
        lo = -extent;
        hi = extent;
    }
    if (hi == lo) {
        // A constant map shows as the map's neutral colour: white (zero) for
        // diverging, the lowest colour otherwise (a dead ReLU channel is dark).
        if (map == ExportColorMap::diverging) {
            lo -= 0.5f;
            hi += 0.5f;
        } else {
            hi = lo + 1.0f;
        }
    }
    *low = lo;
    *high = hi;
}

std::vector<uint8_t> colorize(const float* values, size_t count, ExportColorMap map, float low, float high) {
    std::vector<uint8_t> rgb(count * 3, 0);
    const float span = high - low;
    for (size_t i = 0; i < count; ++i) {
        if (!std::isfinite(values[i])) continue;
        const float t = span > 0.0f ? (values[i] - low) / span : 0.5f;
        color_at(map, t, &rgb[i * 3]);
    }
    return rgb;
}

std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels, int magnify) {
    if (width < 1 || height < 1 || channels < 1 || channels > 4 || magnify < 1) {
        throw Error(concat("encode_png: bad picture ", width, "x", height, "x", channels, " magnified ", magnify));
    }
    const uint64_t out_w = static_cast<uint64_t>(width) * static_cast<uint64_t>(magnify);
    const uint64_t out_h = static_cast<uint64_t>(height) * static_cast<uint64_t>(magnify);
    if (out_w > 16384 || out_h > 16384 || out_w * out_h * static_cast<uint64_t>(channels) > limits::max_tensor_elements) {
        throw_limit_error("encode_png: ", out_w, "x", out_h, " pixels is larger than ConvScope exports");
    }
    std::vector<uint8_t> scaled(static_cast<size_t>(out_w * out_h * static_cast<uint64_t>(channels)));
    for (uint64_t y = 0; y < out_h; ++y) {
        const uint64_t sy = y / static_cast<uint64_t>(magnify);
        for (uint64_t x = 0; x < out_w; ++x) {
            const uint64_t sx = x / static_cast<uint64_t>(magnify);
            for (int c = 0; c < channels; ++c) {
                scaled[static_cast<size_t>((y * out_w + x) * static_cast<uint64_t>(channels) + static_cast<uint64_t>(c))] =
                    pixels[(sy * static_cast<uint64_t>(width) + sx) * static_cast<uint64_t>(channels) + static_cast<uint64_t>(c)];
            }
        }
    }
    std::vector<uint8_t> png;
    const int stride = static_cast<int>(out_w) * channels;
    if (!stbi_write_png_to_func(append_bytes, &png, static_cast<int>(out_w), static_cast<int>(out_h), channels,
                                scaled.data(), stride)) {
        throw Error("encode_png: stb_image_write failed");
    }
    return png;
}

std::vector<uint8_t> heatmap_png(const float* values, int width, int height, ExportColorMap map, int magnify) {
    if (width < 1 || height < 1) throw Error(concat("heatmap_png: bad size ", width, "x", height));
    const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
    float low = 0.0f, high = 1.0f;
    color_range(values, count, map, &low, &high);
    std::vector<uint8_t> rgb = colorize(values, count, map, low, high);
    return encode_png(rgb.data(), width, height, 3, magnify);
}

}  // namespace convscope
