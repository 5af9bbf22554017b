// libFuzzer target: the protobuf decoder through the ONNX reader (no magic
// check first, so inputs that do not look like ONNX still reach the decoder).
// Each input is opened twice: from const bytes (open_onnx) and from a
// private copy the reader may rewrite (open_onnx_in_place, which moves
// misaligned raw_data inside its TensorProto). Both must fail alike or give
// the same weights; a difference aborts, and libFuzzer reports it.
#include <cstdlib>
#include <cstring>

#include "core/formats/onnx.h"
#include "fuzz_common.h"

namespace {

bool same_weights(const convscope::Model& a, const convscope::Model& b) {
    if (a.layers.size() != b.layers.size()) return false;
    for (size_t i = 0; i < a.layers.size(); ++i) {
        const auto& wa = a.layers[i].weights;
        const auto& wb = b.layers[i].weights;
        if (wa.size() != wb.size()) return false;
        for (size_t w = 0; w < wa.size(); ++w) {
            const convscope::Tensor& ta = wa[w].tensor;
            const convscope::Tensor& tb = wb[w].tensor;
            if (ta.dtype() != tb.dtype() || ta.shape() != tb.shape()) return false;
            if (ta.byte_size() && std::memcmp(ta.raw(), tb.raw(), ta.byte_size()) != 0) return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    bool const_opened = false, in_place_opened = false;
    convscope::Model from_const, from_writable;
    convscope::fuzz::expect_clean([&] {
        from_const = convscope::open_onnx(convscope::fuzz::to_file_bytes(data, size), "fuzz.onnx");
        (void)from_const.total_parameters();
        const_opened = true;
    });
    convscope::fuzz::expect_clean([&] {
        auto writable = std::make_shared<std::vector<uint8_t>>(data, data + size);
        from_writable = convscope::open_onnx_in_place(writable, "fuzz.onnx");
        in_place_opened = true;
    });
    if (const_opened != in_place_opened) std::abort();
    if (const_opened && !same_weights(from_const, from_writable)) std::abort();
    return 0;
}
