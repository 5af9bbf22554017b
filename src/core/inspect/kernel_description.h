// A short description of what a 2-D kernel detects, for the line under the
// compare grid ("kernel 0 responds most to left vertical edges"), or
// nothing when the kernel is not clearly one thing.
//
// How: the kernel minus its mean is correlated with three templates over
// its own grid: a left-to-right ramp (x), a top-to-bottom ramp (y) and a
// centre-minus-surround spot. A ramp correlation of magnitude >= 0.6 makes
// it an edge detector whose orientation is the angle of (corr_x, corr_y),
// named by the side of a bright shape it fires on (bright on the right of
// dark is the LEFT edge of a bright shape, as a shoe on Fashion-MNIST's
// black background); a spot correlation >= 0.6 makes it a spot detector;
// a mean that outweighs the rest (all weights of one sign) makes it a
// brightness or darkness detector. `strength` is the winning correlation.
#pragma once

#include <cstdint>
#include <string>

namespace convscope {

struct KernelDescription {
    std::string pattern;   // "left vertical edges", "bright spots", ...; empty when unclear
    double strength = 0.0; // 0..1
};

// `kernel` is row-major height x width (one input channel, or the sum over
// the channels of a colour kernel).
KernelDescription describe_kernel(const float* kernel, int64_t height, int64_t width);

// "kernel 3 responds most to left vertical edges" or "" when unclear.
std::string kernel_sentence(int64_t kernel_index, const KernelDescription& description);

}  // namespace convscope
