#include "ui/checksum.h"

#include "core/formats/zip.h"

namespace convscope::ui {

// One CRC-32 implementation in the project: the ZIP reader's (slicing-by-8).
uint32_t crc32(const uint8_t* data, size_t size) { return convscope::crc32(data, size); }

}  // namespace convscope::ui
