#include "core/base/crc32.h"

#include <array>

namespace convscope {

namespace {

// Slicing-by-8: table k holds the CRC of a byte followed by k zero bytes, so
// eight bytes are folded per step with eight independent lookups instead of a
// chain of eight dependent ones. Roughly 5x faster than the byte-wise loop,
// which matters when the app checksums a 100 MB model on open.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

CrcTables make_crc_tables() {
    CrcTables tables{};
    for (uint32_t n = 0; n < 256; ++n) {
        uint32_t c = n;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        tables[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; ++n) {
        for (size_t k = 1; k < 8; ++k) tables[k][n] = tables[0][tables[k - 1][n] & 0xFF] ^ (tables[k - 1][n] >> 8);
    }
    return tables;
}

}  // namespace

uint32_t crc32(const uint8_t* data, size_t size, uint32_t previous) {
    static const CrcTables tables = make_crc_tables();
    uint32_t c = previous ^ 0xFFFFFFFFu;
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        // Little-endian assembly by hand: no unaligned loads, same result on any host.
        uint32_t low = c ^ (uint32_t(data[i]) | uint32_t(data[i + 1]) << 8 | uint32_t(data[i + 2]) << 16 |
                            uint32_t(data[i + 3]) << 24);
        uint32_t high = uint32_t(data[i + 4]) | uint32_t(data[i + 5]) << 8 | uint32_t(data[i + 6]) << 16 |
                        uint32_t(data[i + 7]) << 24;
        c = tables[7][low & 0xFF] ^ tables[6][(low >> 8) & 0xFF] ^ tables[5][(low >> 16) & 0xFF] ^
            tables[4][low >> 24] ^ tables[3][high & 0xFF] ^ tables[2][(high >> 8) & 0xFF] ^
            tables[1][(high >> 16) & 0xFF] ^ tables[0][high >> 24];
    }
    for (; i < size; ++i) c = tables[0][(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

}  // namespace convscope
