// The ONNX backend conformance runner's pieces (tests/conformance/):
//   scope.cpp        which operators are in scope, which cases are skipped
//                    and why, and a case's operator family
//   case_runner.cpp  one case: open model.onnx, feed test_data_set_*/input_*.pb,
//                    compare with output_*.pb
//   isolation.cpp    one case in a child process with a timeout, so a crash or
//                    a hang becomes a result instead of ending the run
//   onnx_conformance.cpp  the program: walks the suites, prints the tables,
//                    checks the expected-pass list
//
// The test data is the ONNX project's own backend suite as Debian's
// libonnx-testdata installs it: <data>/<suite>/<case>/model.onnx with
// test_data_set_<k>/input_<i>.pb and output_<i>.pb (serialized TensorProto).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace convscope::conformance {

enum class CaseStatus { passed, wrong, refused, skipped, crashed, timed_out };
const char* status_name(CaseStatus status);

struct CaseResult {
    std::string id;                // "<suite>/<case directory>", e.g. "node/test_abs"
    CaseStatus status = CaseStatus::refused;
    std::string reason;            // one line; empty when passed
    std::string family;            // the operator the case tests ("Conv", or "Split+Sigmoid+Mul")
    std::vector<std::string> ops;  // distinct node types in file order ("domain:Op" outside ai.onnx)
    bool in_scope = false;         // see scope.cpp
};

// [scope.cpp]
// True for an operator of the CNN-family list in issue 13 (what the engine
// is meant to run exactly).
bool operator_in_scope(const std::string& op);
// True for an operator the README's "Layers the engine runs" names.
bool operator_listed_in_readme(const std::string& op);
// The family of a case from its node types: the one operator that is not
// glue (Constant, Reshape, ...), or the operators joined with '+'.
// `sibling_family` (the family of X for X_expanded) wins when not empty.
std::string case_family(const std::vector<std::string>& ops, const std::string& sibling_family);
// In scope: the family is an in-scope operator and so is every node type.
bool case_in_scope(const std::string& family, const std::vector<std::string>& ops);
// The same against the README's list (a subset of the in-scope operators).
bool case_listed_in_readme(const std::string& family, const std::vector<std::string>& ops);
// Why a case is not a test of inference with fixed expected values (random
// outputs, training, loss functions, strings), or empty when it is.
// `has_string_tensors`: an input or output .pb holds STRING data.
std::string skip_reason(const std::string& case_name, const std::string& family,
                        const std::vector<std::string>& ops, bool has_string_tensors);

// [case_runner.cpp]
struct Tolerance {
    double relative = 1e-3;
    double absolute = 1e-4;
};
// Runs one case in this process; never throws (a thrown error is a refusal).
CaseResult run_case(const std::string& case_directory, const std::string& id, const std::string& sibling_family,
                    const Tolerance& tolerance);

// [isolation.cpp]
// Runs `run` in a forked child and returns its result; a child that dies
// from a signal is `crashed`, one that is still running after
// `timeout_seconds` is killed and `timed_out`. `fallback` fills id/family
// for those. With isolate = false it just calls `run` (for debuggers).
CaseResult run_isolated(const std::function<CaseResult()>& run, const CaseResult& fallback, double timeout_seconds,
                        bool isolate);

}  // namespace convscope::conformance
