#include "runtime/rules/token_region.h"

#include <sys/mman.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace orgos::rules::region {

namespace {

constexpr size_t kHuge = size_t{2} << 20;
// A Ref reaches 2^32 units of 8 bytes. Smaller reservations are tried when the system refuses this one
// (strict overcommit accounting counts even an unbacked reservation).
constexpr size_t kMost = size_t{32} << 30;
constexpr size_t kLeast = size_t{256} << 20;

struct State {
  std::mutex mu;
  char* end = nullptr;
  char* next = nullptr;                         // never handed out from here on (2 MiB aligned)
  char *small = nullptr, *small_end = nullptr;  // the chunk small blocks are carved from
  size_t size = 0;
  std::map<size_t, std::vector<char*>> free;  // blocks given back, by size

  void reserve() {
    for (size_t size_try = kMost; size_try >= kLeast; size_try /= 2) {
      void* m = ::mmap(nullptr, size_try + kHuge, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (m == MAP_FAILED) continue;
      auto at = reinterpret_cast<uintptr_t>(m);
      base_ = reinterpret_cast<char*>((at + kHuge - 1) / kHuge * kHuge);
      size = size_try;
      end = base_ + size_try;
      next = base_ + kHuge;  // offset 0 is null: the first 2 MiB are never handed out
      return;
    }
    throw RegionFull("cannot reserve address space for the rules network's tokens (" +
                     std::to_string(kLeast >> 20) + " MiB refused)");
  }

  char* carve(size_t bytes) {  // under mu; bytes a multiple of 2 MiB
    if (static_cast<size_t>(end - next) < bytes)
      throw RegionFull("the rules network's working memory is full: " + std::to_string(size >> 20) +
                       " MiB of matches and facts in this process; retract facts or split the rule set");
    char* b = next;
    next += bytes;
    return b;
  }
};

State& state() {
  static State s;
  return s;
}

}  // namespace

void* take(size_t bytes) {
  State& s = state();
  std::lock_guard<std::mutex> lk(s.mu);
  if (!base_) s.reserve();
  if (bytes % kHuge != 0) bytes = (bytes + 4095) / 4096 * 4096;
  if (auto it = s.free.find(bytes); it != s.free.end() && !it->second.empty()) {
    char* b = it->second.back();
    it->second.pop_back();
    return b;
  }
  if (bytes % kHuge == 0) {
    char* b = s.carve(bytes);
#ifdef MADV_HUGEPAGE
    ::madvise(b, bytes, MADV_HUGEPAGE);  // advice only: fine if refused
#endif
    return b;
  }
  // Small blocks (a small network's first; whole pages, so that they can be released) share 2 MiB
  // chunks kept out of huge pages: a network holding a few matches stays a few pages.
  if (static_cast<size_t>(s.small_end - s.small) < bytes) {
    const size_t chunk = (bytes + kHuge - 1) / kHuge * kHuge;
    s.small = s.carve(chunk);
    s.small_end = s.small + chunk;
#ifdef MADV_NOHUGEPAGE
    ::madvise(s.small, chunk, MADV_NOHUGEPAGE);
#endif
  }
  char* b = s.small;
  s.small += bytes;
  return b;
}

void give_back(void* block, size_t bytes) {
  if (!block) return;
  if (bytes % kHuge != 0) bytes = (bytes + 4095) / 4096 * 4096;  // as take() rounded it
  State& s = state();
  // Released now (the memory goes back to the system, as a freed block would); zero again on reuse.
  ::madvise(block, bytes, MADV_DONTNEED);
  std::lock_guard<std::mutex> lk(s.mu);
  s.free[bytes].push_back(static_cast<char*>(block));
}

size_t reserved() {
  return state().size;
}

}  // namespace orgos::rules::region
