#include "core/base/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace convscope {

namespace {

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
constexpr int build_max_threads = 1;  // no pthreads in this WebAssembly build
#elif defined(__EMSCRIPTEN__)
// Must not exceed the link's -sPTHREAD_POOL_SIZE + 1 (cmake sets both).
#ifndef CONVSCOPE_MAX_THREADS
#define CONVSCOPE_MAX_THREADS 8
#endif
constexpr int build_max_threads = CONVSCOPE_MAX_THREADS;
#else
constexpr int build_max_threads = 64;
#endif

thread_local bool running_a_chunk = false;

// Marks the current thread as inside a chunk for the duration of a scope.
class ChunkScope {
public:
    ChunkScope() : previous_(running_a_chunk) { running_a_chunk = true; }
    ~ChunkScope() { running_a_chunk = previous_; }
    ChunkScope(const ChunkScope&) = delete;
    ChunkScope& operator=(const ChunkScope&) = delete;

private:
    bool previous_;
};

int64_t chunk_begin(int64_t count, int chunks, int index) { return count * index / chunks; }

// Waits up to `limit` for `done` by polling (yielding the core between polls,
// which matters on a loaded machine) before the caller falls back to a
// condition variable: waking a sleeping thread costs tens of microseconds
// idle and a scheduler time slice loaded, while a network's layers follow
// each other within microseconds. Workers poll for the next job about a
// millisecond (pthreadpool and ORT's pool also spin before sleeping).
constexpr std::chrono::microseconds worker_spin{1000}, caller_spin{2000};

template <typename Done>
bool spin_until(Done done, std::chrono::microseconds limit) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    for (int polls = 0;; ++polls) {
        if (done()) return true;
        if ((polls & 15) == 15 && std::chrono::steady_clock::now() > give_up) return false;
        std::this_thread::yield();
    }
}

// Chunks are claimed, not assigned: the caller and every awake worker take
// the next unclaimed chunk until none is left, so a worker the scheduler
// has not run yet (a loaded machine) delays nothing: the caller runs its
// chunks instead. The chunk boundaries never change, so results do not
// depend on who ran which chunk.
class Pool {
public:
    explicit Pool(int threads) : threads_(threads) {
        workers_.reserve(static_cast<size_t>(threads - 1));
        for (int index = 1; index < threads; ++index) workers_.emplace_back([this] { work(); });
    }

    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
            stopping_flag_.store(true);
        }
        start_.notify_all();
        for (std::thread& worker : workers_) worker.join();
    }

    int threads() const { return threads_; }

    // Returns false (having run nothing) when another thread holds the pool.
    bool try_run(int64_t count, int chunks, const std::function<void(int64_t, int64_t)>& fn) {
        std::unique_lock<std::mutex> dispatch(dispatch_, std::try_to_lock);
        if (!dispatch.owns_lock()) return false;
        uint32_t generation;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = &fn;
            count_ = count;
            chunks_ = chunks;
            pending_.store(chunks);
            error_ = nullptr;
            generation = ++generation_counter_;
            claims_.store(static_cast<uint64_t>(generation) << 32);
            generation_.store(generation);
        }
        start_.notify_all();
        run_chunks(generation, fn, count, chunks);
        spin_until([this] { return pending_.load() == 0; }, caller_spin);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_.load() == 0; });
        job_ = nullptr;
        std::exception_ptr error = error_;
        error_ = nullptr;
        lock.unlock();
        if (error) std::rethrow_exception(error);
        return true;
    }

private:
    // Claims and runs chunks of job `generation` until none is left.
    void run_chunks(uint32_t generation, const std::function<void(int64_t, int64_t)>& fn, int64_t count, int chunks) {
        for (;;) {
            uint64_t claims = claims_.load();
            int index;
            do {
                if (static_cast<uint32_t>(claims >> 32) != generation) return;  // a later job: not ours
                index = static_cast<int>(claims & 0xffffffffu);
                if (index >= chunks) return;
            } while (!claims_.compare_exchange_weak(claims, claims + 1));
            std::exception_ptr error;
            try {
                ChunkScope scope;
                fn(chunk_begin(count, chunks, index), chunk_begin(count, chunks, index + 1));
            } catch (...) {
                error = std::current_exception();
            }
            if (error) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = error;
            }
            if (pending_.fetch_sub(1) == 1) {
                std::lock_guard<std::mutex> lock(mutex_);  // the caller may be between its check and its wait
                done_.notify_one();
            }
        }
    }

    void work() {
        uint32_t seen = 0;
        for (;;) {
            const std::function<void(int64_t, int64_t)>* job = nullptr;
            int64_t count = 0;
            int chunks = 0;
            uint32_t generation = 0;
            {
                spin_until([&] { return generation_.load() != seen || stopping_flag_.load(); }, worker_spin);
                std::unique_lock<std::mutex> lock(mutex_);
                start_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
                if (stopping_) return;
                seen = generation = generation_.load();
                job = job_;
                count = count_;
                chunks = chunks_;
            }
            // job_ is null once the job has finished: nothing left to claim.
            if (job) run_chunks(generation, *job, count, chunks);
        }
    }

    const int threads_;
    std::vector<std::thread> workers_;
    std::mutex dispatch_;  // one parallel_for at a time
    std::mutex mutex_;     // guards the job and the error below
    std::condition_variable start_, done_;
    uint32_t generation_counter_ = 0;
    // Written under mutex_; atomic so the spinning waits may read them without it.
    std::atomic<uint32_t> generation_{0};
    std::atomic<int> pending_{0};             // chunks not finished
    std::atomic<uint64_t> claims_{0};         // generation << 32 | next unclaimed chunk
    std::atomic<bool> stopping_flag_{false};
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t count_ = 0;
    int chunks_ = 0;
    std::exception_ptr error_;
    bool stopping_ = false;
};

std::mutex pool_owner_mutex;
// Shared so a parallel_for in flight keeps its pool alive if another thread
// resizes it meanwhile.
std::shared_ptr<Pool> pool;  // null until more than one thread is asked for
int active_threads = 1;      // <= the pool's threads

}  // namespace

int max_thread_count() { return build_max_threads; }

int set_thread_count(int threads) {
    threads = std::clamp(threads, 1, build_max_threads);
    std::lock_guard<std::mutex> lock(pool_owner_mutex);
    // Fewer threads than the pool has: the extra workers stay idle (no
    // thread is started or joined, so switching back and forth is cheap).
    if (threads > (pool ? pool->threads() : 1)) {
        pool.reset();
        pool = std::make_shared<Pool>(threads);
    }
    active_threads = threads;
    return threads;
}

int thread_count() {
    std::lock_guard<std::mutex> lock(pool_owner_mutex);
    return active_threads;
}

int default_thread_count(int cap) {
    const unsigned hardware = std::thread::hardware_concurrency();
    const int wanted = hardware == 0 ? 1 : static_cast<int>(std::min<unsigned>(hardware, 1024));
    return std::clamp(std::min(wanted, cap), 1, build_max_threads);
}

bool inside_parallel_for() { return running_a_chunk; }

void parallel_for(int64_t count, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
    if (count <= 0) return;
    grain = std::max<int64_t>(grain, 1);
    std::shared_ptr<Pool> current;
    int threads = 1;
    if (!running_a_chunk) {
        std::lock_guard<std::mutex> lock(pool_owner_mutex);
        current = pool;
        threads = active_threads;
    }
    const int64_t chunks = current ? std::min<int64_t>(threads, count / grain) : 1;
    if (chunks <= 1 || !current->try_run(count, static_cast<int>(chunks), fn)) {
        ChunkScope scope;
        fn(0, count);
    }
}

}  // namespace convscope
