// convscope run / predict: the engine from the command line.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/image.h"
#include "core/formats/npy.h"
#include "core/formats/bundle.h"
#include "core/formats/registry.h"
#include "core/ops/tensor_ops.h"

namespace convscope::cli {

int run_run(const std::vector<std::string>& args) {
    Arguments arguments(args, {});
    arguments.allow_only({"input", "layer", "out"});
    if (arguments.positional().empty()) throw UsageError("give a MODEL (or the files of one model: model.json weights.h5, a folder, a .zip)");
    if (!arguments.has("input") || !arguments.has("out")) throw UsageError("--input and --out are required");
    Model model = open_model_files(arguments.positional());
    Engine engine = Engine::build(model);
    Tensor input = npy::read_file(arguments.get("input"));
    Tensor result;
    if (arguments.has("layer")) {
        result = engine.run_until(input, arguments.get("layer"));
    } else {
        RunResult run = engine.run(input);
        result = run.outputs.at(engine.output_names().at(0));
    }
    npy::write_file(arguments.get("out"), result);
    std::printf("%s: wrote %s %s\n", arguments.get("out").c_str(), dtype_name(result.dtype()), shape_to_string(result.shape()).c_str());
    return 0;
}

int run_predict(const std::vector<std::string>& args) {
    Arguments arguments(args, {"invert"});
    arguments.allow_only({"top", "labels", "invert", "scale"});
    if (arguments.positional().size() < 2) throw UsageError("give a MODEL and at least one IMAGE");
    const std::string& path = arguments.positional()[0];
    Model model = open_model_in_place(read_file_bytes_writable(path), path);
    Engine engine = Engine::build(model);
    Shape shape = engine.input_shape();
    if (shape.size() != 4) throw Error(concat("predict needs an image input; the model takes ", shape_to_string(shape)));
    bool channels_last = engine.layout() == DataLayout::channels_last;
    int64_t h = channels_last ? shape[1] : shape[2], w = channels_last ? shape[2] : shape[3];
    int64_t c = channels_last ? shape[3] : shape[1];
    if (h < 1 || w < 1 || c < 1 || c > 4) throw Error(concat("cannot feed images to input ", shape_to_string(shape)));
    std::string scale_text = arguments.get("scale", "1/255");
    double scale = 1.0;
    size_t slash = scale_text.find('/');
    scale = slash == std::string::npos ? std::stod(scale_text) : std::stod(scale_text.substr(0, slash)) / std::stod(scale_text.substr(slash + 1));
    std::vector<std::string> labels;
    if (arguments.has("labels")) {
        std::ifstream in(arguments.get("labels"));
        if (!in) throw Error(concat(arguments.get("labels"), ": cannot open labels file"));
        for (std::string line; std::getline(in, line);) labels.push_back(line);
    }
    int top = std::max(1, arguments.get_int("top", 5));
    for (size_t i = 1; i < arguments.positional().size(); ++i) {
        const std::string& image_path = arguments.positional()[i];
        FileBytes bytes = read_file_bytes(image_path);
        Tensor image = resize_image(decode_image(ByteSpan(bytes->data(), bytes->size()), image_path, static_cast<int>(c)), h, w);
        std::vector<float> values = image.to_float_vector();
        for (float& v : values) v = static_cast<float>((arguments.has("invert") ? 255.0f - v : v) * scale);
        Tensor input = Tensor::from_floats({1, h, w, c}, values);
        if (!channels_last) input = transpose(input, {0, 3, 1, 2});
        RunResult run = engine.run(input);
        std::vector<float> scores = run.outputs.at(engine.output_names().at(0)).to_float_vector();
        std::vector<size_t> order(scores.size());
        for (size_t k = 0; k < order.size(); ++k) order[k] = k;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
        std::printf("%s\n", image_path.c_str());
        for (size_t k = 0; k < order.size() && static_cast<int>(k) < top; ++k) {
            size_t cls = order[k];
            std::printf("  %3zu  %-20s %.6f\n", cls, cls < labels.size() ? labels[cls].c_str() : "", scores[cls]);
        }
    }
    return 0;
}

}  // namespace convscope::cli
