// Large blocks of memory for the allocators that carve many small objects (the evaluator's arena, the
// rules network's token pools). A block's size follows a fixed schedule: one small block, so that a small
// program stays small, then 2 MiB and 4 MiB blocks aligned to 2 MiB and offered to the kernel as
// transparent huge pages. First touches of fresh memory cost a page fault per 4 KiB (about 1.5 µs each
// on the benchmark machine: a third of a 100,000-fact rules load); a huge page is one fault per 2 MiB.
// (Going there through a 128 KiB or 512 KiB block, as before, cost a 20,000-fact join load 200 faults.)
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace orgos::interp {

inline constexpr size_t kHugePage = 2 << 20;

// The size of the block after one of `bytes`: 2 MiB after the small first block, then 4 MiB.
inline size_t next_block_size(size_t bytes) {
  if (bytes >= kHugePage) return 2 * kHugePage;
  return kHugePage;
}

// A block of `bytes`; huge-page aligned and advised when it is a multiple of 2 MiB. Freed with std::free.
// (The arena's; the token pools take theirs, in the same sizes, from runtime/rules/token_region.h.)
inline void* alloc_block(size_t bytes) {
  const bool huge = bytes % kHugePage == 0;
  void* mem = huge ? std::aligned_alloc(kHugePage, bytes) : std::malloc(bytes);
  if (!mem) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (huge) ::madvise(mem, bytes, MADV_HUGEPAGE);  // advice only: fine if refused
#endif
  return mem;
}

}  // namespace orgos::interp
