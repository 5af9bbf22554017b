// A fixed pool of worker threads for the kernels, and parallel_for over it.
//
// One process-wide pool, sized by set_thread_count (default 1: the core never
// starts threads unless the CLI, the app or the JS API asks). parallel_for
// splits [0, count) into at most thread_count() contiguous chunks, the same
// way for the same (count, threads, grain) every time: chunk i is
// [count * i / chunks, count * (i + 1) / chunks). The calling thread and the
// workers claim chunks until none is left (on a loaded machine the caller
// runs the chunks of a worker not yet scheduled), and parallel_for returns
// when all are done.
//
// Kernels split only over independent outputs (never a reduction), so every
// output element is computed by one thread in the same order as with one
// thread: results are bit-identical for any thread count.
//
// It runs fn(0, count) on the calling thread when the pool has one thread,
// when the work is small (count < 2 * grain), when called from inside a
// parallel_for (no nesting: a worker's inner parallel_for is serial), or when
// another thread is already using the pool. An exception thrown by fn on any
// thread is rethrown on the calling thread after every chunk has finished.
//
// Works with std::thread natively and under Emscripten pthreads (the module
// must be linked with -pthread and a PTHREAD_POOL_SIZE of at least
// max_thread_count() - 1, because a browser's main thread cannot wait for a
// new worker to start). A WebAssembly build without pthreads reports
// max_thread_count() == 1 and never starts a thread.
#pragma once

#include <cstdint>
#include <functional>

namespace convscope {

// The most threads this build can use (the calling thread included).
int max_thread_count();

// Sets the thread count (clamped to [1, max_thread_count()]) and returns the
// count in effect. The pool only grows (more threads than it has: it is
// rebuilt; fewer: its extra workers idle); must not be called from inside a
// parallel_for.
int set_thread_count(int threads);
int thread_count();

// The default for front ends: the machine's hardware concurrency, capped at
// `cap` and at max_thread_count(), at least 1.
int default_thread_count(int cap = 8);

// Runs fn(begin, end) over contiguous chunks of [0, count); each chunk holds
// at least `grain` items (so tiny loops are not split).
void parallel_for(int64_t count, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

// Tests: whether the current thread is running a chunk of a parallel_for.
bool inside_parallel_for();

}  // namespace convscope
