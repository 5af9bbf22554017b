// libFuzzer target: several files resolved into one model (bundle.h) and
// the TensorFlow.js layers reader. A ZIP input is one dropped archive
// (Teachable Machine's converted_keras.zip); any other input is split at
// its first NUL byte into a model.json and a second file, given both as
// every shard the manifest names and as weights.h5 (to_json + weights).
// Seeds: tests/fixtures/keras/layouts/*.zip and fuzz_bundle_*.seed, written
// by scripts/make_keras_layout_fixtures.py.
#include <algorithm>
#include <string>

#include "core/formats/bundle.h"
#include "core/formats/tfjs_layers.h"
#include "core/formats/zip.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace convscope;
    return fuzz::expect_clean([&] {
        if (looks_like_zip(ByteSpan(data, size))) {
            Model model = open_model_bundle({{"drop.zip", fuzz::to_file_bytes(data, size)}});
            (void)model.total_parameters();
            return;
        }
        const uint8_t* split = std::find(data, data + size, uint8_t{0});
        std::string json(reinterpret_cast<const char*>(data), static_cast<size_t>(split - data));
        FileBytes second = split == data + size ? fuzz::to_file_bytes(nullptr, 0)
                                                : fuzz::to_file_bytes(split + 1, static_cast<size_t>(data + size - split - 1));
        try {
            Model tfjs = tfjs::open_layers_model(json, "model.json", [&](const std::string&) { return second; });
            (void)tfjs.total_parameters();
        } catch (const Error&) {
        }
        Model pair = open_model_bundle({{"model.json", fuzz::to_file_bytes(data, static_cast<size_t>(split - data))},
                                        {"weights.h5", second}});
        (void)pair.total_parameters();
    });
}
