// The match network's hash tables: open addressing over (hash, pointer) slots, linear probing,
// backward-shift deletion (no tombstones pile up). Working memory maps fact ids to facts through it, and
// every node maps join keys to its buckets. The node-based std::unordered_map these replace spent a tenth
// of a 100,000-fact load rehashing (an allocation per entry, a division per lookup); here a lookup is a
// multiply and a probe into a flat array of 16-byte slots, and growing moves only those slots.
//
// The table stores a 64-bit hash per entry, never 0 (the empty mark). Where the hash is the key itself
// (fact ids: unique and non-zero) a match on it is exact; otherwise the caller's predicate confirms it.
#pragma once
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

namespace orgos::rules {

template <typename T>
class FlatTable {
 public:
  // The entry with hash `h` that `same` accepts, or null.
  template <typename Same>
  T* find(uint64_t h, Same&& same) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = home(h);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == h && same(s.value)) return s.value;
      if (s.hash == 0) return nullptr;
    }
  }

  // Adds an entry (the caller knows it is absent).
  void put(uint64_t h, T* value) {
    if ((count_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = home(h);
    while (slots_[i].hash != 0) i = (i + 1) & mask_;
    slots_[i] = {h, value};
    ++count_;
  }

  // Removes the entry `value` (hash `h`) if present; the entries after it in its probe run move back.
  void erase(uint64_t h, const T* value) {
    if (slots_.empty()) return;
    size_t i = home(h);
    while (!(slots_[i].hash == h && slots_[i].value == value)) {
      if (slots_[i].hash == 0) return;
      i = (i + 1) & mask_;
    }
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j].hash == 0) break;
      size_t k = home(slots_[j].hash);
      // Slot j may fill the hole at i when its home is not cyclically within (i, j].
      if (((j - k) & mask_) >= ((j - i) & mask_)) {
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
      if (s.hash != 0) f(s.value);
  }
  template <typename F>
  void for_each_entry(F&& f) const {
    for (const Slot& s : slots_)
      if (s.hash != 0) f(s.hash, s.value);
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    T* value = nullptr;
  };

  // Fibonacci hashing: the top bits of a multiply. Ids are mostly consecutive; this spreads them.
  size_t home(uint64_t h) const { return static_cast<size_t>((h * 0x9E3779B97F4A7C15ull) >> shift_); }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    size_t n = old.empty() ? 16 : old.size() * 2;
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(n));
    count_ = 0;
    for (const Slot& s : old)
      if (s.hash != 0) put(s.hash, s.value);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0, count_ = 0;
  unsigned shift_ = 64;
};

// Working memory's index, fact id → entry. Ids are mostly the engine's record counters, dense from 1, so
// those live in a plain array indexed by id (one access, in id order when facts arrive in order); ids far
// beyond the count (or not positive: events) go to a FlatTable. An id is in one of the two, never both:
// growing the array takes over the table's entries that fall in its new range.
template <typename T>
class FactIndex {
 public:
  FactIndex() = default;
  FactIndex(const FactIndex&) = delete;
  FactIndex& operator=(const FactIndex&) = delete;
  ~FactIndex() {
    if (dense_) ::munmap(dense_, cap_ * sizeof(T*));
  }

  T* find(int64_t id) const {
    if (id > 0 && static_cast<uint64_t>(id) <= cap_) return dense_[static_cast<size_t>(id - 1)];
    return sparse_.find(static_cast<uint64_t>(id), [](const T*) { return true; });
  }

  // Adds `id` (absent).
  void put(int64_t id, T* value) {
    ++count_;
    if (id > 0 && static_cast<uint64_t>(id) > cap_ && static_cast<uint64_t>(id) <= 2 * count_ + kSlack)
      grow(static_cast<size_t>(id));
    if (id > 0 && static_cast<uint64_t>(id) <= cap_)
      dense_[static_cast<size_t>(id - 1)] = value;
    else
      sparse_.put(static_cast<uint64_t>(id), value);
  }

  void erase(int64_t id, const T* value) {
    if (id > 0 && static_cast<uint64_t>(id) <= cap_) {
      if (dense_[static_cast<size_t>(id - 1)] == value) {
        dense_[static_cast<size_t>(id - 1)] = nullptr;
        --count_;
      }
      return;
    }
    size_t before = sparse_.size();
    sparse_.erase(static_cast<uint64_t>(id), value);
    count_ -= before - sparse_.size();
  }

  size_t size() const { return count_; }

  template <typename F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < cap_; ++i)
      if (T* v = dense_[i]) f(v);
    sparse_.for_each(f);
  }

 private:
  static constexpr uint64_t kSlack = 1024;  // ids up to twice the count plus this are dense enough
  static constexpr size_t kPage = 4096;

  // The array is anonymous memory grown with mremap: growing neither copies the entries nor touches the
  // new part, whose fresh pages the kernel hands out zeroed (null) on first use. (A vector doubling by
  // copy and fill touched about twice the final array: a fifth of a 20,000-fact load's page faults.)
  void grow(size_t id) {
    const size_t want = std::max(id, cap_ * 2) * sizeof(T*);
    const size_t bytes = (want + kPage - 1) / kPage * kPage;
    void* mem = dense_ ? ::mremap(dense_, cap_ * sizeof(T*), bytes, MREMAP_MAYMOVE)
                       : ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw std::bad_alloc();
    dense_ = static_cast<T**>(mem);
    cap_ = bytes / sizeof(T*);
    // Entries of the sparse table now inside the array move there.
    std::vector<std::pair<int64_t, T*>> moving;
    sparse_.for_each_entry([&](uint64_t h, T* v) {
      int64_t k = static_cast<int64_t>(h);
      if (k > 0 && static_cast<uint64_t>(k) <= cap_) moving.emplace_back(k, v);
    });
    for (auto& [k, v] : moving) {
      sparse_.erase(static_cast<uint64_t>(k), v);
      dense_[static_cast<size_t>(k - 1)] = v;
    }
  }

  T** dense_ = nullptr;
  size_t cap_ = 0;  // entries the array holds (a whole number of pages)
  FlatTable<T> sparse_;
  size_t count_ = 0;
};

[[gnu::always_inline]] inline uint64_t mix_key_words(uint64_t a, uint64_t b, size_t n) {
  uint64_t h = (a ^ (b * 0xC2B2AE3D27D4EB4Full) ^ n) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  return h | 1;
}

// A join key's hash (its encoded bytes, see encode()): keys are short (a tag and 8 bytes for one
// number or reference), so they are read as two words and mixed; longer ones go to std::hash. Never 0.
// Keys of equal bytes hash equal; the table compares the bytes on a hash match.
[[gnu::always_inline]] inline uint64_t key_hash(std::string_view k) {
  const char* p = k.data();
  const size_t n = k.size();
  uint64_t a, b;
  // Whole-word loads only (overlapping when n is not a multiple): byte-wise copies into a zeroed word
  // made every lookup wait on a store-to-load forward.
  if (n >= 8 && n <= 16) {
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t x, y;
    std::memcpy(&x, p, 4);
    std::memcpy(&y, p + n - 4, 4);
    a = x;
    b = y;
  } else if (n > 0 && n < 4) {
    a = static_cast<unsigned char>(p[0]) | static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
        static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16;
    b = 0;
  } else if (n == 0) {
    a = b = 0;
  } else {
    return std::hash<std::string_view>{}(k) | 1;
  }
  return mix_key_words(a, b, n);
}

// key_hash of the 9-byte key a tag and one 8-byte word encode to (one number or reference), from the
// word itself: building the bytes first and reading them back as words stalled on the store-to-load
// forward (the bytes are written piecewise). Equal to key_hash of those bytes (tested).
[[gnu::always_inline]] inline uint64_t word_key_hash(uint8_t tag, uint64_t w) {
  return mix_key_words(tag | (w << 8), w, 9);  // the bytes 0..7 and 1..8, little-endian
}

// Whether `k` is the 9-byte key of `tag` and `w`.
[[gnu::always_inline]] inline bool same_word_key(std::string_view k, uint8_t tag, uint64_t w) {
  if (k.size() != 9) return false;
  uint64_t a, b;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 1, 8);
  return ((a ^ (tag | (w << 8))) | (b ^ w)) == 0;
}

// Equal key bytes; short keys (most: up to 16 bytes) compared as two overlapping words, not through a
// call to memcmp.
[[gnu::always_inline]] inline bool same_key(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return std::memcmp(a.data(), b.data(), n) == 0;
}

}  // namespace orgos::rules
