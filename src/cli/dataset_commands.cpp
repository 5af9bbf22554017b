// convscope evaluate / activations / compare: a whole image set through a
// model, and two models side by side (core/dataset). --json prints the
// machine-readable result the tests and scripts read; otherwise a table.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/dataset/activation_atlas.h"
#include "core/dataset/evaluation.h"
#include "core/dataset/image_dataset.h"
#include "core/dataset/model_compare.h"
#include "core/engine/engine.h"
#include "core/formats/registry.h"
#include "core/inspect/class_names.h"
#include "core/inspect/preprocess.h"

namespace convscope::cli {

namespace {

using Json = nlohmann::ordered_json;

struct LoadedModel {
    Model model;
    Engine engine;
    Preprocessing preprocessing;
};

LoadedModel load(const std::string& path, const Arguments& arguments) {
    Model model = open_model_in_place(read_file_bytes_writable(path), path);
    Engine engine = Engine::build(model);
    Preprocessing settings = default_preprocessing(engine.input_shape(), engine.layout());
    settings.invert = arguments.has("invert");
    settings.scale = arguments.get_fraction("scale", settings.scale);
    return {std::move(model), std::move(engine), settings};
}

std::vector<std::string> read_labels(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(concat(path, ": cannot open the labels file"));
    std::vector<std::string> labels;
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        labels.push_back(line);
    }
    while (!labels.empty() && labels.back().empty()) labels.pop_back();
    return labels;
}

Json optional_number(const std::optional<double>& value) {
    return value && std::isfinite(*value) ? Json(*value) : Json(nullptr);
}

void print_progress(const char* what, size_t done, size_t total, bool quiet) {
    if (quiet || total < 200) return;
    std::fprintf(stderr, "\r%s: %zu / %zu images", what, done, total);
    if (done == total) std::fprintf(stderr, "\n");
}

Json evaluation_json(const EvaluationResult& r, const ImageDataset& data, const std::vector<std::string>& class_names,
                     const std::vector<int>& mapping) {
    Json j;
    j["count"] = r.count;
    j["labelled"] = r.labelled;
    j["accuracy"] = r.accuracy;
    j["top_k"] = r.top_k;
    j["top5"] = r.top_k_accuracy;
    j["outputs_are_probabilities"] = r.outputs_are_probabilities;
    j["confusion"] = r.confusion;
    Json per_class = Json::array();
    for (size_t c = 0; c < r.per_class.size(); ++c) {
        const ClassMetrics& m = r.per_class[c];
        per_class.push_back({{"class", c}, {"name", c < class_names.size() ? class_names[c] : std::string()},
                             {"support", m.support}, {"predicted", m.predicted}, {"precision", m.precision}, {"recall", m.recall}});
    }
    j["per_class"] = per_class;
    Json wrong = Json::array();
    for (const WrongPrediction& w : r.confident_wrong) {
        wrong.push_back({{"image", w.image}, {"name", data.name(w.image)}, {"true", w.true_class}, {"predicted", w.predicted}, {"confidence", w.confidence}});
    }
    j["confident_wrong"] = wrong;
    Json bins = Json::array();
    for (const CalibrationBin& b : r.calibration) {
        bins.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}, {"confidence", b.mean_confidence}, {"accuracy", b.accuracy}});
    }
    j["calibration"] = bins;
    j["expected_calibration_error"] = r.expected_calibration_error;
    Json classes = Json::array();
    for (size_t i = 0; i < data.class_names().size(); ++i) classes.push_back({{"folder", data.class_names()[i]}, {"model_class", mapping[i]}});
    j["dataset_classes"] = classes;
    j["predictions"] = r.predictions;
    return j;
}

void print_evaluation(const EvaluationResult& r, const std::vector<std::string>& names) {
    std::printf("images: %lld (%lld labelled)\n", static_cast<long long>(r.count), static_cast<long long>(r.labelled));
    std::printf("accuracy: %.4f   top-%d: %.4f   expected calibration error: %.4f\n", r.accuracy, r.top_k, r.top_k_accuracy,
                r.expected_calibration_error);
    std::printf("\n%-5s %-20s %8s %8s %9s %7s\n", "class", "name", "support", "predicted", "precision", "recall");
    for (size_t c = 0; c < r.per_class.size(); ++c) {
        const ClassMetrics& m = r.per_class[c];
        std::printf("%-5zu %-20s %8lld %8lld %9.4f %7.4f\n", c, c < names.size() ? names[c].c_str() : "",
                    static_cast<long long>(m.support), static_cast<long long>(m.predicted), m.precision, m.recall);
    }
}

}  // namespace

int run_evaluate(const std::vector<std::string>& args) {
    Arguments arguments(args, {"json", "invert", "quiet"});
    arguments.allow_only({"json", "invert", "quiet", "scale", "top", "labels"});
    if (arguments.positional().size() != 2) throw UsageError("give a MODEL and a DATA folder, .zip, .npy or .npz");
    LoadedModel m = load(arguments.positional()[0], arguments);
    ImageDataset data = ImageDataset::open(arguments.positional()[1]);
    std::vector<std::string> class_names;
    if (arguments.has("labels")) class_names = read_labels(arguments.get("labels"));
    if (class_names.empty()) {
        // The model's output size names the classes when it is a known set.
        Tensor probe = preprocess_image(data.image(0), m.preprocessing);
        int64_t outputs = static_cast<int64_t>(m.engine.run(probe).outputs.at(m.engine.output_names().at(0)).element_count());
        ClassNameGuess guess = guess_class_names(m.model, outputs, m.engine.input_shape(), {}, arguments.positional()[0]);
        class_names = guess.names;
        if (!class_names.empty() && !arguments.has("json")) std::printf("class names: %s (%s)\n", guess.source.c_str(), guess.evidence.c_str());
    }
    EvaluationOptions options;
    options.preprocessing = m.preprocessing;
    options.top_k = arguments.get_int("top", 5);
    // Without names, numbered folders are class indices; the output size
    // bounds them once the first image has run (Evaluation ignores others).
    options.class_of_label = match_class_names(data.class_names(), class_names, class_names.empty() ? 1 << 20 : static_cast<int64_t>(class_names.size()));
    if (data.labelled() && std::all_of(options.class_of_label.begin(), options.class_of_label.end(), [](int c) { return c < 0; })) {
        std::fprintf(stderr, "convscope evaluate: warning: the dataset's classes (%s, ...) match none of the model's class names%s; "
                             "accuracy needs them (give --labels FILE, or name the folders 0..N-1)\n",
                     data.class_names().front().c_str(), class_names.empty() ? " (no --labels given)" : "");
    }
    Evaluation run(m.engine, data, options);
    bool quiet = arguments.has("quiet") || arguments.has("json");
    while (!run.done()) {
        run.step(50);
        print_progress("evaluate", run.images_done(), data.size(), quiet);
    }
    EvaluationResult result = run.result();
    if (arguments.has("json")) {
        std::printf("%s\n", evaluation_json(result, data, class_names, options.class_of_label).dump(1).c_str());
    } else {
        std::printf("%s\n", data.describe().c_str());
        print_evaluation(result, class_names);
    }
    return 0;
}

int run_activations(const std::vector<std::string>& args) {
    Arguments arguments(args, {"json", "invert", "all-layers"});
    arguments.allow_only({"json", "invert", "all-layers", "scale", "layer", "top"});
    if (arguments.positional().size() != 2) throw UsageError("give a MODEL and a DATA folder, .zip, .npy or .npz");
    if (arguments.has("layer") == arguments.has("all-layers")) throw UsageError("give --layer NAME or --all-layers");
    LoadedModel m = load(arguments.positional()[0], arguments);
    ImageDataset data = ImageDataset::open(arguments.positional()[1]);
    AtlasOptions options;
    options.preprocessing = m.preprocessing;
    options.top_k = static_cast<size_t>(std::max(1, arguments.get_int("top", 5)));
    options.keep_maps = false;
    std::vector<std::string> layers;
    if (arguments.has("layer")) layers.push_back(arguments.get("layer"));
    ActivationAtlas atlas(m.engine, m.model, data, layers, options);
    while (!atlas.done()) {
        atlas.step(50);
        print_progress("activations", static_cast<size_t>(atlas.progress() * static_cast<double>(data.size()) + 0.5), data.size(), arguments.has("json"));
    }
    std::vector<LayerActivationStatistics> stats = atlas.result();
    if (arguments.has("json")) {
        Json out;
        out["images"] = data.size();
        Json list = Json::array();
        for (const LayerActivationStatistics& layer : stats) {
            Json channels = Json::array();
            for (const ChannelStatistics& c : layer.per_channel) {
                Json top = Json::array();
                for (const ChannelTopImage& t : c.top) top.push_back(t.image);
                channels.push_back({{"mean", c.mean}, {"max", c.max}, {"fraction_active", c.fraction_active},
                                    {"p5", c.p5}, {"p50", c.p50}, {"p95", c.p95}, {"centroid", {c.centroid_x, c.centroid_y}},
                                    {"dead", c.dead}, {"saturated", c.saturated}, {"top", top}});
            }
            list.push_back({{"layer", layer.layer}, {"channel_count", layer.channels}, {"dead", layer.dead_count()},
                            {"saturated", layer.saturated_count()}, {"channels", channels}});
        }
        if (arguments.has("layer")) {
            out["layer"] = stats.at(0).layer;
            out["channels"] = list.at(0)["channels"];
        } else {
            out["layers"] = list;
            out["skipped_layers"] = atlas.skipped_layers();
        }
        std::printf("%s\n", out.dump(1).c_str());
        return 0;
    }
    std::printf("%s\n", data.describe().c_str());
    if (arguments.has("all-layers")) {
        std::printf("\n%-32s %8s %6s %6s %9s\n", "layer", "channels", "dead", "%dead", "saturated");
        for (const LayerActivationStatistics& layer : stats) {
            std::printf("%-32s %8lld %6lld %5.1f%% %9lld\n", layer.layer.c_str(), static_cast<long long>(layer.channels),
                        static_cast<long long>(layer.dead_count()), 100.0 * static_cast<double>(layer.dead_count()) / static_cast<double>(std::max<int64_t>(1, layer.channels)),
                        static_cast<long long>(layer.saturated_count()));
        }
        return 0;
    }
    const LayerActivationStatistics& layer = stats.at(0);
    std::printf("\n%-7s %10s %10s %8s %s\n", "channel", "mean", "max", "active", "top images");
    for (size_t c = 0; c < layer.per_channel.size(); ++c) {
        const ChannelStatistics& s = layer.per_channel[c];
        std::string top;
        for (const ChannelTopImage& t : s.top) top += concat(top.empty() ? "" : " ", t.image);
        std::printf("%-7zu %10.4f %10.4f %7.1f%% %s%s\n", c, s.mean, s.max, 100.0 * s.fraction_active, top.c_str(),
                    s.dead ? "  (dead: never fires)" : s.saturated ? "  (saturated: always fires)" : "");
    }
    return 0;
}

int run_compare(const std::vector<std::string>& args) {
    Arguments arguments(args, {"json", "invert"});
    arguments.allow_only({"json", "invert", "scale", "images", "match"});
    if (arguments.positional().size() != 2) throw UsageError("give MODEL_A and MODEL_B");
    CompareOptions options;
    // --match A=B,C=D: manual layer pairs.
    std::string pairs = arguments.get("match");
    for (size_t start = 0; start < pairs.size();) {
        size_t comma = pairs.find(',', start);
        std::string pair = pairs.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) throw UsageError("--match expects A_LAYER=B_LAYER[,...], got '" + pair + "'");
        options.overrides[pair.substr(0, eq)] = pair.substr(eq + 1);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    ModelComparison result;
    if (arguments.has("images")) {
        LoadedModel a = load(arguments.positional()[0], arguments);
        LoadedModel b = load(arguments.positional()[1], arguments);
        ImageDataset data = ImageDataset::open(arguments.get("images"));
        result = compare_models_on_images(a.model, a.engine, a.preprocessing, b.model, b.engine, b.preprocessing, data, options);
    } else {
        const std::string& pa = arguments.positional()[0];
        const std::string& pb = arguments.positional()[1];
        Model a = open_model(read_file_bytes(pa), pa);
        Model b = open_model(read_file_bytes(pb), pb);
        result = compare_models(a, b, options);
    }
    if (arguments.has("json")) {
        Json out;
        Json layers = Json::array();
        for (const LayerComparison& l : result.layers) {
            Json moved = Json::array();
            for (const FilterMove& f : l.moved) moved.push_back({{"from", f.from}, {"to", f.to}, {"cosine", f.cosine}});
            layers.push_back({{"name", l.name}, {"matched_to", l.matched_to.empty() ? Json(nullptr) : Json(l.matched_to)},
                              {"matched_by", l.matched_by}, {"weight_rel_l2", l.weight_rel_l2}, {"weight_cosine", l.weight_cosine},
                              {"filter_change", l.filter_change}, {"filter_match", l.filter_match}, {"moved_filters", moved},
                              {"sign_flips", l.sign_flips}, {"activation_cka", optional_number(l.activation_cka)},
                              {"activation_cosine", optional_number(l.activation_cosine)}, {"sqnr_db", optional_number(l.sqnr_db)},
                              {"activations_identical", l.activations_identical}});
        }
        out["layers"] = layers;
        out["unmatched_a"] = result.unmatched_a;
        out["unmatched_b"] = result.unmatched_b;
        if (result.prediction_agreement) {
            out["images"] = result.images;
            out["prediction_agreement"] = *result.prediction_agreement;
            out["disagreements"] = result.disagreements;
        }
        std::printf("%s\n", out.dump(1).c_str());
        return 0;
    }
    std::printf("%-28s %-28s %9s %8s %8s %8s %s\n", "layer (A)", "matched to (B)", "rel L2", "cosine", "CKA", "SQNR dB", "filters");
    for (const LayerComparison& l : result.layers) {
        auto number = [](const std::optional<double>& v) { return v ? concat(std::round(*v * 10000.0) / 10000.0) : std::string("-"); };
        std::string filters;
        if (!l.moved.empty()) filters += concat(l.moved.size(), " moved (e.g. ", l.moved[0].from, " -> ", l.moved[0].to, ")");
        if (!l.sign_flips.empty()) filters += concat(filters.empty() ? "" : ", ", l.sign_flips.size(), " sign flips");
        std::printf("%-28s %-28s %9.4f %8.4f %8s %8s %s\n", l.name.c_str(), l.matched_to.empty() ? "(unmatched)" : l.matched_to.c_str(),
                    l.weight_rel_l2, l.weight_cosine, number(l.activation_cka).c_str(),
                    l.activations_identical ? "same" : number(l.sqnr_db).c_str(), filters.c_str());
    }
    if (result.prediction_agreement) {
        std::printf("\nprediction agreement on %lld images: %.4f\n", static_cast<long long>(result.images), *result.prediction_agreement);
    }
    return 0;
}

}  // namespace convscope::cli
