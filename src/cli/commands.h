// The CLI's command table and the small argument parser every command uses.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace convscope::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Command {
    const char* name;
    const char* summary;
    const char* usage;
    int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

// Positional arguments and --flags ("--flag value" or "--flag=value";
// boolean flags listed in `switches` take no value).
class Arguments {
public:
    Arguments(const std::vector<std::string>& args, const std::vector<std::string>& switches);
    const std::vector<std::string>& positional() const { return positional_; }
    bool has(const std::string& flag) const;
    std::string get(const std::string& flag, const std::string& fallback = "") const;
    // Every value of a flag given more than once (run's --input NAME=FILE ...).
    std::vector<std::string> get_all(const std::string& flag) const;
    int get_int(const std::string& flag, int fallback) const;
    double get_double(const std::string& flag, double fallback) const;
    // A number or a fraction such as "1/255" (the --scale options).
    double get_fraction(const std::string& flag, double fallback) const;
    // Throws UsageError for any flag not in `known` (typos should not pass silently).
    void allow_only(const std::vector<std::string>& known) const;

private:
    std::vector<std::string> positional_;
    std::vector<std::pair<std::string, std::string>> flags_;
};

// One function per command, defined in the file named after it (run_info in
// commands.cpp, run_predict beside run_run in run.cpp).
int run_info(const std::vector<std::string>& args);
int run_run(const std::vector<std::string>& args);
int run_predict(const std::vector<std::string>& args);
int run_h5dump(const std::vector<std::string>& args);
int run_summary(const std::vector<std::string>& args);
int run_weights(const std::vector<std::string>& args);
int run_response(const std::vector<std::string>& args);
int run_explain(const std::vector<std::string>& args);
int run_visualize(const std::vector<std::string>& args);
int run_evaluate(const std::vector<std::string>& args);
int run_activations(const std::vector<std::string>& args);
int run_compare(const std::vector<std::string>& args);

}  // namespace convscope::cli
