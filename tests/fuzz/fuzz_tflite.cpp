// libFuzzer target: the FlatBuffers reader through the TFLite reader,
// called directly (not through the registry's magic check), seeded with the
// fixtures so mutants keep their "TFL3" identifier and reach the tables. Any
// input must end in a Model or a convscope::Error; a loaded model's weights
// are read end to end so that a bad view shows up under ASan.
#include "core/formats/tflite.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    convscope::fuzz::expect_clean([&] {
        convscope::ByteSpan span(data, size);
        (void)convscope::looks_like_tflite(span);
        convscope::Model model = convscope::open_tflite(convscope::fuzz::to_file_bytes(data, size), "fuzz.tflite");
        double sum = 0;
        for (const convscope::Layer& layer : model.layers) {
            for (const convscope::Weight& weight : layer.weights) {
                for (uint64_t i = 0; i < weight.tensor.element_count(); ++i) sum += weight.tensor.value_at(i);
            }
        }
        (void)sum;
        (void)model.total_parameters();
    });
    return 0;
}
