// libFuzzer target: the protobuf decoder through the ONNX reader (no magic
// check first, so inputs that do not look like ONNX still reach the decoder).
#include "core/formats/onnx.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::Model model = convscope::open_onnx(convscope::fuzz::to_file_bytes(data, size), "fuzz.onnx");
        (void)model.total_parameters();
    });
}
