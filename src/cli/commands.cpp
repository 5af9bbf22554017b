#include "cli/commands.h"

#include <algorithm>
#include <cstdio>

#include "core/formats/registry.h"

namespace convscope::cli {

// Commands register here, one line each.
const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"run", "run a model on .npy inputs (several by name); --layer stops at a layer", "convscope run MODEL --input IN.npy | --input NAME=IN.npy... [--layer NAME] --out OUT.npy|DIR", run_run},
        {"predict", "classify images (top-K classes with probabilities)", "convscope predict MODEL IMAGE... [--top K] [--labels FILE] [--invert] [--scale 1/255]", run_predict},
        {"info", "detect a file's format and size", "convscope info FILE...", run_info},
        {"summary", "print a model's layers, output shapes and parameter counts", "convscope summary MODEL [--json]", run_summary},
        {"weights", "list a layer's weight arrays; --out writes them as .npy", "convscope weights MODEL --layer NAME [--out DIR]", run_weights},
        {"response", "one kernel's response to an image (no bias, no activation) as .npy or .png", "convscope response MODEL IMAGE|--sample N --layer NAME --kernel K [--channel C] [--layer-output] [--invert] [--scale 1/255] [--mean M] [--std S] --out OUT.npy|OUT.png", run_response},
        {"explain", "why the model picked a class: a saliency/IG/Grad-CAM/occlusion map as .npy or .png", "convscope explain MODEL IMAGE --method saliency|smoothgrad|ig|gradcam|gradcam++|occlusion [--layer NAME] [--class C] [--steps N] [--smoothgrad-samples N] [--window W --stride S --fill V] [--invert] [--scale 1/255] --out OUT.npy|OUT.png", run_explain},
        {"visualize", "a picture made by gradient ascent to excite one channel (or class), as .png or .npy", "convscope visualize MODEL --layer NAME --channel C | --class C [--steps N] [--step-size S] [--seed N] --out OUT.png|OUT.npy", run_visualize},
        {"evaluate", "a folder/.zip/.npy/.npz of images through a classifier: accuracy, top-5, confusion, calibration", "convscope evaluate MODEL DATA [--labels FILE] [--top K] [--invert] [--scale 1/255] [--json]", run_evaluate},
        {"activations", "per-channel activation statistics over a dataset; dead and saturated channels", "convscope activations MODEL DATA --layer NAME|--all-layers [--top K] [--json]", run_activations},
        {"compare", "two models side by side: weight change per layer, filter matching, activation CKA, prediction agreement", "convscope compare MODEL_A MODEL_B [--images DATA] [--match A=B,...] [--json]", run_compare},
        {"h5dump", "print an HDF5 file's tree as canonical JSON (for cross-checks)", "convscope h5dump FILE", run_h5dump},
    };
    return table;
}

Arguments::Arguments(const std::vector<std::string>& args, const std::vector<std::string>& switches) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
            std::string name = arg.substr(2);
            size_t eq = name.find('=');
            if (eq != std::string::npos) {
                flags_.emplace_back(name.substr(0, eq), name.substr(eq + 1));
            } else if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
                flags_.emplace_back(name, "1");
            } else {
                if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value");
                flags_.emplace_back(name, args[++i]);
            }
        } else {
            positional_.push_back(arg);
        }
    }
}

bool Arguments::has(const std::string& flag) const {
    for (const auto& [name, value] : flags_) if (name == flag) return true;
    return false;
}

std::string Arguments::get(const std::string& flag, const std::string& fallback) const {
    for (const auto& [name, value] : flags_) if (name == flag) return value;
    return fallback;
}

std::vector<std::string> Arguments::get_all(const std::string& flag) const {
    std::vector<std::string> values;
    for (const auto& [name, value] : flags_) if (name == flag) values.push_back(value);
    return values;
}

int Arguments::get_int(const std::string& flag, int fallback) const {
    if (!has(flag)) return fallback;
    std::string text = get(flag);
    try {
        size_t used = 0;
        int value = std::stoi(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
        return value;
    } catch (const std::exception&) {
        throw UsageError("--" + flag + " expects an integer, got '" + text + "'");
    }
}

double Arguments::get_double(const std::string& flag, double fallback) const {
    if (!has(flag)) return fallback;
    std::string text = get(flag);
    try {
        size_t used = 0;
        double value = std::stod(text, &used);
        if (used != text.size()) throw std::invalid_argument(text);
        return value;
    } catch (const std::exception&) {
        throw UsageError("--" + flag + " expects a number, got '" + text + "'");
    }
}

double Arguments::get_fraction(const std::string& flag, double fallback) const {
    if (!has(flag)) return fallback;
    std::string text = get(flag);
    try {
        size_t slash = text.find('/');
        size_t used = 0;
        if (slash == std::string::npos) {
            double value = std::stod(text, &used);
            if (used != text.size()) throw std::invalid_argument(text);
            return value;
        }
        double numerator = std::stod(text.substr(0, slash));
        double denominator = std::stod(text.substr(slash + 1));
        if (denominator == 0.0) throw std::invalid_argument(text);
        return numerator / denominator;
    } catch (const std::exception&) {
        throw UsageError("--" + flag + " expects a number or a fraction like 1/255, got '" + text + "'");
    }
}

void Arguments::allow_only(const std::vector<std::string>& known) const {
    for (const auto& [name, value] : flags_) {
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            throw UsageError("unknown option --" + name);
        }
    }
}

int run_info(const std::vector<std::string>& args) {
    Arguments arguments(args, {});
    arguments.allow_only({});
    if (arguments.positional().empty()) throw UsageError("no file given");
    for (const std::string& path : arguments.positional()) {
        FileBytes bytes = read_file_bytes(path);
        ByteSpan span(bytes->data(), bytes->size());
        const char* format_name = "unknown";
        for (const FormatReader& format : model_formats()) {
            if (format.matches(span)) {
                format_name = format.description;
                break;
            }
        }
        std::printf("%s: %zu bytes, %s\n", path.c_str(), bytes->size(), format_name);
    }
    return 0;
}

}  // namespace convscope::cli
