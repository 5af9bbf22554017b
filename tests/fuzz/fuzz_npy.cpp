// libFuzzer target: the .npy reader (header dict parsing, dtype, shape, data size).
#include "core/formats/npy.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::Tensor tensor = convscope::npy::read(convscope::fuzz::to_file_bytes(data, size));
        if (tensor.element_count() > 0) (void)tensor.value_at(tensor.element_count() - 1);
    });
}
