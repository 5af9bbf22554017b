// onnx_conformance: ConvScope's ONNX reader and engine against the ONNX
// project's backend test suite (Debian's libonnx-testdata).
//
//   build/native/onnx_conformance                   # tables, failures, totals
//   build/native/onnx_conformance --markdown        # the README's table
//   build/native/onnx_conformance --expected tests/conformance/expected_pass.txt --summary
//                                                   # scripts/test: fails on regressions and crashes
//   build/native/onnx_conformance --write-expected tests/conformance/expected_pass.txt
//
// Every case runs in its own child process with a timeout (isolation.cpp),
// so one that crashes or hangs is reported and the run goes on.
//
// [SECTION] index
//   options       command line
//   collecting    walking the suites, running each case
//   tallies       counts per family and per scope
//   reports       text and markdown tables, failure lists
//   expected list reading/writing tests/conformance/expected_pass.txt, regressions
//   main
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "conformance/conformance.h"

using namespace convscope::conformance;
namespace fs = std::filesystem;

namespace {

// [SECTION] options

struct Options {
    std::string data = "/usr/share/libonnx-testdata/data";
    std::vector<std::string> suites = {"node", "pytorch-converted", "pytorch-operator", "simple"};
    std::string filter;
    double timeout_seconds = 30;
    bool isolate = true;
    bool markdown = false;
    bool summary = false;
    bool verbose = false;
    std::string expected_file;
    std::string write_expected_file;
    Tolerance tolerance;
};

const char* usage_text =
    "usage: onnx_conformance [--data DIR] [--suites a,b] [--filter TEXT] [--timeout SECONDS] [--no-fork]\n"
    "                        [--markdown | --summary] [--verbose] [--rtol R] [--atol A]\n"
    "                        [--expected FILE] [--write-expected FILE]\n"
    "  --data DIR            the test data (default /usr/share/libonnx-testdata/data, Debian's libonnx-testdata)\n"
    "  --suites a,b          suites under DIR (default node,pytorch-converted,pytorch-operator,simple)\n"
    "  --filter TEXT         only cases whose id (suite/case) contains TEXT\n"
    "  --timeout SECONDS     per case (default 30); a case still running is killed and reported\n"
    "  --no-fork             run cases in this process (for a debugger; a crash then ends the run)\n"
    "  --markdown            print the totals and the per-family table as markdown (for README.md)\n"
    "  --summary             print only regressions, newly passing cases and the totals\n"
    "  --verbose             print every case's result as it finishes\n"
    "  --expected FILE       exit 1 when a case listed in FILE does not pass (or any case crashes)\n"
    "  --write-expected FILE write the ids of the passing cases to FILE\n"
    "Exit status: 0 ok, 1 a regression against --expected or a crash/timeout, 2 bad usage or no data.\n";

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// Returns false (after printing why) on a bad command line.
bool parse_options(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&](std::string& into) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "onnx_conformance: %s needs a value\n", arg.c_str());
                return false;
            }
            into = argv[++i];
            return true;
        };
        std::string text;
        if (arg == "--data") { if (!value(options.data)) return false; }
        else if (arg == "--suites") { if (!value(text)) return false; options.suites = split_commas(text); }
        else if (arg == "--filter") { if (!value(options.filter)) return false; }
        else if (arg == "--timeout") { if (!value(text)) return false; options.timeout_seconds = std::atof(text.c_str()); }
        else if (arg == "--rtol") { if (!value(text)) return false; options.tolerance.relative = std::atof(text.c_str()); }
        else if (arg == "--atol") { if (!value(text)) return false; options.tolerance.absolute = std::atof(text.c_str()); }
        else if (arg == "--no-fork") options.isolate = false;
        else if (arg == "--markdown") options.markdown = true;
        else if (arg == "--summary") options.summary = true;
        else if (arg == "--verbose") options.verbose = true;
        else if (arg == "--expected") { if (!value(options.expected_file)) return false; }
        else if (arg == "--write-expected") { if (!value(options.write_expected_file)) return false; }
        else if (arg == "--help" || arg == "-h") { std::printf("%s", usage_text); std::exit(0); }
        else {
            std::fprintf(stderr, "onnx_conformance: unknown option '%s'\n%s", arg.c_str(), usage_text);
            return false;
        }
    }
    if (options.timeout_seconds <= 0) {
        std::fprintf(stderr, "onnx_conformance: --timeout must be positive\n");
        return false;
    }
    return true;
}

// [SECTION] collecting

std::vector<CaseResult> run_all_cases(const Options& options) {
    std::vector<CaseResult> results;
    std::map<std::string, std::string> family_by_id;
    for (const std::string& suite : options.suites) {
        fs::path suite_directory = fs::path(options.data) / suite;
        if (!fs::is_directory(suite_directory)) continue;
        std::vector<fs::path> cases;
        for (const fs::directory_entry& entry : fs::directory_iterator(suite_directory)) {
            if (entry.is_directory()) cases.push_back(entry.path());
        }
        // Sorted, X comes before X_expanded, whose family is X's.
        std::sort(cases.begin(), cases.end());
        for (const fs::path& directory : cases) {
            std::string id = suite + "/" + directory.filename().string();
            if (!options.filter.empty() && id.find(options.filter) == std::string::npos) continue;
            std::string sibling_family;
            const std::string suffix = "_expanded";
            if (id.size() > suffix.size() && id.compare(id.size() - suffix.size(), suffix.size(), suffix) == 0) {
                auto found = family_by_id.find(id.substr(0, id.size() - suffix.size()));
                if (found != family_by_id.end()) sibling_family = found->second;
            }
            CaseResult fallback;
            fallback.id = id;
            fallback.family = sibling_family.empty() ? "(unknown: the case crashed)" : sibling_family;
            std::string directory_text = directory.string();
            CaseResult result = run_isolated(
                [&]() { return run_case(directory_text, id, sibling_family, options.tolerance); }, fallback,
                options.timeout_seconds, options.isolate);
            family_by_id[id] = result.family;
            if (options.verbose) {
                std::printf("%-70s %-10s %s\n", id.c_str(), status_name(result.status), result.reason.c_str());
                std::fflush(stdout);
            }
            results.push_back(std::move(result));
        }
    }
    return results;
}

// [SECTION] tallies

struct Tally {
    int cases = 0, passed = 0, wrong = 0, refused = 0, crashed = 0, skipped = 0;
    int in_scope_cases = 0;  // for a family: how many of its cases are in scope

    void add(const CaseResult& result) {
        ++cases;
        switch (result.status) {
            case CaseStatus::passed: ++passed; break;
            case CaseStatus::wrong: ++wrong; break;
            case CaseStatus::refused: ++refused; break;
            case CaseStatus::skipped: ++skipped; break;
            case CaseStatus::crashed:
            case CaseStatus::timed_out: ++crashed; break;
        }
        if (result.in_scope) ++in_scope_cases;
    }
    int counted() const { return cases - skipped; }
};

bool is_failure(const CaseResult& result) {
    return result.status != CaseStatus::passed && result.status != CaseStatus::skipped;
}

struct Totals {
    Tally in_scope, readme, others, skipped;
};

Totals tally_totals(const std::vector<CaseResult>& results) {
    Totals totals;
    for (const CaseResult& result : results) {
        if (result.status == CaseStatus::skipped) totals.skipped.add(result);
        else if (result.in_scope) totals.in_scope.add(result);
        else totals.others.add(result);
        if (result.status != CaseStatus::skipped && result.in_scope && case_listed_in_readme(result.family, result.ops)) {
            totals.readme.add(result);
        }
    }
    return totals;
}

// Families in scope first, then the others, each alphabetically.
std::vector<std::pair<std::string, Tally>> tally_families(const std::vector<CaseResult>& results) {
    std::map<std::string, Tally> by_family;
    for (const CaseResult& result : results) by_family[result.family].add(result);
    std::vector<std::pair<std::string, Tally>> rows(by_family.begin(), by_family.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        return (a.second.in_scope_cases > 0) > (b.second.in_scope_cases > 0);
    });
    return rows;
}

const char* scope_label(const Tally& tally) {
    if (tally.in_scope_cases == 0) return "no";
    return tally.in_scope_cases == tally.cases ? "yes" : "part";
}

// [SECTION] reports

std::string totals_line(const Tally& tally) {
    char line[160];
    std::snprintf(line, sizeof line, "%d cases: %d passed, %d wrong, %d refused, %d crashed or timed out",
                  tally.counted(), tally.passed, tally.wrong, tally.refused, tally.crashed);
    return line;
}

void print_totals(const Totals& totals) {
    std::printf("totals:\n");
    std::printf("  in scope (CNN-family operators):            %s\n", totals_line(totals.in_scope).c_str());
    std::printf("    of which only README-listed operators:    %s\n", totals_line(totals.readme).c_str());
    std::printf("  other operators:                            %s\n", totals_line(totals.others).c_str());
    std::printf("  skipped (random, training, loss, strings):  %d cases, never counted as passing\n",
                totals.skipped.cases);
}

void print_text_report(const std::vector<CaseResult>& results) {
    std::printf("%-34s %-5s %6s %7s %6s %8s %8s %8s\n", "family", "scope", "cases", "passed", "wrong", "refused",
                "crashed", "skipped");
    for (const auto& [family, tally] : tally_families(results)) {
        std::printf("%-34s %-5s %6d %7d %6d %8d %8d %8d\n", family.c_str(), scope_label(tally), tally.cases,
                    tally.passed, tally.wrong, tally.refused, tally.crashed, tally.skipped);
    }
    for (bool in_scope : {true, false}) {
        std::vector<const CaseResult*> failures;
        for (const CaseResult& result : results) {
            if (is_failure(result) && result.in_scope == in_scope) failures.push_back(&result);
        }
        std::printf("\nfailures %s (%zu):\n", in_scope ? "in scope" : "out of scope", failures.size());
        for (const CaseResult* result : failures) {
            std::printf("  %-62s [%s] %s: %s\n", result->id.c_str(), result->family.c_str(),
                        status_name(result->status), result->reason.c_str());
        }
    }
    std::printf("\nskipped:\n");
    for (const CaseResult& result : results) {
        if (result.status == CaseStatus::skipped) {
            std::printf("  %-62s [%s] %s\n", result.id.c_str(), result.family.c_str(), result.reason.c_str());
        }
    }
    std::printf("\n");
}

void print_markdown_report(const std::vector<CaseResult>& results, const Totals& totals) {
    std::printf("| | cases | passed | wrong | refused | crashed |\n|---|---:|---:|---:|---:|---:|\n");
    auto row = [](const char* label, const Tally& t) {
        std::printf("| %s | %d | %d | %d | %d | %d |\n", label, t.counted(), t.passed, t.wrong, t.refused, t.crashed);
    };
    row("in scope: operators a CNN-family model can contain", totals.in_scope);
    row("of which only operators listed under \"Layers the engine runs\"", totals.readme);
    row("other operators", totals.others);
    std::printf("\nSkipped, never counted: %d cases (random outputs, training-mode Dropout, loss functions, "
                "optimizers and gradients, strings).\n\n",
                totals.skipped.cases);
    std::printf("<details><summary>Per operator family</summary>\n\n");
    std::printf("| family | in scope | cases | passed | wrong | refused | crashed | skipped |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& [family, tally] : tally_families(results)) {
        std::printf("| %s | %s | %d | %d | %d | %d | %d | %d |\n", family.c_str(), scope_label(tally), tally.cases,
                    tally.passed, tally.wrong, tally.refused, tally.crashed, tally.skipped);
    }
    std::printf("\n</details>\n");
}

// [SECTION] expected list

bool read_expected(const std::string& path, std::set<std::string>& ids) {
    std::ifstream in(path);
    if (!in) return false;
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
        if (!line.empty() && line[0] != '#') ids.insert(line);
    }
    return true;
}

bool write_expected(const std::string& path, const std::vector<CaseResult>& results, const Options& options) {
    std::ofstream out(path);
    if (!out) return false;
    out << "# ONNX backend conformance cases (libonnx-testdata) that pass today, one id per line.\n"
           "# Written by: build/native/onnx_conformance --write-expected tests/conformance/expected_pass.txt\n"
           "# scripts/test fails when a listed case stops passing; regenerate after making more pass.\n";
    if (!options.filter.empty()) out << "# (written with --filter " << options.filter << ")\n";
    for (const CaseResult& result : results) {
        if (result.status == CaseStatus::passed) out << result.id << "\n";
    }
    return static_cast<bool>(out);
}

// Prints regressions and newly passing cases; returns the regression count.
int check_expected(const std::set<std::string>& expected, const std::vector<CaseResult>& results) {
    int regressions = 0;
    std::vector<std::string> newly_passing;
    std::set<std::string> seen;
    for (const CaseResult& result : results) {
        seen.insert(result.id);
        bool listed = expected.count(result.id) > 0;
        if (listed && result.status != CaseStatus::passed) {
            std::printf("REGRESSION: %s [%s] %s: %s\n", result.id.c_str(), result.family.c_str(),
                        status_name(result.status), result.reason.c_str());
            ++regressions;
        }
        if (!listed && result.status == CaseStatus::passed) newly_passing.push_back(result.id);
    }
    for (const std::string& id : expected) {
        if (!seen.count(id)) {
            std::printf("REGRESSION: %s is listed as passing but was not found in the test data\n", id.c_str());
            ++regressions;
        }
    }
    for (const std::string& id : newly_passing) {
        std::printf("newly passing: update the list (--write-expected): %s\n", id.c_str());
    }
    return regressions;
}

}  // namespace

// [SECTION] main

int main(int argc, char** argv) {
    Options options;
    if (!parse_options(argc, argv, options)) return 2;
    if (!fs::is_directory(options.data)) {
        std::fprintf(stderr, "onnx_conformance: no test data in %s (install Debian's libonnx-testdata: scripts/bootstrap)\n",
                     options.data.c_str());
        return 2;
    }
    std::set<std::string> expected;
    if (!options.expected_file.empty() && !read_expected(options.expected_file, expected)) {
        std::fprintf(stderr, "onnx_conformance: cannot read %s\n", options.expected_file.c_str());
        return 2;
    }
    auto started = std::chrono::steady_clock::now();
    std::vector<CaseResult> results = run_all_cases(options);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (results.empty()) {
        std::fprintf(stderr, "onnx_conformance: no cases found under %s\n", options.data.c_str());
        return 2;
    }
    Totals totals = tally_totals(results);
    if (options.markdown) {
        print_markdown_report(results, totals);
    } else {
        if (!options.summary) print_text_report(results);
        int crashed = totals.in_scope.crashed + totals.others.crashed;
        if (options.summary && crashed > 0) {
            for (const CaseResult& result : results) {
                if (result.status == CaseStatus::crashed || result.status == CaseStatus::timed_out) {
                    std::printf("CRASH: %s [%s] %s\n", result.id.c_str(), result.family.c_str(), result.reason.c_str());
                }
            }
        }
        std::printf("ONNX conformance: %zu cases from %s in %.1f s\n", results.size(), options.data.c_str(), seconds);
        print_totals(totals);
    }
    int regressions = 0;
    if (!options.expected_file.empty()) {
        if (!options.filter.empty()) {
            std::set<std::string> filtered;
            for (const std::string& id : expected) if (id.find(options.filter) != std::string::npos) filtered.insert(id);
            expected = filtered;
        }
        regressions = check_expected(expected, results);
        std::printf("expected-pass list %s: %zu listed, %d regression%s\n", options.expected_file.c_str(),
                    expected.size(), regressions, regressions == 1 ? "" : "s");
    }
    if (!options.write_expected_file.empty()) {
        if (!write_expected(options.write_expected_file, results, options)) {
            std::fprintf(stderr, "onnx_conformance: cannot write %s\n", options.write_expected_file.c_str());
            return 2;
        }
        std::printf("wrote %d passing case ids to %s\n", totals.in_scope.passed + totals.others.passed,
                    options.write_expected_file.c_str());
    }
    int crashed = totals.in_scope.crashed + totals.others.crashed;
    return regressions > 0 || crashed > 0 ? 1 : 0;
}
