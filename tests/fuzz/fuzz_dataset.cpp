// libFuzzer target: image sets from untrusted containers (a .zip of image
// folders, a .npz of image and label arrays): listing, labels by folder, and
// decoding the first images.
#include "core/dataset/image_dataset.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    convscope::FileBytes bytes = convscope::fuzz::to_file_bytes(data, size);
    for (int kind = 0; kind < 2; ++kind) {
        convscope::fuzz::expect_clean([&] {
            convscope::ImageDataset set = kind == 0 ? convscope::ImageDataset::from_zip(bytes, "fuzz.zip")
                                                    : convscope::ImageDataset::from_npz(bytes, "fuzz.npz");
            for (size_t i = 0; i < set.size() && i < 4; ++i) {
                (void)set.label(i);
                (void)set.image(i);
            }
        });
    }
    return 0;
}
