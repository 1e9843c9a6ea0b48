// Storage for the match network's tokens: fixed-size slots carved from large blocks, reused through a
// free list. A workload builds and drops hundreds of thousands of partial matches; one malloc per token
// (and glibc's bookkeeping and consolidation of those small blocks) was about half of the match time.
// The pool owns the memory: it is returned all at once when the network goes.
//
// Blocks grow geometrically (a small network stays small) up to 4 MiB; blocks of 2 MiB and more (a pool
// past 2 MiB) are aligned to 2 MiB and offered to the kernel as transparent huge pages: first touches of
// fresh memory (a page fault per 4 KiB) had become a third of a large load's time. (Measured both ways:
// holding huge pages back until a pool has 8 MiB saved no memory on the benchmarks and cost 20% time.)
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>
#include <vector>

// Under AddressSanitizer a free slot is poisoned, so a stale token pointer is still reported as a
// use-after-free although the memory stays in the pool.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ORGOS_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define ORGOS_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ORGOS_POOL_POISON(p, n) ((void)(p), (void)(n))
#define ORGOS_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace orgos::rules {

template <typename T>
class TokenPool {
 public:
  TokenPool() = default;
  TokenPool(const TokenPool&) = delete;
  TokenPool& operator=(const TokenPool&) = delete;
  // Objects still alive are not destroyed here: the owner destroys them first (the network walks its
  // tokens), the pool only releases the blocks.
  ~TokenPool() = default;

  template <typename... A>
  T* make(A&&... a) {
    if (!free_) grow();
    Slot* s = free_;
    ORGOS_POOL_UNPOISON(s, sizeof(Slot));
    free_ = s->next;
    return new (s->bytes) T(std::forward<A>(a)...);
  }

  void destroy(T* t) {
    t->~T();
    auto* s = reinterpret_cast<Slot*>(t);
    s->next = free_;
    free_ = s;
    ORGOS_POOL_POISON(s, sizeof(Slot));
  }

 private:
  union Slot {
    Slot* next;
    alignas(T) std::byte bytes[sizeof(T)];
  };
  static constexpr size_t kFirstBlock = 16 << 10, kMaxBlock = 4 << 20, kHuge = 2 << 20;

  void grow() {
    const size_t bytes = next_bytes_;
    next_bytes_ = std::min(next_bytes_ * 2, kMaxBlock);
    const bool huge = bytes % kHuge == 0;
    void* mem = huge ? std::aligned_alloc(kHuge, bytes) : std::malloc(bytes);
    if (!mem) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (huge) ::madvise(mem, bytes, MADV_HUGEPAGE);  // advice only: fine if refused
#endif
    blocks_.emplace_back(static_cast<Slot*>(mem), Release{bytes});
    Slot* b = blocks_.back().get();
    const size_t n = bytes / sizeof(Slot);
    for (size_t i = n; i-- > 0;) {
      b[i].next = free_;
      free_ = &b[i];
    }
    ORGOS_POOL_POISON(b, n * sizeof(Slot));
  }

  // Blocks go back poisoned: unpoison them first (the pool's own memory, not a use after free).
  struct Release {
    size_t bytes = 0;
    void operator()(Slot* b) const {
      ORGOS_POOL_UNPOISON(b, bytes);
      std::free(b);
    }
  };
  std::vector<std::unique_ptr<Slot, Release>> blocks_;
  Slot* free_ = nullptr;
  size_t next_bytes_ = kFirstBlock;
};

}  // namespace orgos::rules
