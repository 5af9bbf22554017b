// One case per child process: the runner must finish and report even when
// a case crashes the engine (a signal) or never returns. The child sends
// its CaseResult back over a pipe as one record; the parent waits for it
// with a deadline and kills the child when it passes.
//
// The parent never runs the engine, so no worker threads exist when it
// forks (a thread pool created before fork() would be missing its workers
// in the child).
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "conformance/conformance.h"

namespace convscope::conformance {

namespace {

// Fields are separated by 0x1f, list items by 0x1e (neither occurs in
// reasons: one_line() keeps printable text).
constexpr char field_separator = '\x1f';
constexpr char item_separator = '\x1e';
// A case may use this much address space; beyond it allocation fails (a
// refusal) instead of the machine swapping.
constexpr rlim_t child_address_space = rlim_t(4) << 30;

std::string serialize(const CaseResult& result) {
    std::string ops;
    for (const std::string& op : result.ops) ops += (ops.empty() ? "" : std::string(1, item_separator)) + op;
    return std::to_string(static_cast<int>(result.status)) + field_separator + result.reason + field_separator +
           result.family + field_separator + ops + field_separator + (result.in_scope ? "1" : "0");
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) return parts;
        start = end + 1;
    }
}

bool deserialize(const std::string& record, CaseResult& result) {
    std::vector<std::string> fields = split(record, field_separator);
    if (fields.size() != 5 || fields[0].empty()) return false;
    int status = std::atoi(fields[0].c_str());
    if (status < 0 || status > static_cast<int>(CaseStatus::timed_out)) return false;
    result.status = static_cast<CaseStatus>(status);
    result.reason = fields[1];
    result.family = fields[2];
    result.ops = fields[3].empty() ? std::vector<std::string>{} : split(fields[3], item_separator);
    result.in_scope = fields[4] == "1";
    return true;
}

[[noreturn]] void child_main(const std::function<CaseResult()>& run, int write_fd) {
    rlimit limit{child_address_space, child_address_space};
    setrlimit(RLIMIT_AS, &limit);
    std::string record;
    try {
        record = serialize(run());
    } catch (...) {
        CaseResult failed;
        failed.status = CaseStatus::refused;
        failed.reason = "the runner itself threw";
        record = serialize(failed);
    }
    size_t written = 0;
    while (written < record.size()) {
        ssize_t n = write(write_fd, record.data() + written, record.size() - written);
        if (n <= 0) break;
        written += static_cast<size_t>(n);
    }
    close(write_fd);
    _exit(0);  // no atexit handlers or static destructors of the parent's copy
}

}  // namespace

CaseResult run_isolated(const std::function<CaseResult()>& run, const CaseResult& fallback, double timeout_seconds,
                        bool isolate) {
    if (!isolate) return run();
    CaseResult result = fallback;
    int fds[2];
    if (pipe(fds) != 0) {
        result.status = CaseStatus::crashed;
        result.reason = std::string("pipe() failed: ") + std::strerror(errno);
        return result;
    }
    pid_t child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        result.status = CaseStatus::crashed;
        result.reason = std::string("fork() failed: ") + std::strerror(errno);
        return result;
    }
    if (child == 0) {
        close(fds[0]);
        child_main(run, fds[1]);
    }
    close(fds[1]);
    std::string record;
    bool timed_out = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd waiting{fds[0], POLLIN, 0};
        int ready = poll(&waiting, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;  // the deadline check above ends the wait
        char buffer[4096];
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // end of file: the child closed the pipe or died
        record.append(buffer, static_cast<size_t>(n));
    }
    close(fds[0]);
    if (timed_out) kill(child, SIGKILL);
    int wait_status = 0;
    while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        result.status = CaseStatus::timed_out;
        result.reason = "still running after " + std::to_string(static_cast<int>(timeout_seconds)) + " s; killed";
    } else if (WIFSIGNALED(wait_status)) {
        result.status = CaseStatus::crashed;
        result.reason = std::string("crashed with signal ") + std::to_string(WTERMSIG(wait_status)) + " (" +
                        strsignal(WTERMSIG(wait_status)) + ")";
    } else if (!deserialize(record, result)) {
        result = fallback;
        result.status = CaseStatus::crashed;
        result.reason = "the case's process ended (exit status " + std::to_string(WEXITSTATUS(wait_status)) +
                        ") without reporting a result";
    }
    return result;
}

}  // namespace convscope::conformance
