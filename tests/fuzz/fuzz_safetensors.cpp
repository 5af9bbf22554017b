// libFuzzer target: the SafeTensors reader (header length, JSON header,
// dtypes, shapes, byte ranges, overlap checks, bfloat16 conversion).
#include "core/formats/safetensors.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::Model model = convscope::open_safetensors(convscope::fuzz::to_file_bytes(data, size), "fuzz.safetensors");
        for (const convscope::Layer& layer : model.layers) {
            for (const convscope::Weight& weight : layer.weights) {
                if (weight.tensor.element_count() > 0) (void)weight.tensor.value_at(weight.tensor.element_count() - 1);
            }
        }
    });
}
