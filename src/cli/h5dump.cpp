// `convscope h5dump FILE`: the canonical JSON of an HDF5 file as our reader
// sees it, for diffing against tests/tools/h5wasm_dump.mjs (the real library).
#include <cstdio>

#include "cli/commands.h"
#include "core/formats/hdf5.h"
#include "core/formats/registry.h"

namespace convscope::cli {

int run_h5dump(const std::vector<std::string>& args) {
    Arguments arguments(args, {});
    arguments.allow_only({});
    if (arguments.positional().size() != 1) throw UsageError("expected exactly one FILE");
    FileBytes bytes = read_file_bytes(arguments.positional()[0]);
    hdf5::File file = hdf5::File::open(bytes);
    std::string json = hdf5::dump_canonical_json(file);
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
}

}  // namespace convscope::cli
