// Prints the mutation figures for the README's reliability section:
//   build/native/mutation_report [COUNT_PER_FILE] [FILE...]
// Defaults: 2000 mutations of every fixture and corpus model file.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/formats/registry.h"
#include "support/mutations.h"

using namespace convscope;
using namespace convscope::testing;

int main(int argc, char** argv) {
    size_t per_file = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
    std::vector<std::string> files;
    for (int i = 2; i < argc; ++i) files.push_back(argv[i]);
    if (files.empty()) files = mutation_inputs(CONVSCOPE_SOURCE_DIR);
    size_t tried = 0, loaded = 0, errors = 0, bad = 0, slow = 0;
    double slowest = 0;
    for (size_t index = 0; index < files.size(); ++index) {
        const std::string& file = files[index];
        FileBytes original = read_file_bytes(file);
        MutationOutcome outcome = run_mutations(make_mutations(*original, per_file, 0xc0ffee + index), file, 2.0);
        size_t count = outcome.loaded + outcome.clean_errors + outcome.other_exceptions;
        std::printf("%-70s %6zu tried %6zu loaded %6zu clean errors %3zu crashes %3zu hangs  slowest %.3f s\n",
                    file.c_str(), count, outcome.loaded, outcome.clean_errors, outcome.other_exceptions,
                    outcome.slow, outcome.slowest_seconds);
        for (const std::string& problem : outcome.problems) std::printf("  ! %s\n", problem.c_str());
        tried += count;
        loaded += outcome.loaded;
        errors += outcome.clean_errors;
        bad += outcome.other_exceptions;
        slow += outcome.slow;
        if (outcome.slowest_seconds > slowest) slowest = outcome.slowest_seconds;
    }
    std::printf("\n%zu files, %zu mutated files tried: %zu loaded, %zu clean errors, %zu crashes, %zu hangs (> 2 s); slowest %.3f s\n",
                files.size(), tried, loaded, errors, bad, slow, slowest);
    return (bad || slow) ? 1 : 0;
}
