// convscope: the native command-line tool. Each subcommand is one function
// in the file of this folder named after it, listed in the table in
// commands.cpp; `convscope --help` prints the table and
// `convscope COMMAND --help` one command's usage.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/base/error.h"
#include "core/base/limits.h"

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
    std::printf("Run 'convscope COMMAND --help' for a command's options.\n");
}

int main(int argc, char** argv) {
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
