// CRC-32 (IEEE 802.3, the zlib/PNG polynomial, reflected 0xEDB88320) of a
// byte range. The page's test hook reports it so the e2e test can compare
// it with a CRC it computes itself from the bytes it dropped.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convscope::ui {

uint32_t crc32(const uint8_t* data, size_t size);

}  // namespace convscope::ui
