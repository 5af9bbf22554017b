#include "core/dataset/evaluation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/base/error.h"

namespace convscope {

std::vector<double> class_probabilities(const Tensor& output, bool* was_probability) {
    std::vector<double> values(output.element_count());
    double sum = 0.0;
    bool non_negative = true;
    for (uint64_t i = 0; i < output.element_count(); ++i) {
        values[i] = output.value_at(i);
        sum += values[i];
        non_negative = non_negative && values[i] >= 0.0;
    }
    bool probability = non_negative && std::fabs(sum - 1.0) <= 1e-3;
    if (was_probability) *was_probability = probability;
    if (probability || values.empty()) return values;
    double peak = *std::max_element(values.begin(), values.end());
    double total = 0.0;
    for (double& v : values) {
        v = std::exp(v - peak);
        total += v;
    }
    for (double& v : values) v /= total;
    return values;
}

Evaluation::Evaluation(const Engine& engine, const ImageDataset& dataset, EvaluationOptions options)
    : engine_(engine), dataset_(dataset), options_(std::move(options)) {
    if (options_.top_k < 1) throw Error(concat("evaluation: top-k must be at least 1, got ", options_.top_k));
    if (options_.calibration_bins < 1 || options_.calibration_bins > 1000) {
        throw Error(concat("evaluation: calibration bins must be 1..1000, got ", options_.calibration_bins));
    }
    state_.top_k = options_.top_k;
    bin_confidence_.assign(static_cast<size_t>(options_.calibration_bins), 0.0);
    bin_correct_.assign(static_cast<size_t>(options_.calibration_bins), 0);
    state_.calibration.resize(static_cast<size_t>(options_.calibration_bins));
}

double Evaluation::progress() const {
    return dataset_.size() ? static_cast<double>(next_) / static_cast<double>(dataset_.size()) : 1.0;
}

size_t Evaluation::step(size_t images) {
    size_t ran = 0;
    for (; ran < images && next_ < dataset_.size(); ++ran, ++next_) {
        Tensor input = preprocess_image(dataset_.image(next_), options_.preprocessing);
        RunResult run = engine_.run(input);
        const Tensor& output = run.outputs.at(engine_.output_names().at(0));
        bool probability = true;
        std::vector<double> p = class_probabilities(output, &probability);
        if (!probability) state_.outputs_are_probabilities = false;
        int64_t classes = static_cast<int64_t>(p.size());
        if (classes < 1) throw Error(concat("evaluation: the model's output is empty for image ", next_));
        if (state_.class_count == 0) {
            state_.class_count = classes;
            state_.confusion.assign(static_cast<size_t>(classes), std::vector<int64_t>(static_cast<size_t>(classes), 0));
            state_.per_class.assign(static_cast<size_t>(classes), ClassMetrics{});
        } else if (classes != state_.class_count) {
            throw Error(concat("evaluation: image ", next_, " gave ", classes, " outputs; earlier images gave ", state_.class_count));
        }
        std::vector<int> order(p.size());
        std::iota(order.begin(), order.end(), 0);
        // Ties go to the lower index, as argmax does.
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
        int predicted = order[0];
        double confidence = p[static_cast<size_t>(predicted)];
        state_.count += 1;
        state_.predictions.push_back(predicted);
        state_.confidences.push_back(static_cast<float>(confidence));
        state_.per_class[static_cast<size_t>(predicted)].predicted += 1;

        int label = dataset_.label(next_);
        int truth = -1;
        if (label >= 0 && static_cast<size_t>(label) < options_.class_of_label.size()) truth = options_.class_of_label[static_cast<size_t>(label)];
        if (truth < 0 || truth >= classes) continue;
        bool correct = predicted == truth;
        state_.labelled += 1;
        state_.correct += correct;
        int k = std::min<int>(options_.top_k, static_cast<int>(classes));
        state_.top_k_correct += std::find(order.begin(), order.begin() + k, truth) != order.begin() + k;
        state_.confusion[static_cast<size_t>(truth)][static_cast<size_t>(predicted)] += 1;
        state_.per_class[static_cast<size_t>(truth)].support += 1;
        state_.per_class[static_cast<size_t>(truth)].correct += correct;

        int bins = options_.calibration_bins;
        int bin = std::min(bins - 1, static_cast<int>(confidence * bins));
        bin_confidence_[static_cast<size_t>(bin)] += confidence;
        bin_correct_[static_cast<size_t>(bin)] += correct;
        state_.calibration[static_cast<size_t>(bin)].count += 1;

        if (!correct) {
            WrongPrediction wrong{next_, truth, predicted, confidence};
            auto& list = state_.confident_wrong;
            auto at = std::upper_bound(list.begin(), list.end(), wrong,
                                       [](const WrongPrediction& a, const WrongPrediction& b) { return a.confidence > b.confidence; });
            list.insert(at, wrong);
            if (list.size() > options_.wrong_examples) list.pop_back();
        }
    }
    return ran;
}

EvaluationResult Evaluation::result() const {
    EvaluationResult r = state_;
    if (r.labelled) {
        r.accuracy = static_cast<double>(r.correct) / static_cast<double>(r.labelled);
        r.top_k_accuracy = static_cast<double>(r.top_k_correct) / static_cast<double>(r.labelled);
    }
    for (ClassMetrics& m : r.per_class) m.recall = m.support ? static_cast<double>(m.correct) / static_cast<double>(m.support) : 0.0;
    // Precision counts only labelled predictions: an unlabelled image has
    // no truth to be right or wrong against.
    for (size_t c = 0; c < r.per_class.size(); ++c) {
        int64_t labelled_predicted = 0;
        for (const auto& row : r.confusion) labelled_predicted += row[c];
        ClassMetrics& m = r.per_class[c];
        m.precision = labelled_predicted ? static_cast<double>(m.correct) / static_cast<double>(labelled_predicted) : 0.0;
    }
    int bins = options_.calibration_bins;
    double ece = 0.0;
    for (int b = 0; b < bins; ++b) {
        CalibrationBin& bin = r.calibration[static_cast<size_t>(b)];
        bin.lower = static_cast<double>(b) / bins;
        bin.upper = static_cast<double>(b + 1) / bins;
        if (!bin.count) continue;
        bin.mean_confidence = bin_confidence_[static_cast<size_t>(b)] / static_cast<double>(bin.count);
        bin.accuracy = static_cast<double>(bin_correct_[static_cast<size_t>(b)]) / static_cast<double>(bin.count);
        if (r.labelled) ece += static_cast<double>(bin.count) / static_cast<double>(r.labelled) * std::fabs(bin.accuracy - bin.mean_confidence);
    }
    r.expected_calibration_error = ece;
    return r;
}

EvaluationResult evaluate(const Engine& engine, const ImageDataset& dataset, const EvaluationOptions& options) {
    Evaluation run(engine, dataset, options);
    while (!run.done()) run.step(64);
    return run.result();
}

}  // namespace convscope
