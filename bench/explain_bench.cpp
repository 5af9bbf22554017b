// Native timings of the explanation methods on the demo models
// (assets/models/fashion_deep.{h5,keras,onnx}), each as the median of
// several runs and as a ratio to one forward pass of the same model in the
// same run (the anchor: an explanation costs N forward-pass equivalents).
//
// Not part of the CMake build (bench/ holds the JS benchmark); build it
// against a Release build's core library:
//   g++ -std=c++17 -O2 -DNDEBUG -I src -I /usr/include/eigen3 bench/explain_bench.cpp \
//       build/<dir>/libconvscope_core.a -o build/<dir>/explain_bench
//   build/<dir>/explain_bench [REPO_ROOT]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/explain/gradcam.h"
#include "core/explain/occlusion.h"
#include "core/explain/saliency.h"
#include "core/formats/registry.h"
#include "core/grad/gradient.h"
#include "core/inspect/preprocess.h"
#include "core/inspect/samples.h"

using namespace convscope;

namespace {

double median_ms(const std::function<void()>& work, int runs) {
    work();  // warm-up: probe caches, first-touch allocations
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        work();
        times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const std::string root = argc > 1 ? argv[1] : ".";
    try {
        SampleSet samples = load_sample_set_file(root + "/assets/images/fashion_samples.json");
        std::printf("%-24s %10s %12s %12s %14s\n", "model", "forward ms", "saliency ms", "Grad-CAM ms", "occlusion 4x4");
        for (const char* name : {"fashion_deep.h5", "fashion_deep.keras", "fashion_deep.onnx"}) {
            const std::string path = root + "/assets/models/" + name;
            Model model = open_model(read_file_bytes(path), path);
            Engine engine = Engine::build(model);
            GradientEngine gradients = GradientEngine::build(model, engine);
            Tensor input = preprocess_image(samples.tile(0), default_preprocessing(engine.input_shape(), engine.layout()));
            const int runs = 15;
            const double forward = median_ms([&] { engine.run(input); }, runs);
            const double saliency_ms = median_ms([&] { saliency(gradients, input, Target::class_score()); }, runs);
            const double gradcam_ms = median_ms([&] { gradcam(gradients, input, Target::class_score()); }, runs);
            OcclusionOptions occlusion_options;
            occlusion_options.window = 4;
            occlusion_options.stride = 4;
            const double occlusion_ms = median_ms([&] { occlusion(gradients, input, -1, occlusion_options); }, 5);
            std::printf("%-24s %10.3f %7.3f (%4.1fx) %6.3f (%4.1fx) %7.2f (%5.1fx)\n", name, forward, saliency_ms,
                        saliency_ms / forward, gradcam_ms, gradcam_ms / forward, occlusion_ms, occlusion_ms / forward);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "explain_bench: %s\n", error.what());
        return 1;
    }
    return 0;
}
