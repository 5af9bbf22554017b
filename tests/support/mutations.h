// Mutation testing of the readers: thousands of damaged copies of real
// files, each loaded through the public API (open_model_in_place, as the app
// and the CLI load files). Every one must
// load or fail with a convscope::Error; anything else (a crash, another
// exception type, a hang) is a bug. Shared by the Catch2 test (a bounded
// count per file) and the report tool tests/tools/mutation_report.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace convscope::testing {

struct Mutation {
    std::string description;  // "truncate at 1234", "flip bit 3 of byte 0x1f0"
    std::vector<uint8_t> bytes;
};

// Deterministic for a given seed. Kinds: truncations (spread over the file
// and near its end), single bit flips, and field overwrites with hostile
// integers (0, 1, 0x7f.., 0xff.., 0x80..) of widths 1, 2, 4 and 8.
std::vector<Mutation> make_mutations(const std::vector<uint8_t>& original, size_t count, uint64_t seed);

struct MutationOutcome {
    size_t loaded = 0;
    size_t ran = 0;               // loaded, built and run by the `after_load` hook
    size_t run_refused = 0;       // loaded, but the hook ended in a convscope::Error (engine refused)
    size_t clean_errors = 0;
    size_t other_exceptions = 0;  // exceptions that are not convscope::Error: a bug
    size_t slow = 0;              // took longer than the time bound: a hang in the making
    size_t memory_hogs = 0;       // peak heap past MemoryProbe::bound_bytes: an OOM in the making
    double slowest_seconds = 0;
    std::string slowest_description;
    uint64_t largest_peak_bytes = 0;  // with a MemoryProbe: the most heap one mutant took
    std::string largest_peak_description;
    std::vector<std::string> problems;  // descriptions of other_exceptions and slow cases
};

// Called on each mutant that loads (e.g. build the engine and run it, see
// bounded_run.h); returns true when it ran, false when it chose not to.
// A convscope::Error it throws counts as run_refused; anything else as a
// problem, like an exception from open_model.
using AfterLoad = std::function<bool(const Model& model)>;

// Peak heap measurement supplied by a program that counts its allocations
// (tests/tools/mutation_report.cpp replaces the global operator new).
struct MemoryProbe {
    std::function<void()> reset_peak;      // peak := bytes live now
    std::function<uint64_t()> peak_bytes;  // high-water mark since the reset, minus the bytes live at it
    uint64_t bound_bytes = 0;              // a mutant past this is a problem (0: no bound)
};

// When set, run_mutations writes each mutant to this path before loading it,
// so a crash leaves the crashing input behind (mutation_report --keep-last).
extern std::string last_mutant_path;

// Loads every mutation through open_model_in_place (then calls `after_load` when
// given) and tallies the outcomes; the time bound covers load and hook.
MutationOutcome run_mutations(const std::vector<Mutation>& mutations, const std::string& file_name,
                              double seconds_bound, const AfterLoad& after_load = nullptr,
                              const MemoryProbe* memory = nullptr);

// Model files under tests/fixtures and ../shared/corpus, by extension.
std::vector<std::string> mutation_inputs(const std::string& source_dir);

}  // namespace convscope::testing
