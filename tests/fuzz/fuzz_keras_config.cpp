// libFuzzer target: Keras model config JSON -> layers, wiring and shapes
// (keras::model_from_config), the part of the .h5 and .keras readers that
// trusts the least-structured input.
#include <string>

#include "core/formats/keras.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        std::string text(reinterpret_cast<const char*>(data), size);
        convscope::Model model = convscope::keras::model_from_config(text, "fuzz config");
        (void)model.total_parameters();
    });
}
