// Central finite differences for checking backward functions (shared by
// tests/core/grad and tests/core/explain). The loss is always a scalar
// <r, f(x)> with a random r, evaluated in double from the float32 forward, so
// one check covers the whole Jacobian-transpose product.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace convscope::test {

// d loss / d x_i ~ (loss(x + h e_i) - loss(x - h e_i)) / 2h for every i.
inline std::vector<double> numeric_gradient(const std::function<double(const std::vector<float>&)>& loss,
                                            std::vector<float> x, double h = 1e-3) {
    std::vector<double> gradient(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const float saved = x[i];
        x[i] = static_cast<float>(saved + h);
        const double plus = loss(x);
        x[i] = static_cast<float>(saved - h);
        const double minus = loss(x);
        x[i] = saved;
        gradient[i] = (plus - minus) / (2.0 * h);
    }
    return gradient;
}

// <weights, values> in double.
inline double weighted_sum(const std::vector<float>& weights, const float* values) {
    double sum = 0.0;
    for (size_t i = 0; i < weights.size(); ++i) sum += static_cast<double>(weights[i]) * values[i];
    return sum;
}

// |analytic - numeric| <= tolerance * max(1, |numeric|) element by element.
inline void require_gradient_close(const float* analytic, const std::vector<double>& numeric, const std::string& what,
                                   double tolerance = 2e-3) {
    for (size_t i = 0; i < numeric.size(); ++i) {
        double limit = tolerance * std::max(1.0, std::fabs(numeric[i]));
        if (!(std::fabs(analytic[i] - numeric[i]) <= limit)) {
            std::ostringstream message;
            message << what << ": element " << i << " analytic " << analytic[i] << " numeric " << numeric[i];
            FAIL(message.str());
        }
    }
    SUCCEED(what);
}

}  // namespace convscope::test
