// Storage for the match network's tokens: fixed-size slots carved from large blocks, reused through a
// free list. A workload builds and drops hundreds of thousands of partial matches; one malloc per token
// (and glibc's bookkeeping and consolidation of those small blocks) was about half of the match time.
// The pool owns the memory: it is returned all at once when the network goes.
#pragma once
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

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
    free_ = s->next;
    return new (s->bytes) T(std::forward<A>(a)...);
  }

  void destroy(T* t) {
    t->~T();
    auto* s = reinterpret_cast<Slot*>(t);
    s->next = free_;
    free_ = s;
  }

 private:
  union Slot {
    Slot* next;
    alignas(T) std::byte bytes[sizeof(T)];
  };
  static constexpr size_t kBlock = 4096;  // slots per block: a few hundred KB, one allocation

  void grow() {
    blocks_.push_back(std::make_unique<Slot[]>(kBlock));
    Slot* b = blocks_.back().get();
    for (size_t i = kBlock; i-- > 0;) {
      b[i].next = free_;
      free_ = &b[i];
    }
  }

  std::vector<std::unique_ptr<Slot[]>> blocks_;
  Slot* free_ = nullptr;
};

}  // namespace orgos::rules
