#include "core/inspect/kernel_description.h"

#include <cmath>
#include <vector>

#include "core/base/error.h"

namespace convscope {

namespace {

constexpr double kClear = 0.6;  // a template correlation that reads as "this is what it does"

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return aa > 0.0 && bb > 0.0 ? ab / std::sqrt(aa * bb) : 0.0;
}

// The side of a bright shape an edge detector fires on, by the direction in
// which its weights increase (image y grows downwards).
const char* edge_name(double angle_degrees) {
    static const char* names[] = {
        "left vertical edges",        // increases to the right: dark | bright
        "top-left diagonal edges",    // increases to the lower right
        "top horizontal edges",       // increases downwards: dark above bright
        "top-right diagonal edges",   // increases to the lower left
        "right vertical edges",
        "bottom-right diagonal edges",
        "bottom horizontal edges",
        "bottom-left diagonal edges",
    };
    double a = std::fmod(angle_degrees + 360.0 + 22.5, 360.0);
    return names[static_cast<int>(a / 45.0) % 8];
}

}  // namespace

KernelDescription describe_kernel(const float* kernel, int64_t height, int64_t width) {
    if (height < 1 || width < 1) throw Error(concat("describe_kernel: a ", height, "x", width, " kernel"));
    size_t n = static_cast<size_t>(height * width);
    if (n < 4) return {};  // 1x1 and 1x2 kernels have no spatial pattern
    double mean = 0.0;
    for (size_t i = 0; i < n; ++i) mean += kernel[i];
    mean /= static_cast<double>(n);
    std::vector<double> centred(n), ramp_x(n), ramp_y(n), spot(n);
    double cx = (static_cast<double>(width) - 1.0) / 2.0, cy = (static_cast<double>(height) - 1.0) / 2.0;
    double energy = 0.0;
    for (int64_t y = 0; y < height; ++y) {
        for (int64_t x = 0; x < width; ++x) {
            size_t i = static_cast<size_t>(y * width + x);
            centred[i] = kernel[i] - mean;
            energy += centred[i] * centred[i];
            ramp_x[i] = static_cast<double>(x) - cx;
            ramp_y[i] = static_cast<double>(y) - cy;
            double r2 = ramp_x[i] * ramp_x[i] + ramp_y[i] * ramp_y[i];
            spot[i] = -r2;
        }
    }
    double spot_mean = 0.0;
    for (double v : spot) spot_mean += v;
    spot_mean /= static_cast<double>(n);
    for (double& v : spot) v -= spot_mean;

    // All weights of one sign and fairly even: a brightness (blur) detector.
    double dc = std::fabs(mean) * std::sqrt(static_cast<double>(n));
    if (dc > 2.0 * std::sqrt(energy)) {
        return {mean > 0 ? "overall brightness" : "overall darkness", dc / (dc + std::sqrt(energy))};
    }
    double corr_x = correlation(centred, ramp_x), corr_y = correlation(centred, ramp_y);
    double ramp = std::sqrt(corr_x * corr_x + corr_y * corr_y);
    double corr_spot = correlation(centred, spot);
    if (ramp >= kClear && ramp >= std::fabs(corr_spot)) {
        double angle = std::atan2(corr_y, corr_x) * 180.0 / 3.14159265358979323846;
        return {edge_name(angle), std::min(1.0, ramp)};
    }
    if (std::fabs(corr_spot) >= kClear) return {corr_spot > 0 ? "bright spots" : "dark spots", std::fabs(corr_spot)};
    return {};
}

std::string kernel_sentence(int64_t kernel_index, const KernelDescription& description) {
    if (description.pattern.empty()) return "";
    return concat("kernel ", kernel_index, " responds most to ", description.pattern);
}

}  // namespace convscope
