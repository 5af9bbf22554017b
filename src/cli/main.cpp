// convscope: the native command-line tool. Each subcommand is one function
// in the file of this folder named after it, listed in the table in
// commands.cpp; `convscope --help` prints the table and
// `convscope COMMAND --help` one command's usage.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/base/limits.h"
#include "core/base/thread_pool.h"

using namespace convscope;

// True when a command's arguments ask for its help. Checked before the
// command parses them, so `--help` is never taken for a flag that needs a value.
static bool asks_for_help(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
        if (arg == "--help" || arg == "-h") return true;
    }
    return false;
}

static void print_usage() {
    std::printf("convscope %s - look inside trained convolutional networks\n\n", CONVSCOPE_VERSION);
    std::printf("usage: convscope COMMAND [ARGS...]\n\ncommands:\n");
    for (const cli::Command& command : cli::commands()) {
        std::printf("  %-10s %s\n", command.name, command.summary);
        std::printf("             %s\n", command.usage);
    }
    std::printf("\nLimits: files up to %llu MiB, tensors up to %llu elements.\n",
                static_cast<unsigned long long>(limits::max_file_bytes >> 20),
                static_cast<unsigned long long>(limits::max_tensor_elements));
    std::printf("\nGlobal option (before or after COMMAND): --threads N  worker threads for the kernels\n"
                "(default: the machine's %d, capped at 8; results are identical for any N).\n",
                default_thread_count());
    std::printf("Run 'convscope COMMAND --help' for a command's options.\n");
}

// Takes `--threads N` / `--threads=N` out of `args` (anywhere) and sets the
// kernels' thread count from it, or to the default when absent. Returns false
// and prints why on a bad value.
static bool take_threads_option(std::vector<std::string>& args) {
    int threads = default_thread_count();
    for (size_t i = 0; i < args.size();) {
        std::string value;
        if (args[i] == "--threads") {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "convscope: --threads needs a number\n");
                return false;
            }
            value = args[i + 1];
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i + 2));
        } else if (args[i].rfind("--threads=", 0) == 0) {
            value = args[i].substr(10);
            args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
            continue;
        }
        char* end = nullptr;
        const long parsed = std::strtol(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || parsed < 1 || parsed > 1024) {
            std::fprintf(stderr, "convscope: --threads wants a whole number from 1 to 1024, got '%s'\n", value.c_str());
            return false;
        }
        threads = static_cast<int>(parsed);
    }
    set_thread_count(threads);
    return true;
}

int main(int argc, char** argv) {
    std::vector<std::string> all_args(argv + 1, argv + argc);
    if (!take_threads_option(all_args)) return 2;
    std::vector<char*> kept{argv[0]};
    for (std::string& arg : all_args) kept.push_back(arg.data());
    argc = static_cast<int>(kept.size());
    argv = kept.data();
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
        !std::strcmp(argv[1], "help")) {
        print_usage();
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("convscope %s\n", CONVSCOPE_VERSION);
        return 0;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const cli::Command& command : cli::commands()) {
        if (argv[1] == std::string(command.name)) {
            if (asks_for_help(args)) {
                std::printf("convscope %s - %s\n\nusage: %s\n", command.name, command.summary, command.usage);
                return 0;
            }
            try {
                return command.run(args);
            } catch (const cli::UsageError& error) {
                std::fprintf(stderr, "convscope %s: %s\nusage: %s\n", command.name, error.what(), command.usage);
                return 2;
            } catch (const std::exception& error) {
                std::fprintf(stderr, "convscope %s: error: %s\n", command.name, error.what());
                return 1;
            }
        }
    }
    std::fprintf(stderr, "convscope: unknown command '%s' (see convscope --help)\n", argv[1]);
    return 2;
}
