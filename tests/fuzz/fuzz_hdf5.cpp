// libFuzzer target: the HDF5 reader alone. Walks every object reachable from
// the root (bounded by a count), reading attributes and datasets, so the
// fuzzer reaches the data layouts and filters and not just the superblock.
#include <string>

#include "core/formats/hdf5.h"
#include "fuzz_common.h"

namespace {

using convscope::hdf5::Object;

// An explicit stack (no recursion); a cycle of hard links ends at the visit cap.
void walk(const Object& root) {
    std::vector<Object> pending{root};
    size_t visited = 0;
    while (!pending.empty() && visited < 2000) {
        Object object = pending.back();
        pending.pop_back();
        ++visited;
        for (const std::string& name : object.attribute_names()) {
            try {
                (void)object.attribute(name);
            } catch (const convscope::Error&) {
            }
        }
        if (object.is_dataset()) {
            (void)object.datatype_description();
            (void)object.storage_description();
            if (object.is_string_dataset()) {
                (void)object.read_strings();
            } else {
                (void)object.read().element_count();
            }
        } else if (object.is_group()) {
            for (const std::string& name : object.children()) {
                try {
                    pending.push_back(object.child(name));
                } catch (const convscope::Error&) {
                }
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return convscope::fuzz::expect_clean([&] {
        convscope::hdf5::File file = convscope::hdf5::File::open(convscope::fuzz::to_file_bytes(data, size));
        walk(file.root());
    });
}
