// Storage for the match network's tokens and fact entries: fixed-size slots carved from large blocks, reused
// through a free list. A workload builds and drops hundreds of thousands of partial matches; one malloc per
// token (and glibc's bookkeeping and consolidation of those small blocks) was about half of the match time.
// The pool owns the memory: it is returned all at once when the network goes. Blocks come from the token
// region (token_region.h: 4-byte links between tokens) in the sizes compiler/interp/memory_blocks.h
// schedules (one small block, then huge pages).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "compiler/interp/memory_blocks.h"
#include "runtime/rules/token_region.h"

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
class SlotPool {
 public:
  SlotPool() = default;
  SlotPool(const SlotPool&) = delete;
  SlotPool& operator=(const SlotPool&) = delete;
  // Objects still alive are not destroyed here: the owner destroys them first (the network walks its
  // tokens), the pool only releases the blocks.
  ~SlotPool() = default;

  // A freed slot if there is one, else the next never-used slot of the newest block: a block is touched
  // only as far as it is used (threading a free list through a whole new block touched all of it).
  template <typename... A>
  T* make(A&&... a) {
    Slot* s = free_;
    if (s) {
      ORGOS_POOL_UNPOISON(s, sizeof(Slot));
      free_ = s->next;
    } else {
      if (fresh_ == end_) grow();
      s = fresh_++;
      ORGOS_POOL_UNPOISON(s, sizeof(Slot));
    }
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
  void grow() {
    const size_t bytes = next_bytes_;
    next_bytes_ = interp::next_block_size(bytes);
    void* mem = region::take(bytes);
    blocks_.emplace_back(static_cast<Slot*>(mem), Release{bytes});
    Slot* b = blocks_.back().get();
    const size_t n = bytes / sizeof(Slot);
    fresh_ = b;
    end_ = b + n;
    ORGOS_POOL_POISON(b, n * sizeof(Slot));
  }

  // Blocks go back poisoned: unpoison them first (the pool's own memory, not a use after free).
  struct Release {
    size_t bytes = 0;
    void operator()(Slot* b) const {
      ORGOS_POOL_UNPOISON(b, bytes);
      region::give_back(b, bytes);
    }
  };
  std::vector<std::unique_ptr<Slot, Release>> blocks_;
  Slot* free_ = nullptr;                    // freed slots
  Slot *fresh_ = nullptr, *end_ = nullptr;  // the newest block's never-used part
  size_t next_bytes_ = 16 << 10;
};

}  // namespace orgos::rules
