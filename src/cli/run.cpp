// convscope run / predict: the engine from the command line.
//
//   convscope run MODEL --input IN.npy --out OUT.npy                 one input, one output
//   convscope run MODEL --input a=A.npy --input b=B.npy --out DIR    DIR/<output name>.npy each
//   convscope run MODEL --input IN.npy --layer NAME --out OUT.npy    one layer's output
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/formats/image.h"
#include "core/formats/npy.h"
#include "core/formats/bundle.h"
#include "core/formats/registry.h"
#include "core/inspect/class_names.h"
#include "core/ops/tensor_ops.h"

namespace convscope::cli {

namespace {

std::string joined_names(const std::vector<ValueInfo>& inputs) {
    std::string text;
    for (const ValueInfo& input : inputs) text += (text.empty() ? "" : ", ") + input.name;
    return text;
}

// --input values to model inputs. "NAME=FILE" names the input; a plain
// FILE (or one whose text before '=' is no input's name, since a path may
// contain '=') feeds the only input of a one-input model.
std::map<std::string, Tensor> read_run_inputs(const std::vector<std::string>& values, const Engine& engine) {
    const std::vector<ValueInfo>& inputs = engine.inputs();
    std::map<std::string, Tensor> feeds;
    for (const std::string& value : values) {
        std::string name, file = value;
        size_t equals = value.find('=');
        if (equals != std::string::npos) {
            std::string prefix = value.substr(0, equals);
            bool known = std::any_of(inputs.begin(), inputs.end(), [&](const ValueInfo& i) { return i.name == prefix; });
            if (known) name = prefix, file = value.substr(equals + 1);
            else if (!std::ifstream(value)) {
                throw UsageError(concat("--input ", value, ": the model has no input '", prefix, "' (its inputs: ",
                                        joined_names(inputs), ")"));
            }
        }
        if (name.empty()) {
            if (inputs.size() != 1) {
                throw UsageError(concat("the model has ", inputs.size(), " inputs (", joined_names(inputs),
                                        "); give each as --input NAME=FILE.npy"));
            }
            name = inputs[0].name;
        }
        if (feeds.count(name)) throw UsageError(concat("input '", name, "' is given twice"));
        feeds[name] = npy::read_file(file);
    }
    for (const ValueInfo& input : inputs) {
        if (!feeds.count(input.name)) {
            throw UsageError(concat("no --input for model input '", input.name, "' (the model's inputs: ",
                                    joined_names(inputs), "; give each as --input NAME=FILE.npy)"));
        }
    }
    return feeds;
}

// A value name as a file name: ONNX names such as "onnx::Add_5" or
// "output/0" keep their letters, digits, '.', '-' and '_'.
std::string file_name_for(const std::string& value_name) {
    std::string name;
    for (char c : value_name) name += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '_';
    if (name.empty() || name == "." || name == "..") name = "output" + name;
    return name;
}

bool names_a_directory(const std::string& out) {
    return std::filesystem::is_directory(out) || (!out.empty() && out.back() == '/');
}

// Where each tensor goes: one tensor to FILE.npy (or DIR/<name>.npy when
// --out is a directory); several always to DIR/<name>.npy.
std::vector<std::pair<std::string, std::string>> output_files(const std::vector<std::string>& names,
                                                              const std::string& out) {
    bool directory = names_a_directory(out);
    if (names.size() > 1 && !directory && out.size() >= 4 && out.compare(out.size() - 4, 4, ".npy") == 0) {
        std::string list;
        for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
        throw UsageError(concat("the model has ", names.size(), " outputs (", list,
                                "); give --out DIR to write each as DIR/<output name>.npy"));
    }
    std::vector<std::pair<std::string, std::string>> files;
    if (names.size() == 1 && !directory) return {{names[0], out}};
    std::set<std::string> used;
    for (const std::string& name : names) {
        std::string base = file_name_for(name), file = base;
        for (int n = 2; used.count(file); ++n) file = concat(base, "_", n);  // two names that read alike
        used.insert(file);
        files.emplace_back(name, (std::filesystem::path(out) / (file + ".npy")).string());
    }
    return files;
}

}  // namespace

int run_run(const std::vector<std::string>& args) {
    Arguments arguments(args, {});
    arguments.allow_only({"input", "layer", "out"});
    if (arguments.positional().empty()) throw UsageError("give a MODEL (or the files of one model: model.json weights.h5, a folder, a .zip)");
    if (!arguments.has("input") || !arguments.has("out")) throw UsageError("--input and --out are required");
    Model model = open_model_files(arguments.positional());
    Engine engine = Engine::build(model);
    std::map<std::string, Tensor> feeds = read_run_inputs(arguments.get_all("input"), engine);
    std::vector<std::string> names;
    std::map<std::string, Tensor> results;
    RunOptions options;
    if (arguments.has("layer")) options.stop_after = arguments.get("layer");
    RunResult run = engine.run(feeds, options);
    if (arguments.has("layer")) {
        auto found = run.activations.find(arguments.get("layer"));
        if (found == run.activations.end()) throw Error(concat("layer '", arguments.get("layer"), "' produced no output"));
        names.push_back(arguments.get("layer"));
        results[names[0]] = found->second;
    } else {
        for (const std::string& name : engine.output_names()) {
            names.push_back(name);
            results[name] = run.outputs.at(name);
        }
    }
    std::vector<std::pair<std::string, std::string>> files = output_files(names, arguments.get("out"));
    if (files.size() > 1 || names_a_directory(arguments.get("out"))) {
        std::filesystem::create_directories(arguments.get("out"));
    }
    for (const auto& [name, file] : files) {
        const Tensor& result = results.at(name);
        npy::write_file(file, result);
        std::printf("%s: wrote %s %s (%s)\n", file.c_str(), dtype_name(result.dtype()),
                    shape_to_string(result.shape()).c_str(), name.c_str());
    }
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
    // A bad --scale is a usage error, not an uncaught std::stod exception.
    const double scale = arguments.get_fraction("scale", 1.0 / 255.0);
    std::vector<std::string> labels;
    if (arguments.has("labels")) {
        std::ifstream in(arguments.get("labels"));
        if (!in) throw Error(concat(arguments.get("labels"), ": cannot open labels file"));
        for (std::string line; std::getline(in, line);) labels.push_back(line);
    }
    bool named = false;
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
        if (!named) {
            // Without --labels (or with a list of the wrong size), names by
            // the output size and input shape (ImageNet, CIFAR, MNIST).
            named = true;
            ClassNameGuess guess = guess_class_names(model, static_cast<int64_t>(scores.size()), shape, labels, path);
            if (guess.source != "labels" && !guess.names.empty()) {
                std::printf("class names: %s (%s)\n", guess.source.c_str(), guess.evidence.c_str());
            }
            labels = guess.names;
        }
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
