#include "core/inspect/weight_stats.h"

#include <algorithm>
#include <cmath>

namespace convscope {

WeightStatistics weight_statistics(const Tensor& tensor) {
    WeightStatistics stats;
    double sum = 0.0;
    bool first = true;
    for (uint64_t i = 0; i < tensor.element_count(); ++i) {
        double value = tensor.value_at(i);
        if (!std::isfinite(value)) {
            ++stats.non_finite;
            continue;
        }
        if (first) {
            stats.min = stats.max = value;
            first = false;
        }
        stats.min = std::min(stats.min, value);
        stats.max = std::max(stats.max, value);
        if (value == 0.0) ++stats.zeros;
        sum += value;
        ++stats.count;
    }
    if (stats.count == 0) return stats;
    stats.mean = sum / static_cast<double>(stats.count);
    double squares = 0.0;
    for (uint64_t i = 0; i < tensor.element_count(); ++i) {
        double value = tensor.value_at(i);
        if (!std::isfinite(value)) continue;
        squares += (value - stats.mean) * (value - stats.mean);
    }
    stats.std = std::sqrt(squares / static_cast<double>(stats.count));
    stats.sparsity = static_cast<double>(stats.zeros) / static_cast<double>(stats.count);
    return stats;
}

Histogram histogram(const Tensor& tensor, int bins) {
    bins = std::clamp(bins, 1, 4096);
    WeightStatistics stats = weight_statistics(tensor);
    Histogram result;
    result.counts.assign(static_cast<size_t>(bins), 0);
    if (stats.count == 0) return result;
    result.low = stats.min;
    result.high = stats.max;
    if (result.high == result.low) {
        result.low -= 0.5;
        result.high += 0.5;
    }
    const double scale = static_cast<double>(bins) / (result.high - result.low);
    for (uint64_t i = 0; i < tensor.element_count(); ++i) {
        double value = tensor.value_at(i);
        if (!std::isfinite(value)) continue;
        auto bin = static_cast<int64_t>(std::floor((value - result.low) * scale));
        bin = std::clamp<int64_t>(bin, 0, bins - 1);  // the maximum falls in the last bin
        ++result.counts[static_cast<size_t>(bin)];
    }
    return result;
}

}  // namespace convscope
