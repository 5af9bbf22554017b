// The one helper that compares an optimised (SIMD) kernel with its scalar
// reference on random inputs (after ncnn's test_layer): every op test draws
// shapes from a seeded generator - odd sizes, size 1, sizes that are not a
// multiple of the SIMD width - and requires agreement within a relative
// tolerance, reporting the first mismatch with its index.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace convscope::test {

class OpRandom {
public:
    explicit OpRandom(uint32_t seed) : engine_(seed) {}
    int64_t size(int64_t low, int64_t high) { return std::uniform_int_distribution<int64_t>(low, high)(engine_); }
    bool coin() { return size(0, 1) == 1; }
    std::vector<float> floats(size_t count, float low = -1.0f, float high = 1.0f) {
        std::uniform_real_distribution<float> dist(low, high);
        std::vector<float> values(count);
        for (float& v : values) v = dist(engine_);
        return values;
    }

private:
    std::mt19937 engine_;
};

// |got - want| <= tolerance * max(1, |want|) element by element.
inline void require_close(const float* got, const float* want, size_t count, const std::string& what,
                          float tolerance = 1e-4f) {
    for (size_t i = 0; i < count; ++i) {
        float limit = tolerance * std::max(1.0f, std::fabs(want[i]));
        if (!(std::fabs(got[i] - want[i]) <= limit)) {
            std::ostringstream message;
            message << what << ": element " << i << " of " << count << " is " << got[i] << ", expected " << want[i];
            FAIL(message.str());
        }
    }
    SUCCEED(what);
}

inline void require_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what,
                          float tolerance = 1e-4f) {
    REQUIRE(got.size() == want.size());
    require_close(got.data(), want.data(), got.size(), what, tolerance);
}

// Runs `check(random, case_index)` for `cases` random cases from `seed`;
// the case index goes into every failure message through `what` strings.
template <typename Check>
void for_random_cases(uint32_t seed, int cases, Check check) {
    OpRandom random(seed);
    for (int i = 0; i < cases; ++i) check(random, i);
}

}  // namespace convscope::test
