// convscope response MODEL [IMAGE] --layer NAME --kernel K [--channel C]
//                   [--sample N] [--samples FILE.json] [--layer-output]
//                   [--invert] [--scale 1/255] [--mean M[,M,M]] [--std S[,S,S]]
//                   --out OUT.npy|OUT.png
//
// The app's Kernel-response view from the command line: the picture (or a
// bundled Fashion-MNIST sample) preprocessed to the model's input, the
// layer's input activations convolved with one kernel (no bias, no
// activation), written as .npy (float32 [OH, OW]) or as a coloured .png.
// Uses the same core functions as the app, so the numbers agree.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/image.h"
#include "core/formats/npy.h"
#include "core/formats/registry.h"
#include "core/inspect/image_export.h"
#include "core/inspect/kernels.h"
#include "core/inspect/preprocess.h"
#include "core/inspect/response.h"
#include "core/inspect/samples.h"

namespace convscope::cli {

namespace {

// The bundled samples: --samples, else assets/ under the current folder,
// else the checkout the binary was built in (build/<dir>/convscope).
std::string find_sample_set(const Arguments& arguments) {
    if (arguments.has("samples")) return arguments.get("samples");
    const std::string relative = "assets/images/fashion_samples.json";
    std::vector<std::string> candidates = {relative};
    std::error_code error;
    std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) candidates.push_back((executable.parent_path() / "../.." / relative).lexically_normal().string());
    for (const std::string& candidate : candidates) {
        if (std::filesystem::exists(candidate)) return candidate;
    }
    throw Error(concat("--sample: cannot find ", relative, " (looked in the current folder and beside the binary); give --samples FILE.json"));
}

std::vector<double> number_list(const Arguments& arguments, const std::string& flag) {
    std::vector<double> values;
    if (!arguments.has(flag)) return values;
    std::string text = arguments.get(flag);
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        std::string piece = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        try {
            size_t used = 0;
            values.push_back(std::stod(piece, &used));
            if (used != piece.size()) throw std::invalid_argument(piece);
        } catch (const std::exception&) {
            throw UsageError("--" + flag + " expects numbers separated by commas, got '" + text + "'");
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return values;
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int run_response(const std::vector<std::string>& args) {
    Arguments arguments(args, {"invert", "layer-output"});
    arguments.allow_only({"layer", "kernel", "channel", "sample", "samples", "layer-output", "invert", "scale", "mean",
                          "std", "out"});
    const auto& positional = arguments.positional();
    const bool use_sample = arguments.has("sample");
    if (positional.size() != (use_sample ? 1u : 2u)) {
        throw UsageError(use_sample ? "with --sample give only the MODEL" : "give a MODEL and an IMAGE (or --sample N)");
    }
    if (!arguments.has("layer") || !arguments.has("kernel") || !arguments.has("out")) {
        throw UsageError("--layer, --kernel and --out are required");
    }
    const std::string out_path = arguments.get("out");
    if (!ends_with(out_path, ".npy") && !ends_with(out_path, ".png")) throw UsageError("--out must end in .npy or .png");

    const std::string& model_path = positional[0];
    Model model = open_model_in_place(read_file_bytes_writable(model_path), model_path);
    const Layer* layer = model.find_layer(arguments.get("layer"));
    if (!layer) throw Error(concat("no layer named '", arguments.get("layer"), "' in ", model_path));
    if (!conv_kernels(model, *layer)) {
        throw Error(concat("layer '", layer->name, "' (", layer->type, ") is not a 2-D convolution with a kernel"));
    }
    Engine engine = Engine::build(model);

    Tensor picture;
    std::string picture_name;
    if (use_sample) {
        SampleSet samples = load_sample_set_file(find_sample_set(arguments));
        const int index = arguments.get_int("sample", 0);
        picture = samples.tile(index);
        picture_name = concat("sample ", index, " (", samples.class_name(samples.labels.at(static_cast<size_t>(index))), ")");
    } else {
        FileBytes bytes = read_file_bytes(positional[1]);
        picture = decode_image(ByteSpan(bytes->data(), bytes->size()), positional[1]);
        picture_name = positional[1];
    }
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    settings.invert = arguments.has("invert");
    settings.scale = arguments.get_fraction("scale", settings.scale);
    settings.mean = number_list(arguments, "mean");
    settings.std = number_list(arguments, "std");
    Tensor input = preprocess_image(picture, settings);

    const int kernel = arguments.get_int("kernel", 0);
    const int channel = arguments.get_int("channel", -1);
    Tensor map = arguments.has("layer-output")
                     ? layer_output_channel(engine, model, *layer, input, kernel)
                     : kernel_response_for_input(engine, model, *layer, input, kernel, channel);

    if (ends_with(out_path, ".npy")) {
        npy::write_file(out_path, map);
    } else {
        std::vector<uint8_t> png = heatmap_png(map.f32(), static_cast<int>(map.shape()[1]), static_cast<int>(map.shape()[0]),
                                               ExportColorMap::diverging, 8);
        std::ofstream file(out_path, std::ios::binary);
        file.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
        if (!file) throw Error(concat(out_path, ": cannot write"));
    }
    double low = INFINITY, high = -INFINITY, sum = 0.0;
    for (uint64_t i = 0; i < map.element_count(); ++i) {
        low = std::min<double>(low, map.f32()[i]);
        high = std::max<double>(high, map.f32()[i]);
        sum += map.f32()[i];
    }
    std::printf("%s: %s of layer %s kernel %d%s for %s [%s]: %s min %.6g max %.6g sum %.6g\n", out_path.c_str(),
                arguments.has("layer-output") ? "output channel" : "response", layer->name.c_str(), kernel,
                channel >= 0 && !arguments.has("layer-output") ? concat(" input channel ", channel).c_str() : "",
                picture_name.c_str(), describe_preprocessing(settings).c_str(), shape_to_string_x(map.shape()).c_str(), low,
                high, sum);
    return 0;
}

}  // namespace convscope::cli
