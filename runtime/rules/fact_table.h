// Working memory's index: fact id → the fact's entry, as an open-addressing table (linear probing,
// backward-shift deletion). The node-based std::unordered_map it replaces spent a tenth of a 100,000-fact
// load rehashing its nodes, and an allocation per fact; here a lookup is one probe into a flat array of
// 16-byte slots, and growing moves only those slots.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace orgos::rules {

template <typename T>
class FactTable {
 public:
  // The entry of `id`, or null. Id 0 is never stored (a fact has a non-zero id).
  T* find(int64_t id) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == id) return s.value;
      if (s.id == 0) return nullptr;
    }
  }

  // Adds `id` (not present yet).
  void put(int64_t id, T* value) {
    if ((count_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = home(id);
    while (slots_[i].id != 0) i = (i + 1) & mask_;
    slots_[i] = {id, value};
    ++count_;
  }

  // Removes `id` if present; the entries after it in its probe run move back, so no tombstones pile up.
  void erase(int64_t id) {
    if (slots_.empty()) return;
    size_t i = home(id);
    while (slots_[i].id != id) {
      if (slots_[i].id == 0) return;
      i = (i + 1) & mask_;
    }
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j].id == 0) break;
      size_t h = home(slots_[j].id);
      // Slot j may fill the hole at i when its home is not cyclically within (i, j].
      if (((j - h) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
    --count_;
  }

  size_t size() const { return count_; }

  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_)
      if (s.id != 0) f(s.id, s.value);
  }

 private:
  struct Slot {
    int64_t id = 0;
    T* value = nullptr;
  };

  size_t home(int64_t id) const {
    // Fibonacci hashing: ids are mostly consecutive, and the multiply spreads them over the table.
    return static_cast<size_t>((static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    size_t n = old.empty() ? 64 : old.size() * 2;
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(n));
    count_ = 0;
    for (const Slot& s : old)
      if (s.id != 0) put(s.id, s.value);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0, count_ = 0;
  unsigned shift_ = 64;
};

}  // namespace orgos::rules
