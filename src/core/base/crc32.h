// CRC-32 (IEEE 802.3, the zlib/PNG/ZIP polynomial 0xEDB88320, reflected) of a
// byte range. The one implementation in the project: the ZIP reader checks
// members with it, and the app reports it for each dropped file so the e2e
// test can prove the bytes crossed JS -> WASM intact.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convscope {

// `previous` is the CRC of the bytes before `data`, so a long input can be
// checksummed in pieces: crc32(b, n, crc32(a, m)) == crc32(a followed by b).
uint32_t crc32(const uint8_t* data, size_t size, uint32_t previous = 0);

}  // namespace convscope
