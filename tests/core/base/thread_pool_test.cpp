#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/thread_pool.h"

using namespace convscope;

namespace {

// Restores one thread when a test ends, whatever it set.
struct ThreadCountGuard {
    ~ThreadCountGuard() { set_thread_count(1); }
};

std::vector<std::pair<int64_t, int64_t>> recorded_chunks(int64_t count, int64_t grain) {
    std::mutex mutex;
    std::vector<std::pair<int64_t, int64_t>> chunks;
    parallel_for(count, [&](int64_t begin, int64_t end) {
        std::lock_guard<std::mutex> lock(mutex);
        chunks.emplace_back(begin, end);
    }, grain);
    std::sort(chunks.begin(), chunks.end());
    return chunks;
}

}  // namespace

TEST_CASE("thread_pool: one thread by default, clamped sizes", "[base][threads]") {
    ThreadCountGuard guard;
    REQUIRE(thread_count() == 1);
    REQUIRE(set_thread_count(0) == 1);
    REQUIRE(set_thread_count(-5) == 1);
    REQUIRE(set_thread_count(max_thread_count() + 100) == max_thread_count());
    REQUIRE(thread_count() == max_thread_count());
    REQUIRE(default_thread_count(8) >= 1);
    REQUIRE(default_thread_count(8) <= 8);
    REQUIRE(default_thread_count(1) == 1);
}

TEST_CASE("thread_pool: chunks cover the range once, split the same way every time", "[base][threads]") {
    ThreadCountGuard guard;
    if (max_thread_count() < 3) return;  // a WebAssembly build without pthreads has nothing to split
    set_thread_count(3);
    const auto chunks = recorded_chunks(10, 1);
    REQUIRE(chunks == std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {3, 6}, {6, 10}});
    for (int repeat = 0; repeat < 20; ++repeat) REQUIRE(recorded_chunks(10, 1) == chunks);
    // Grain 4: only two chunks of at least 4 items fit in 10.
    REQUIRE(recorded_chunks(10, 4) == std::vector<std::pair<int64_t, int64_t>>{{0, 5}, {5, 10}});
    // Small work runs as one chunk on the calling thread.
    REQUIRE(recorded_chunks(5, 4) == std::vector<std::pair<int64_t, int64_t>>{{0, 5}});
    REQUIRE(recorded_chunks(0, 1).empty());
    // Two items, three threads: two chunks.
    REQUIRE(recorded_chunks(2, 1) == std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 2}});
}

TEST_CASE("thread_pool: chunks run at the same time on different threads", "[base][threads]") {
    ThreadCountGuard guard;
    if (max_thread_count() < 2) return;
    set_thread_count(2);
    // Each chunk waits (up to 10 s) until both have started: only two threads
    // running them at once get past it.
    std::atomic<int> started{0};
    std::atomic<bool> timed_out{false};
    std::thread::id ran_by[2];
    parallel_for(2, [&](int64_t begin, int64_t) {
        ran_by[begin] = std::this_thread::get_id();
        ++started;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (started.load() < 2) {
            if (std::chrono::steady_clock::now() > deadline) {
                timed_out = true;
                return;
            }
            std::this_thread::yield();
        }
    });
    REQUIRE_FALSE(timed_out);
    REQUIRE(ran_by[0] != ran_by[1]);
}

TEST_CASE("thread_pool: a parallel_for inside a chunk runs serially on that thread", "[base][threads]") {
    ThreadCountGuard guard;
    if (max_thread_count() < 2) return;
    set_thread_count(2);
    REQUIRE_FALSE(inside_parallel_for());
    std::atomic<int> inner_calls{0}, wrong_thread{0};
    parallel_for(2, [&](int64_t, int64_t) {
        REQUIRE(inside_parallel_for());
        const std::thread::id outer = std::this_thread::get_id();
        parallel_for(100, [&](int64_t begin, int64_t end) {
            ++inner_calls;
            if (begin != 0 || end != 100 || std::this_thread::get_id() != outer) ++wrong_thread;
        });
    });
    REQUIRE(inner_calls == 2);
    REQUIRE(wrong_thread == 0);
    REQUIRE_FALSE(inside_parallel_for());
}

TEST_CASE("thread_pool: an exception in any chunk reaches the caller after all chunks end", "[base][threads]") {
    ThreadCountGuard guard;
    if (max_thread_count() < 3) return;
    set_thread_count(3);
    std::atomic<int> finished{0};
    REQUIRE_THROWS_WITH(parallel_for(3, [&](int64_t begin, int64_t) {
        if (begin == 2) throw std::runtime_error("chunk 2 failed");
        ++finished;
    }), "chunk 2 failed");
    REQUIRE(finished == 2);
    // The pool still works afterwards.
    REQUIRE(recorded_chunks(3, 1).size() == 3);
}

TEST_CASE("thread_pool: resizing between loops keeps results", "[base][threads]") {
    ThreadCountGuard guard;
    std::vector<int64_t> values(1000);
    for (int threads : {1, 2, 4, 3, 1}) {
        set_thread_count(threads);
        std::fill(values.begin(), values.end(), 0);
        parallel_for(static_cast<int64_t>(values.size()), [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) values[static_cast<size_t>(i)] += i * i;
        });
        for (size_t i = 0; i < values.size(); ++i) REQUIRE(values[i] == static_cast<int64_t>(i * i));
    }
}
