// convscope weights MODEL --layer NAME [--out DIR]: a layer's arrays with
// their statistics; --out writes each as DIR/<sanitised name>.npy, which
// numpy.load returns exactly (same dtype, shape and bytes).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/formats/tflite.h"

namespace convscope::cli {

namespace {

// "conv2d/kernel:0" -> "conv2d_kernel_0": safe on every file system.
std::string sanitised_file_name(const std::string& weight_name) {
    std::string out;
    for (char c : weight_name) {
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
        out += safe ? c : '_';
    }
    if (out.empty() || out[0] == '.') out = "_" + out;
    return out;
}

std::string available_layers(const Model& model) {
    std::string out;
    size_t listed = 0;
    for (const Layer& layer : model.layers) {
        if (listed == 60) {
            out += ", ... (" + std::to_string(model.layers.size()) + " layers)";
            break;
        }
        out += (out.empty() ? "" : ", ") + layer.name;
        ++listed;
    }
    return out.empty() ? "none" : out;
}

}  // namespace

int run_weights(const std::vector<std::string>& args) {
    Arguments arguments(args, {});
    arguments.allow_only({"layer", "out"});
    if (arguments.positional().size() != 1) throw UsageError("expected exactly one MODEL file");
    if (!arguments.has("layer")) throw UsageError("--layer NAME is required");
    const std::string& path = arguments.positional()[0];
    Model model = open_model_in_place(read_file_bytes_writable(path), path);
    std::string layer_name = arguments.get("layer");
    const Layer* layer = model.find_layer(layer_name);
    if (!layer) {
        throw Error(concat("no layer named '", layer_name, "' in ", path, "; layers: ", available_layers(model)));
    }
    std::string out_dir = arguments.get("out");
    if (!out_dir.empty()) std::filesystem::create_directories(out_dir);

    std::printf("%s (%s): %zu weight array(s)\n", layer->name.c_str(), layer->type.empty() ? "?" : layer->type.c_str(),
                layer->weights.size());
    for (const Weight& weight : layer->weights) {
        const Tensor& tensor = weight.tensor;
        double low = std::numeric_limits<double>::infinity(), high = -low, sum = 0.0;
        for (uint64_t i = 0; i < tensor.element_count(); ++i) {
            double value = tensor.value_at(i);
            low = std::min(low, value);
            high = std::max(high, value);
            sum += value;
        }
        std::printf("  %-32s %-16s %-8s", weight.name.c_str(), shape_to_string(tensor.shape()).c_str(),
                    dtype_name(tensor.dtype()));
        if (tensor.element_count()) {
            std::printf(" min %.6g max %.6g mean %.6g", low, high, sum / static_cast<double>(tensor.element_count()));
        }
        std::printf("\n");
        if (!out_dir.empty()) {
            std::string file = (std::filesystem::path(out_dir) / (sanitised_file_name(weight.name) + ".npy")).string();
            npy::write_file(file, tensor);
            std::printf("    -> %s\n", file.c_str());
        }
        // Quantized files (TFLite int8/uint8): the scales, and the real values beside the integers.
        auto quantization = layer->weight_quantization.find(weight.name);
        if (quantization != layer->weight_quantization.end()) {
            const WeightQuantization& q = quantization->second;
            auto [low_scale, high_scale] = std::minmax_element(q.scale.begin(), q.scale.end());
            std::printf("    quantized %s: scale %.6g..%.6g, zero_point %lld..%lld\n",
                        q.axis < 0 ? "per tensor" : concat("per channel along axis ", q.axis, " (", q.scale.size(), ")").c_str(),
                        *low_scale, *high_scale, static_cast<long long>(*std::min_element(q.zero_point.begin(), q.zero_point.end())),
                        static_cast<long long>(*std::max_element(q.zero_point.begin(), q.zero_point.end())));
            if (!out_dir.empty()) {
                std::string file = (std::filesystem::path(out_dir) / (sanitised_file_name(weight.name) + ".dequantized.npy")).string();
                npy::write_file(file, dequantize_weight(tensor, q));
                std::printf("    -> %s (float32, dequantized)\n", file.c_str());
            }
        }
    }
    return 0;
}

}  // namespace convscope::cli
