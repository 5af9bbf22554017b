#include "support/mutations.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include "core/base/error.h"
#include "core/formats/registry.h"

namespace convscope::testing {

std::vector<Mutation> make_mutations(const std::vector<uint8_t>& original, size_t count, uint64_t seed) {
    std::vector<Mutation> out;
    if (original.empty()) return out;
    std::mt19937_64 random(seed);
    auto position = [&](size_t limit) { return static_cast<size_t>(random() % std::max<size_t>(limit, 1)); };
    static const uint64_t hostile[] = {0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff,
                                       0x80000000, 0x7fffffffffffffffull, 0xffffffffffffffffull,
                                       0x8000000000000000ull, 0x10000, 0x40000000};
    for (size_t i = 0; i < count; ++i) {
        Mutation mutation;
        switch (i % 4) {
            case 0: {  // truncation: half anywhere, half in the last 4 KB where footers live
                size_t cut = (i % 8 == 0 && original.size() > 4096)
                                 ? original.size() - 1 - position(4096)
                                 : position(original.size());
                mutation.bytes.assign(original.begin(), original.begin() + static_cast<long>(cut));
                mutation.description = "truncate to " + std::to_string(cut) + " bytes";
                break;
            }
            case 1: {
                mutation.bytes = original;
                size_t at = position(original.size());
                int bit = static_cast<int>(random() % 8);
                mutation.bytes[at] ^= static_cast<uint8_t>(1u << bit);
                mutation.description = "flip bit " + std::to_string(bit) + " of byte " + std::to_string(at);
                break;
            }
            default: {
                mutation.bytes = original;
                static const size_t widths[] = {1, 2, 4, 8};
                size_t width = widths[random() % 4];
                // Headers hold most sizes and offsets: bias half the overwrites to the first 4 KB.
                size_t limit = (i % 2 == 0) ? std::min<size_t>(original.size(), 4096) : original.size();
                size_t at = position(limit);
                uint64_t value = hostile[random() % (sizeof hostile / sizeof hostile[0])];
                for (size_t b = 0; b < width && at + b < mutation.bytes.size(); ++b) {
                    mutation.bytes[at + b] = static_cast<uint8_t>(value >> (8 * b));
                }
                mutation.description = "overwrite " + std::to_string(width) + " bytes at " + std::to_string(at) +
                                       " with " + std::to_string(value);
                break;
            }
        }
        out.push_back(std::move(mutation));
    }
    return out;
}

std::string last_mutant_path;

MutationOutcome run_mutations(const std::vector<Mutation>& mutations, const std::string& file_name,
                              double seconds_bound, const AfterLoad& after_load, const MemoryProbe* memory) {
    MutationOutcome outcome;
    for (const Mutation& mutation : mutations) {
        auto bytes = std::make_shared<std::vector<uint8_t>>(mutation.bytes);
        if (!last_mutant_path.empty()) {
            std::ofstream out(last_mutant_path, std::ios::binary | std::ios::trunc);
            out.write(reinterpret_cast<const char*>(mutation.bytes.data()), static_cast<std::streamsize>(mutation.bytes.size()));
        }
        if (memory) memory->reset_peak();
        auto started = std::chrono::steady_clock::now();
        try {
            // In place, as the app and the CLI open files: the reader may
            // rewrite this private copy (ONNX aligns raw_data).
            Model model = open_model_in_place(bytes, file_name);
            ++outcome.loaded;
            if (after_load) {
                try {
                    if (after_load(model)) ++outcome.ran;
                } catch (const Error&) {
                    ++outcome.run_refused;
                }
            }
        } catch (const Error&) {
            ++outcome.clean_errors;
        } catch (const std::exception& error) {
            ++outcome.other_exceptions;
            outcome.problems.push_back(file_name + ": " + mutation.description + ": non-convscope exception: " + error.what());
        }
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (seconds > outcome.slowest_seconds) {
            outcome.slowest_seconds = seconds;
            outcome.slowest_description = mutation.description;
        }
        if (memory) {
            uint64_t peak = memory->peak_bytes();
            if (peak > outcome.largest_peak_bytes) {
                outcome.largest_peak_bytes = peak;
                outcome.largest_peak_description = mutation.description;
            }
            if (memory->bound_bytes && peak > memory->bound_bytes) {
                ++outcome.memory_hogs;
                outcome.problems.push_back(file_name + ": " + mutation.description + ": peak heap " +
                                           std::to_string(peak) + " bytes");
            }
        }
        if (seconds > seconds_bound) {
            ++outcome.slow;
            outcome.problems.push_back(file_name + ": " + mutation.description + ": took " + std::to_string(seconds) + " s");
        }
    }
    return outcome;
}

std::vector<std::string> mutation_inputs(const std::string& source_dir) {
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    for (const fs::path& folder : {fs::path(source_dir) / "tests" / "fixtures", fs::path(source_dir) / ".." / "shared" / "corpus"}) {
        if (!fs::exists(folder)) continue;
        for (const auto& entry : fs::recursive_directory_iterator(folder)) {
            if (!entry.is_regular_file()) continue;
            std::string extension = entry.path().extension().string();
            if (extension == ".h5" || extension == ".keras" || extension == ".onnx" || extension == ".hdf5" ||
                extension == ".tflite") {
                files.push_back(entry.path().string());
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace convscope::testing
