// libFuzzer target: the ZIP reader alone: open the archive, then inflate and
// CRC-check every member (the Keras 3 reader reads three of them).
#include <string>

#include "core/formats/zip.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::ZipArchive archive =
            convscope::ZipArchive::open(convscope::fuzz::to_file_bytes(data, size), "fuzz.zip");
        for (const std::string& name : archive.names()) {
            try {
                (void)archive.view(name).span.size;
            } catch (const convscope::Error&) {
            }
        }
    });
}
