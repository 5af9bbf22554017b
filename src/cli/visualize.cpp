// convscope visualize MODEL --layer NAME --channel C [--steps N] [--step-size S]
//                    [--seed N] --out OUT.png|OUT.npy
// convscope visualize MODEL --class C [--steps N] ... --out OUT.png|OUT.npy
//
// A picture made for one channel (or class) by gradient ascent on the input
// (core/explain/filter_visualization.h), written as a .png (grey or RGB, in
// the model's input range) or as the raw model input (.npy, the model's
// layout). Prints the target before and after.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/explain/explanation.h"
#include "core/explain/filter_visualization.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"
#include "core/inspect/image_export.h"

namespace convscope::cli {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// 8-bit pixels [H][W][channels] of a batch-1 input over [low, high].
std::vector<uint8_t> input_pixels(const Tensor& image, DataLayout layout, float low, float high, int* channels_out) {
    SpatialSize size = spatial_size(image, layout);
    const int channels = size.channels >= 3 ? 3 : 1;
    const int64_t pixels = size.height * size.width;
    const float* v = image.f32();
    std::vector<uint8_t> bytes(static_cast<size_t>(pixels * channels));
    for (int64_t p = 0; p < pixels; ++p) {
        for (int c = 0; c < channels; ++c) {
            const float x = layout == DataLayout::channels_first ? v[c * pixels + p] : v[p * size.channels + c];
            const float t = std::clamp((x - low) / (high - low), 0.0f, 1.0f);
            bytes[static_cast<size_t>(p * channels + c)] = static_cast<uint8_t>(std::lround(255.0f * t));
        }
    }
    *channels_out = channels;
    return bytes;
}

}  // namespace

int run_visualize(const std::vector<std::string>& args) {
    Arguments arguments(args, {});
    arguments.allow_only({"layer", "channel", "class", "steps", "step-size", "seed", "out"});
    const auto& positional = arguments.positional();
    if (positional.size() != 1) throw UsageError("give one MODEL");
    if (!arguments.has("out")) throw UsageError("--out is required");
    const bool by_class = arguments.has("class");
    if (by_class == arguments.has("layer")) throw UsageError("give either --layer NAME --channel C or --class C");
    if (!by_class && !arguments.has("channel")) throw UsageError("--layer needs --channel C");
    const std::string out_path = arguments.get("out");
    if (!ends_with(out_path, ".npy") && !ends_with(out_path, ".png")) throw UsageError("--out must end in .npy or .png");

    const std::string& model_path = positional[0];
    Model model = open_model_in_place(read_file_bytes_writable(model_path), model_path);
    Engine engine = Engine::build(model);
    GradientEngine gradients = GradientEngine::build(model, engine);

    const Target target = by_class ? Target::class_score(arguments.get_int("class", 0))
                                   : Target::channel_mean(arguments.get("layer"), arguments.get_int("channel", 0));
    FilterVisualizationOptions options;
    options.steps = arguments.get_int("steps", options.steps);
    options.step_size = static_cast<float>(arguments.get_double("step-size", options.step_size));
    options.seed = static_cast<uint32_t>(arguments.get_int("seed", static_cast<int>(options.seed)));
    FilterVisualization result = visualize_filter(gradients, target, options);

    if (ends_with(out_path, ".npy")) {
        npy::write_file(out_path, result.image);
    } else {
        int channels = 1;
        std::vector<uint8_t> pixels = input_pixels(result.image, engine.layout(), options.value_low, options.value_high, &channels);
        SpatialSize size = spatial_size(result.image, engine.layout());
        const int magnify = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(16, 224 / std::max(size.height, size.width))));
        std::vector<uint8_t> png = encode_png(pixels.data(), static_cast<int>(size.width), static_cast<int>(size.height), channels, magnify);
        std::ofstream file(out_path, std::ios::binary);
        file.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
        if (!file) throw Error(concat(out_path, ": cannot write"));
    }
    std::printf("%s: %s, %zu steps: %.6g -> %.6g\n", out_path.c_str(),
                by_class ? concat("class ", target.class_index, " logit").c_str()
                         : concat("mean of ", target.layer, " channel ", target.channel).c_str(),
                result.objective_per_step.size(), result.initial_objective, result.final_objective);
    return 0;
}

}  // namespace convscope::cli
