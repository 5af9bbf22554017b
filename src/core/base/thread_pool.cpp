#include "core/base/thread_pool.h"

#include <algorithm>
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

class Pool {
public:
    explicit Pool(int threads) : threads_(threads) {
        workers_.reserve(static_cast<size_t>(threads - 1));
        for (int index = 1; index < threads; ++index) workers_.emplace_back([this, index] { work(index); });
    }

    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        start_.notify_all();
        for (std::thread& worker : workers_) worker.join();
    }

    int threads() const { return threads_; }

    // Returns false (having run nothing) when another thread holds the pool.
    bool try_run(int64_t count, int chunks, const std::function<void(int64_t, int64_t)>& fn) {
        std::unique_lock<std::mutex> dispatch(dispatch_, std::try_to_lock);
        if (!dispatch.owns_lock()) return false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            job_ = &fn;
            count_ = count;
            chunks_ = chunks;
            pending_ = chunks - 1;
            error_ = nullptr;
            ++generation_;
        }
        start_.notify_all();
        std::exception_ptr own_error;
        try {
            ChunkScope scope;
            fn(0, chunk_begin(count, chunks, 1));
        } catch (...) {
            own_error = std::current_exception();
        }
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        job_ = nullptr;
        std::exception_ptr error = own_error ? own_error : error_;
        error_ = nullptr;
        lock.unlock();
        if (error) std::rethrow_exception(error);
        return true;
    }

private:
    void work(int index) {
        uint64_t seen = 0;
        for (;;) {
            const std::function<void(int64_t, int64_t)>* job = nullptr;
            int64_t count = 0;
            int chunks = 0;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                job = job_;
                count = count_;
                chunks = chunks_;
            }
            if (index >= chunks) continue;  // this job has fewer chunks than workers
            std::exception_ptr error;
            try {
                ChunkScope scope;
                (*job)(chunk_begin(count, chunks, index), chunk_begin(count, chunks, index + 1));
            } catch (...) {
                error = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(mutex_);
            if (error && !error_) error_ = error;
            if (--pending_ == 0) done_.notify_one();
        }
    }

    const int threads_;
    std::vector<std::thread> workers_;
    std::mutex dispatch_;  // one parallel_for at a time
    std::mutex mutex_;     // guards everything below
    std::condition_variable start_, done_;
    uint64_t generation_ = 0;
    const std::function<void(int64_t, int64_t)>* job_ = nullptr;
    int64_t count_ = 0;
    int chunks_ = 0;
    int pending_ = 0;
    std::exception_ptr error_;
    bool stopping_ = false;
};

std::mutex pool_owner_mutex;
// Shared so a parallel_for in flight keeps its pool alive if another thread
// resizes it meanwhile.
std::shared_ptr<Pool> pool;  // null while the thread count is 1

}  // namespace

int max_thread_count() { return build_max_threads; }

int set_thread_count(int threads) {
    threads = std::clamp(threads, 1, build_max_threads);
    std::lock_guard<std::mutex> lock(pool_owner_mutex);
    if ((pool ? pool->threads() : 1) == threads) return threads;
    pool.reset();
    if (threads > 1) pool = std::make_shared<Pool>(threads);
    return threads;
}

int thread_count() {
    std::lock_guard<std::mutex> lock(pool_owner_mutex);
    return pool ? pool->threads() : 1;
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
    if (!running_a_chunk) {
        std::lock_guard<std::mutex> lock(pool_owner_mutex);
        current = pool;
    }
    const int64_t chunks = current ? std::min<int64_t>(current->threads(), count / grain) : 1;
    if (chunks <= 1 || !current->try_run(count, static_cast<int>(chunks), fn)) {
        ChunkScope scope;
        fn(0, count);
    }
}

}  // namespace convscope
