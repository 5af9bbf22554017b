// libFuzzer target: any bytes through open_model (every registered format).
// Build: scripts/fuzz (clang's -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/base/error.h"
#include "core/formats/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto bytes = std::make_shared<std::vector<uint8_t>>(data, data + size);
    try {
        convscope::Model model = convscope::open_model(bytes, "fuzz-input");
        (void)model.total_parameters();
    } catch (const convscope::Error&) {
        // A clean error is the expected outcome for most inputs.
    }
    return 0;
}
