// libFuzzer target: image decoding through stb_image (PNG, JPEG, BMP, GIF)
// and the resize the model inputs go through.
#include "core/formats/image.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::ByteSpan span(data, size);
        convscope::Tensor image = convscope::decode_image(span, "fuzz image", size % 2 ? 3 : 0);
        (void)convscope::resize_image(image, 8, 8).element_count();
    });
}
