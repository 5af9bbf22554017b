// Native timings of the engine with 1 and N threads, interleaved (so a change
// in machine load hits every thread count alike), on the benchmark's ONNX
// models. Also checks that every thread count gives the same output bits.
//
//   build/native/threads_bench build/bench-models [--threads 1,2] [--rounds 15] [MODEL...]
//
// Prints per model the median ms per forward pass for each thread count and
// the speed-up of each over the first.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/base/thread_pool.h"
#include "core/engine/engine.h"
#include "core/formats/registry.h"

using namespace convscope;

namespace {

std::vector<int> parse_counts(const std::string& text) {
    std::vector<int> counts;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        counts.push_back(std::atoi(text.substr(start, comma - start).c_str()));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return counts;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: threads_bench MODELS_DIR [--threads 1,2] [--rounds N] [MODEL...]\n");
        return 2;
    }
    const std::string dir = argv[1];
    std::vector<int> counts{1, 2};
    int rounds = 15;
    std::vector<std::string> names;
    for (int i = 2; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) counts = parse_counts(argv[++i]);
        else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
        else names.push_back(argv[i]);
    }
    if (names.empty()) {
        names = {"conv3x3_c64_56", "conv3x3_c128_28", "conv1x1_c256_28", "depthwise3x3_c96_56", "stem3x3s2_c32_224",
                 "cifar_cnn", "mobilenet_v2", "resnet18"};
    }
    std::printf("%-22s", "model");
    for (int c : counts) std::printf(" %9s", (std::to_string(c) + " thr ms").c_str());
    for (size_t i = 1; i < counts.size(); ++i) std::printf(" %9s", (std::to_string(counts[i]) + "/" + std::to_string(counts[0])).c_str());
    std::printf("  identical\n");
    try {
        for (const std::string& name : names) {
            const std::string path = dir + "/" + name + ".onnx";
            Model model = open_model(read_file_bytes(path), path);
            Engine engine = Engine::build(model);
            Shape shape = engine.input_shape();
            for (int64_t& d : shape) if (d < 0) d = 1;
            std::vector<float> values(static_cast<size_t>(shape_element_count(shape)));
            std::mt19937 random(7);
            std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
            for (float& v : values) v = dist(random);
            Tensor input = Tensor::from_floats(shape, values);
            std::vector<std::vector<double>> times(counts.size());
            std::vector<Tensor> outputs(counts.size());
            for (size_t c = 0; c < counts.size(); ++c) {  // warm-up, and the outputs to compare
                set_thread_count(counts[c]);
                outputs[c] = engine.run(input).outputs.begin()->second;
            }
            for (int r = 0; r < rounds; ++r) {
                for (size_t c = 0; c < counts.size(); ++c) {
                    set_thread_count(counts[c]);
                    const auto start = std::chrono::steady_clock::now();
                    engine.run(input);
                    times[c].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
                }
            }
            bool identical = true;
            for (size_t c = 1; c < counts.size(); ++c) {
                identical = identical && outputs[c].byte_size() == outputs[0].byte_size() &&
                            std::memcmp(outputs[c].f32(), outputs[0].f32(), outputs[0].byte_size()) == 0;
            }
            std::printf("%-22s", name.c_str());
            for (size_t c = 0; c < counts.size(); ++c) std::printf(" %9.2f", median(times[c]));
            for (size_t c = 1; c < counts.size(); ++c) std::printf(" %9.2f", median(times[0]) / median(times[c]));
            std::printf("  %s\n", identical ? "yes" : "NO");
            std::fflush(stdout);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "threads_bench: %s\n", error.what());
        return 1;
    }
    set_thread_count(1);
    return 0;
}
