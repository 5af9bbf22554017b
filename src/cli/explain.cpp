// convscope explain MODEL IMAGE --method saliency|smoothgrad|ig|gradcam|gradcam++|occlusion
//                  [--layer NAME] [--class C] [--steps N] [--smoothgrad-samples N]
//                  [--window W --stride S --fill V] [--invert] [--scale 1/255]
//                  --out OUT.npy|OUT.png
//
// Why the model chose a class, as an H x W map over its input: the picture
// is preprocessed with the core function the app and `response` use, the
// method runs on the core gradient engine, and the map is written as .npy
// (float32 [H, W]) or as a .png with the heatmap blended over the input.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/explain/gradcam.h"
#include "core/explain/integrated_gradients.h"
#include "core/explain/occlusion.h"
#include "core/explain/saliency.h"
#include "core/formats/image.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"
#include "core/inspect/image_export.h"
#include "core/inspect/preprocess.h"

namespace convscope::cli {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Large enough to look at: maps of 28 x 28 inputs become 224 x 224 pictures.
int magnification_for(int64_t height, int64_t width) {
    const int64_t longest = std::max<int64_t>(1, std::max(height, width));
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(16, 224 / longest)));
}

void write_png_file(const std::string& path, const std::vector<uint8_t>& png) {
    std::ofstream file(path, std::ios::binary);
    file.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    if (!file) throw Error(concat(path, ": cannot write"));
}

}  // namespace

int run_explain(const std::vector<std::string>& args) {
    Arguments arguments(args, {"invert"});
    arguments.allow_only({"method", "layer", "class", "steps", "smoothgrad-samples", "window", "stride", "fill", "invert", "scale", "out"});
    const auto& positional = arguments.positional();
    if (positional.size() != 2) throw UsageError("give a MODEL and an IMAGE");
    if (!arguments.has("method") || !arguments.has("out")) throw UsageError("--method and --out are required");
    const std::string method = arguments.get("method");
    const std::string out_path = arguments.get("out");
    if (!ends_with(out_path, ".npy") && !ends_with(out_path, ".png")) throw UsageError("--out must end in .npy or .png");

    const std::string& model_path = positional[0];
    Model model = open_model_in_place(read_file_bytes_writable(model_path), model_path);
    Engine engine = Engine::build(model);
    GradientEngine gradients = GradientEngine::build(model, engine);

    FileBytes bytes = read_file_bytes(positional[1]);
    Tensor picture = decode_image(ByteSpan(bytes->data(), bytes->size()), positional[1]);
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    settings.invert = arguments.has("invert");
    settings.scale = arguments.get_fraction("scale", settings.scale);
    Tensor input = preprocess_image(picture, settings);

    const int64_t class_index = arguments.get_int("class", -1);
    const Target target = Target::class_score(class_index);
    const std::string layer = arguments.get("layer");
    const auto start = std::chrono::steady_clock::now();
    Explanation explanation;
    if (method == "saliency") {
        explanation = saliency(gradients, input, target);
    } else if (method == "smoothgrad") {
        SmoothGradOptions options;
        options.samples = arguments.get_int("smoothgrad-samples", options.samples);
        explanation = smoothgrad(gradients, input, target, options);
    } else if (method == "ig") {
        IntegratedGradientsOptions options;
        options.steps = arguments.get_int("steps", options.steps);
        explanation = integrated_gradients(gradients, input, target, options);
    } else if (method == "gradcam" || method == "gradcam++") {
        explanation = gradcam(gradients, input, target, layer, method == "gradcam++");
    } else if (method == "occlusion") {
        OcclusionOptions options;
        options.window = arguments.get_int("window", options.window);
        options.stride = arguments.get_int("stride", options.stride);
        options.fill = static_cast<float>(arguments.get_double("fill", options.fill));
        explanation = occlusion(gradients, input, class_index, options);
    } else {
        throw UsageError("--method must be saliency, smoothgrad, ig, gradcam, gradcam++ or occlusion, got '" + method + "'");
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const Tensor& map = explanation.map;
    const int64_t height = map.shape().at(0), width = map.shape().at(1);
    if (ends_with(out_path, ".npy")) {
        npy::write_file(out_path, map);
    } else {
        std::vector<uint8_t> rgb = overlay_on_input(input, engine.layout(), map);
        write_png_file(out_path, encode_png(rgb.data(), static_cast<int>(width), static_cast<int>(height), 3,
                                            magnification_for(height, width)));
    }
    double low = INFINITY, high = -INFINITY, sum = 0.0;
    for (uint64_t i = 0; i < map.element_count(); ++i) {
        low = std::min<double>(low, map.f32()[i]);
        high = std::max<double>(high, map.f32()[i]);
        sum += map.f32()[i];
    }
    std::printf("%s: %s of class %lld (score %.6g) for %s [%s]: %lldx%lld min %.6g max %.6g sum %.6g, %.3f s\n",
                out_path.c_str(), method.c_str(), static_cast<long long>(explanation.class_index), explanation.score,
                positional[1].c_str(), describe_preprocessing(settings).c_str(), static_cast<long long>(height),
                static_cast<long long>(width), low, high, sum, seconds);
    return 0;
}

}  // namespace convscope::cli
