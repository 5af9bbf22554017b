// Test-only replacement of the global operator new/delete that fills every
// fresh allocation and every freed block with 0xFF bytes (a NaN as float,
// -1 as any signed integer). A kernel or compiler step that reads memory it
// never wrote, or reads a block after freeing it, then fails the same way on
// every run instead of depending on what earlier tests left on the heap.
//
// Why: the WASM test suite once failed only after certain other tests had
// run. compile_keras's spatial() called values.assign(rank, values[0]); the
// element is passed by reference, and libc++ (the WASM standard library)
// frees the old buffer before filling the new one, so a default dilation of
// 1 was read from freed memory. libstdc++ copies the value first, so native
// runs and valgrind were clean. With freed blocks poisoned the WASM build
// reads -1 and the engine tests fail deterministically.
//
// Left out of sanitizer builds: AddressSanitizer's own allocator already
// poisons and checks, and replacing operator new would hide its reports.

#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define CONVSCOPE_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CONVSCOPE_TEST_SANITIZED 1
#endif

#if !defined(CONVSCOPE_TEST_SANITIZED) && (defined(__GLIBC__) || defined(__EMSCRIPTEN__))
#include <malloc.h>  // malloc_usable_size

namespace {

constexpr unsigned char poison_byte = 0xFF;

void* poisoned_allocation(std::size_t size) {
    void* block = std::malloc(size ? size : 1);
    if (block) std::memset(block, poison_byte, size);
    return block;
}

void poisoned_free(void* block) noexcept {
    if (!block) return;
    std::memset(block, poison_byte, malloc_usable_size(block));
    std::free(block);
}

void* allocate_or_throw(std::size_t size) {
    void* block = poisoned_allocation(size);
    if (!block) throw std::bad_alloc();
    return block;
}

}  // namespace

void* operator new(std::size_t size) { return allocate_or_throw(size); }
void* operator new[](std::size_t size) { return allocate_or_throw(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return poisoned_allocation(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return poisoned_allocation(size); }
void operator delete(void* block) noexcept { poisoned_free(block); }
void operator delete[](void* block) noexcept { poisoned_free(block); }
void operator delete(void* block, std::size_t) noexcept { poisoned_free(block); }
void operator delete[](void* block, std::size_t) noexcept { poisoned_free(block); }
void operator delete(void* block, const std::nothrow_t&) noexcept { poisoned_free(block); }
void operator delete[](void* block, const std::nothrow_t&) noexcept { poisoned_free(block); }

#endif
