// Mutation testing of the readers: thousands of damaged copies of real
// files, each loaded through the public API (open_model). Every one must
// load or fail with a convscope::Error; anything else (a crash, another
// exception type, a hang) is a bug. Shared by the Catch2 test (a bounded
// count per file) and the report tool tests/tools/mutation_report.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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
    size_t clean_errors = 0;
    size_t other_exceptions = 0;  // exceptions that are not convscope::Error: a bug
    size_t slow = 0;              // took longer than the time bound: a hang in the making
    double slowest_seconds = 0;
    std::string slowest_description;
    std::vector<std::string> problems;  // descriptions of other_exceptions and slow cases
};

// Loads every mutation through open_model (and runs a forward pass when a
// `run` hook is given) and tallies the outcomes.
MutationOutcome run_mutations(const std::vector<Mutation>& mutations, const std::string& file_name,
                              double seconds_bound);

// Model files under tests/fixtures and ../shared/corpus, by extension.
std::vector<std::string> mutation_inputs(const std::string& source_dir);

}  // namespace convscope::testing
