// Statistics and histograms of weight arrays, for the Weights panel and the
// CLI. Any dtype is read through Tensor::value_at, so float16 and integer
// (quantised) weights are described by the values they hold.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/tensor.h"

namespace convscope {

struct WeightStatistics {
    uint64_t count = 0;        // finite values described below
    uint64_t non_finite = 0;   // NaN and +-inf, left out of everything else
    double min = 0.0;
    double max = 0.0;
    double mean = 0.0;
    double std = 0.0;          // population standard deviation (numpy's default, ddof = 0)
    uint64_t zeros = 0;        // values exactly 0
    double sparsity = 0.0;     // zeros / count; 0 for an empty array
};

// One pass for min/max/zeros, a second for the variance around the mean
// (more accurate than the sum-of-squares shortcut for large arrays).
WeightStatistics weight_statistics(const Tensor& tensor);

struct Histogram {
    double low = 0.0;                // left edge of the first bin
    double high = 0.0;               // right edge of the last bin
    std::vector<uint64_t> counts;    // equal-width bins; the last bin includes `high`
    double bin_width() const { return counts.empty() ? 0.0 : (high - low) / static_cast<double>(counts.size()); }
};

// `bins` equal-width bins over [min, max] of the finite values (numpy's
// np.histogram(x, bins) convention). A constant array gets the range
// [v - 0.5, v + 0.5] as numpy does. bins is clamped to 1..4096.
Histogram histogram(const Tensor& tensor, int bins);

}  // namespace convscope
