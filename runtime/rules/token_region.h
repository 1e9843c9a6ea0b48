// Where the match network's tokens and fact entries live: one address range for the whole process,
// reserved on first use, so that a token names another in 4 bytes (Ref: its offset from the range's start
// in 8-byte units) instead of a pointer's 8. A token holds seven such links (its parent, its siblings, its
// place in a bucket or the agenda, its place in its fact's list); at 4 bytes each a full match is 48 bytes
// instead of 72 and a partial one 64 instead of 96. A load is bound by the fresh memory it writes (the join
// benchmark ran 25% slower with 32 bytes more per token), so the bytes are the time.
//
// The range is reserved without backing (MAP_NORESERVE): only the pages the pools touch count. Pools take
// blocks from it and give them back (their pages released) when their network goes; a block given back is
// reused by the next pool asking for that size.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace orgos::rules {

namespace region {

// The range's start; set once, before the first block is handed out (so before any Ref exists).
inline char* base_ = nullptr;

// A block of `bytes` (a multiple of 8). Blocks of a multiple of 2 MiB are aligned to 2 MiB and offered to
// the kernel as transparent huge pages. Throws RegionFull when the range has no room left.
void* take(size_t bytes);
// Gives a block back: its pages are released and it goes to the next take of the same size.
void give_back(void* block, size_t bytes);
// The bytes reserved (for messages and tests).
size_t reserved();

}  // namespace region

struct RegionFull : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A link to a T in the region, 4 bytes; converts to and from T* (null is 0).
template <typename T>
class Ref {
 public:
  Ref() = default;
  Ref(std::nullptr_t) {}
  Ref(T* p) : off_(p ? static_cast<uint32_t>((reinterpret_cast<char*>(p) - region::base_) >> 3) : 0) {}
  operator T*() const { return off_ ? reinterpret_cast<T*>(region::base_ + (uint64_t{off_} << 3)) : nullptr; }
  T* operator->() const { return *this; }

 private:
  uint32_t off_ = 0;
};

}  // namespace orgos::rules
