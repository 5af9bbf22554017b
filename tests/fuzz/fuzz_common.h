// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp): the one rule every
// target checks is that any input ends in a result or a convscope::Error.
// Anything else (another exception type, a crash, a sanitizer report, a
// timeout, an out-of-memory) is a finding; libFuzzer reports it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/base/error.h"
#include "core/formats/registry.h"

namespace convscope::fuzz {

inline FileBytes to_file_bytes(const uint8_t* data, size_t size) {
    return std::make_shared<const std::vector<uint8_t>>(data, data + size);
}

// Runs `body`; a convscope::Error is the expected outcome for most inputs.
// Other exceptions propagate, and libFuzzer reports them as a crash.
template <typename Body>
int expect_clean(Body&& body) {
    try {
        body();
    } catch (const convscope::Error&) {
    }
    return 0;
}

}  // namespace convscope::fuzz
