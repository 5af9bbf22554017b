// Prints the mutation figures for the README's reliability section:
//   build/native/mutation_report [COUNT_PER_FILE] [--no-run] [--keep-last PATH] [FILE...]
// Defaults: 2000 mutations of every fixture and corpus model file; each
// mutant that loads is also built by the engine and run on a zero input when
// that is cheap (tests/support/bounded_run.h). Every mutant's peak heap is
// measured by counting this program's allocations (global operator new
// below) and bounded by 256 MB + 4x the file size. --keep-last writes each
// mutant to PATH before loading it: after a crash, PATH is the culprit.
//
//   build/native/mutation_report --open FILE...
// Opens each file once (no mutations) and prints the wall time, the peak
// heap and the process's peak resident set (getrusage), for the
// large-model memory figure (scripts/make_large_model.py writes the files).
// --open reads and opens like the app and the CLI (open_model_in_place);
// --open-const uses open_model on const bytes (readers may not rewrite them).
// --engine (with --open or --open-const) also builds the engine afterwards,
// as the app does right after opening, and reports the build's time and the
// peak heap of read + open + build together.
#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/engine/plan.h"
#include "core/formats/registry.h"
#include "support/bounded_run.h"
#include "support/mutations.h"

using namespace convscope;
using namespace convscope::testing;

// ---- counting allocator ------------------------------------------------------
// Live and peak bytes of everything allocated through operator new (all
// std containers, hence every Tensor and decoded buffer). malloc_usable_size
// gives the size back on delete without a header. stb_image's malloc calls
// are not counted; images are not part of the report.
namespace {
std::atomic<int64_t> live_bytes{0};
std::atomic<int64_t> peak_bytes{0};
std::atomic<int64_t> peak_base{0};

void note_allocation(void* pointer) {
    int64_t now = live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(pointer))) +
                  static_cast<int64_t>(malloc_usable_size(pointer));
    int64_t peak = peak_bytes.load(std::memory_order_relaxed);
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
}
void note_free(void* pointer) {
    if (pointer) live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(pointer)));
}
void* counted_alloc(size_t size, size_t alignment) {
    void* pointer = nullptr;
    if (alignment <= alignof(std::max_align_t)) {
        pointer = std::malloc(size ? size : 1);
    } else if (posix_memalign(&pointer, alignment, size ? size : 1) != 0) {
        pointer = nullptr;
    }
    if (pointer) note_allocation(pointer);
    return pointer;
}
void* counted_new(size_t size, size_t alignment) {
    void* pointer = counted_alloc(size, alignment);
    if (!pointer) throw std::bad_alloc();
    return pointer;
}
void counted_delete(void* pointer) {
    note_free(pointer);
    std::free(pointer);
}
}  // namespace

void* operator new(size_t size) { return counted_new(size, 0); }
void* operator new[](size_t size) { return counted_new(size, 0); }
void* operator new(size_t size, std::align_val_t a) { return counted_new(size, static_cast<size_t>(a)); }
void* operator new[](size_t size, std::align_val_t a) { return counted_new(size, static_cast<size_t>(a)); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size, 0); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size, 0); }
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, size_t) noexcept { counted_delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_delete(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { counted_delete(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { counted_delete(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_delete(p); }

namespace {

void reset_peak() {
    int64_t now = live_bytes.load();
    peak_base.store(now);
    peak_bytes.store(now);
}
uint64_t peak_since_reset() { return static_cast<uint64_t>(std::max<int64_t>(0, peak_bytes.load() - peak_base.load())); }

double megabytes(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// CPU seconds (user + system) of this process: wall time on a shared,
// oversubscribed machine says more about the neighbours than about us.
double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

uint64_t peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// --open: one plain load per file, timed and measured.
int open_files(const std::vector<std::string>& files, bool in_place, bool build_engine) {
    int status = 0;
    for (const std::string& file : files) {
        uint64_t rss_before = peak_rss_bytes();
        reset_peak();
        auto started = std::chrono::steady_clock::now();
        double cpu_started = cpu_seconds();
        try {
            WritableFileBytes bytes = read_file_bytes_writable(file);
            auto read_done = std::chrono::steady_clock::now();
            double cpu_read = cpu_seconds();
            Model model = in_place ? open_model_in_place(bytes, file) : open_model(FileBytes(bytes), file);
            auto opened = std::chrono::steady_clock::now();
            double cpu_opened = cpu_seconds();
            uint64_t parameters = model.total_parameters();
            double read_seconds = std::chrono::duration<double>(read_done - started).count();
            double open_seconds = std::chrono::duration<double>(opened - read_done).count();
            uint64_t heap = peak_since_reset();
            uint64_t rss = peak_rss_bytes();
            std::printf("%s (%s): %.1f MB file, %zu layers, %llu parameters\n"
                        "  read %.3f s + open %.3f s = %.3f s wall; CPU read %.3f s + open %.3f s\n"
                        "  peak heap during read+open %.1f MB (%.2fx the file), process peak RSS %.1f MB "
                        "(%.2fx the file; %.1f MB before)\n",
                        file.c_str(), in_place ? "open_model_in_place" : "open_model", megabytes(bytes->size()), model.layers.size(),
                        static_cast<unsigned long long>(parameters), read_seconds, open_seconds,
                        read_seconds + open_seconds, cpu_read - cpu_started, cpu_opened - cpu_read, megabytes(heap), double(heap) / double(bytes->size()),
                        megabytes(rss), double(rss) / double(bytes->size()), megabytes(rss_before));
            if (build_engine) {
                double cpu_build_started = cpu_seconds();
                auto build_started = std::chrono::steady_clock::now();
                Engine engine = Engine::build(model);
                double build_seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - build_started).count();
                double build_cpu = cpu_seconds() - cpu_build_started;
                uint64_t total_heap = peak_since_reset();
                // What stays allocated once the build is done (file, model, engine), against the peak,
                // which also holds the build's transient buffers.
                uint64_t live_heap = static_cast<uint64_t>(std::max<int64_t>(0, live_bytes.load() - peak_base.load()));
                uint64_t total_rss = peak_rss_bytes();
                std::printf("  + Engine::build %.3f s wall (CPU %.3f s), %zu steps; peak heap during read+open+build "
                            "%.1f MB (%.2fx the file), live after the build %.1f MB (%.2fx), process peak RSS %.1f MB "
                            "(%.2fx the file)\n",
                            build_seconds, build_cpu, engine.plan_steps().size(), megabytes(total_heap),
                            double(total_heap) / double(bytes->size()), megabytes(live_heap),
                            double(live_heap) / double(bytes->size()), megabytes(total_rss),
                            double(total_rss) / double(bytes->size()));
            }
        } catch (const Error& error) {
            std::printf("%s: %s\n", file.c_str(), error.what());
            status = 1;
        }
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    size_t per_file = 2000;
    bool run_engine = true, open_only = false, open_in_place = true, open_and_build = false;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        std::string argument = argv[i];
        if (argument == "--no-run") run_engine = false;
        else if (argument == "--open") open_only = true;
        else if (argument == "--open-const") open_only = true, open_in_place = false;
        else if (argument == "--engine") open_and_build = true;
        else if (argument == "--keep-last" && i + 1 < argc) last_mutant_path = argv[++i];
        else if (i == 1 && !argument.empty() && argument.find_first_not_of("0123456789") == std::string::npos)
            per_file = std::strtoul(argv[i], nullptr, 10);
        else files.push_back(argument);
    }
    if (open_only) return open_files(files, open_in_place, open_and_build);
    if (files.empty()) files = mutation_inputs(CONVSCOPE_SOURCE_DIR);

    AfterLoad run_hook = [](const Model& model) { return build_and_run_bounded(model) == RunOutcomeKind::ran; };
    size_t tried = 0, loaded = 0, ran = 0, refused = 0, errors = 0, bad = 0, slow = 0, hogs = 0;
    double slowest = 0;
    uint64_t largest_peak = 0;
    std::string largest_peak_where;
    for (size_t index = 0; index < files.size(); ++index) {
        const std::string& file = files[index];
        FileBytes original = read_file_bytes(file);
        MemoryProbe memory{reset_peak, peak_since_reset, 256ull * 1024 * 1024 + 4 * original->size()};
        MutationOutcome outcome = run_mutations(make_mutations(*original, per_file, 0xc0ffee + index), file, 2.0,
                                                run_engine ? run_hook : AfterLoad(), &memory);
        size_t count = outcome.loaded + outcome.clean_errors + outcome.other_exceptions;
        std::printf("%-60s %5zu tried %5zu loaded (%4zu ran, %4zu refused by the engine) %5zu clean errors "
                    "%2zu crashes %2zu hangs %2zu memory hogs; slowest %.3f s, largest peak heap %.1f MB\n",
                    file.c_str(), count, outcome.loaded, outcome.ran, outcome.run_refused, outcome.clean_errors,
                    outcome.other_exceptions, outcome.slow, outcome.memory_hogs, outcome.slowest_seconds,
                    megabytes(outcome.largest_peak_bytes));
        for (const std::string& problem : outcome.problems) std::printf("  ! %s\n", problem.c_str());
        std::fflush(stdout);
        tried += count;
        loaded += outcome.loaded;
        ran += outcome.ran;
        refused += outcome.run_refused;
        errors += outcome.clean_errors;
        bad += outcome.other_exceptions;
        slow += outcome.slow;
        hogs += outcome.memory_hogs;
        if (outcome.slowest_seconds > slowest) slowest = outcome.slowest_seconds;
        if (outcome.largest_peak_bytes > largest_peak) {
            largest_peak = outcome.largest_peak_bytes;
            largest_peak_where = file + ": " + outcome.largest_peak_description;
        }
    }
    std::printf("\n%zu files, %zu mutated files tried: %zu loaded (%zu run by the engine, %zu refused by it), "
                "%zu clean errors, %zu crashes, %zu hangs (> 2 s), %zu memory hogs; slowest %.3f s; "
                "largest peak heap %.1f MB (%s)\n",
                files.size(), tried, loaded, ran, refused, errors, bad, slow, hogs, slowest,
                megabytes(largest_peak), largest_peak_where.c_str());
    return (bad || slow || hogs) ? 1 : 0;
}
