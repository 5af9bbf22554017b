// libFuzzer target: any bytes through open_model, Engine::build, and one run
// on a zero input when the model is small enough (see support/bounded_run.h:
// caps on input elements and on the model's declared FLOPs).
#include "../support/bounded_run.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::Model model = convscope::open_model(convscope::fuzz::to_file_bytes(data, size), "fuzz-input");
        (void)convscope::testing::build_and_run_bounded(model);
    });
}
