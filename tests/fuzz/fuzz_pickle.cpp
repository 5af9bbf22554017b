// libFuzzer target: the PyTorch reader. A ZIP or legacy-format input goes
// through the whole reader (archive or legacy pickle stream, data.pkl,
// storages, tensors, mapping into Model); any
// other input is read as a raw pickle by the interpreter, with a
// persistent_load that accepts every id, so opcode sequences are explored
// without a container in front of them.
#include "core/formats/pickle.h"
#include "core/formats/pytorch.h"
#include "core/formats/zip.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::ByteSpan span(data, size);
        if (convscope::looks_like_zip(span) || convscope::looks_like_pytorch(span)) {
            convscope::Model model = convscope::open_pytorch(convscope::fuzz::to_file_bytes(data, size), "fuzz.pt");
            for (const convscope::Layer& layer : model.layers) {
                for (const convscope::Weight& weight : layer.weights) {
                    if (weight.tensor.element_count() > 0) (void)weight.tensor.value_at(weight.tensor.element_count() - 1);
                }
            }
            return;
        }
        convscope::pickle::Hooks hooks;
        hooks.persistent_load = [](convscope::pickle::Object*, convscope::pickle::Arena& arena) {
            return arena.make(convscope::pickle::Kind::opaque);
        };
        convscope::pickle::Limits limits;
        limits.max_objects = 1u << 20;
        (void)convscope::pickle::read(span, "fuzz.pkl", hooks, limits);
    });
}
