// Damaged copies of every fixture and corpus model must load or fail with a
// convscope::Error, quickly. tests/tools/mutation_report.cpp runs the same
// mutations at a larger count and prints the figures for the README.
#include <catch2/catch.hpp>

#include "core/formats/registry.h"
#include "support/mutations.h"

using namespace convscope;
using namespace convscope::testing;

TEST_CASE("damaged model files fail cleanly and quickly", "[mutation]") {
    std::vector<std::string> files = mutation_inputs(CONVSCOPE_SOURCE_DIR);
    // The corpus must be there (CI has ../shared); a missing corpus is a failure, not a skip.
    size_t corpus_files = 0;
    for (const std::string& file : files) corpus_files += file.find("shared/corpus") != std::string::npos;
    REQUIRE(corpus_files >= 3);

    size_t total = 0;
    for (const std::string& file : files) {
        FileBytes original = read_file_bytes(file);
        std::vector<Mutation> mutations = make_mutations(*original, 120, 0x5eed + total);
        MutationOutcome outcome = run_mutations(mutations, file, 2.0);
        total += mutations.size();
        INFO(file << ": loaded " << outcome.loaded << ", clean errors " << outcome.clean_errors
                  << ", slowest " << outcome.slowest_seconds << " s (" << outcome.slowest_description << ")");
        for (const std::string& problem : outcome.problems) UNSCOPED_INFO(problem);
        CHECK(outcome.other_exceptions == 0);
        CHECK(outcome.slow == 0);
        CHECK(outcome.loaded + outcome.clean_errors == mutations.size());
    }
    CHECK(total >= 360);
}
