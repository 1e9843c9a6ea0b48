// The three ways a bundle's sections are walked: written (Writer), read (Reader) and checked (Validator).
// Each serialized struct describes its fields once (layout.h: `fields(v, x)`), and each visitor gives the
// field kinds their meaning, so a field added to one place is written, read and checked alike.
//
// Encoding: integers are little-endian varints; an index (`index`) stores kNone as 0 and any other value
// as value + 1, so the common "none" takes one byte; a list is its count, then its items; a pointer that
// may be null is one presence byte, then the pointee. Every read is bounds-checked and trees are
// depth-limited, so a damaged file is refused with the field it broke at, never a crash or a half-built
// module.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/ir.h"
#include "compiler/ir/program.h"

namespace orgos::bundle::codec {

// Why the bytes cannot be used: what is wrong, and where.
struct Corrupt {
  std::string what;
};

// What a number points at. The Validator checks it against what exists (the module, or the enclosing
// process, lifecycle or step); the Writer and the Reader only move the number.
enum class Ref : uint8_t {
  None,      // a plain number or a slot
  Function,  // a function of the module, or kNone
  Layout,    // a record layout of the module, or kNone
  Step,      // a step of the enclosing process, or kNone
  Effects,   // an effects block of the enclosing lifecycle, or kNone
  Callee,    // a function of the module (kNone refused)
  Table,     // a decision table of the module (kNone refused)
  Target,    // an entry of the enclosing step's `next` (kNone refused)
};
inline constexpr int kRefs = 8;

// Trees deeper than this are refused when read (the walks below recurse).
inline constexpr int kMaxDepth = 2048;
enum class Nesting : uint8_t { Type, Node };

// The guard of a scope or nesting a visitor ignores. (Its destructor makes it a guard to the compiler
// too, which then does not call the local holding it unused.)
struct Nothing {
  ~Nothing() {}
};

class Writer {
 public:
  static constexpr bool kReads = false;

  // The bytes written; the Writer is empty afterwards.
  std::vector<uint8_t> take() {
    buf_.resize(len_);
    len_ = 0;
    return std::move(buf_);
  }

  // Bytes go into a buffer grown ahead of them, so writing one is a store, not a call.
  void byte(uint8_t b) {
    room(1);
    buf_[len_++] = b;
  }
  void var(uint64_t v) {
    room(10);
    while (v >= 0x80) {
      buf_[len_++] = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    buf_[len_++] = static_cast<uint8_t>(v);
  }
  void raw(const void* p, size_t n) {
    if (n == 0) return;
    room(n);
    std::memcpy(buf_.data() + len_, p, n);
    len_ += n;
  }

  Nothing in(const char*) { return {}; }
  Nothing scope(Ref, size_t) { return {}; }
  Nothing nest(Nesting) { return {}; }
  void flag(const char*, const bool& x) { byte(x ? 1 : 0); }
  void u32(const char*, const uint32_t& x, Ref = Ref::None) { var(x); }
  void index(const char*, const uint32_t& x, Ref) { var(x == ir::kNone ? 0 : uint64_t{x} + 1); }
  void i64(const char*, const int64_t& x) { var(static_cast<uint64_t>(x)); }
  void str(const char*, const std::string& s) {
    var(s.size());
    raw(s.data(), s.size());
  }
  template <typename E>
  void choice(const char*, const E& e, E, E = E{}) {
    byte(static_cast<uint8_t>(e));
  }
  void file(const char*, const source::FileId& f) { var(f == source::kNoFile ? 0 : uint64_t{f} + 1); }
  uint64_t count(const char*, size_t n) {
    var(n);
    return n;
  }
  bool present(const char*, bool has) {
    byte(has ? 1 : 0);
    return has;
  }
  // A constant: tag, aux, the 128-bit payload as two varints (0 for strings), then a string's text.
  void constant(const char*, const ir::Node& n) {
    byte(n.value.tag);
    var(n.value.aux);
    bool text = n.value.tag == ir::kTagString;
    auto bits = static_cast<unsigned __int128>(n.value.u.d);
    var(text ? 0 : static_cast<uint64_t>(bits));
    var(text ? 0 : static_cast<uint64_t>(bits >> 64));
    std::string_view t = text ? n.value.u.s->view() : std::string_view();
    var(t.size());
    raw(t.data(), t.size());
  }
  void check(bool, const char*) {}

 private:
  void room(size_t n) {
    if (buf_.size() - len_ < n) buf_.resize(std::max(buf_.size() * 2, len_ + n + 4096));
  }
  std::vector<uint8_t> buf_;
  size_t len_ = 0;
};

class Reader {
 public:
  static constexpr bool kReads = true;
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}

  // Constant strings read from here on are interned in `m` (the module being read).
  void strings_into(ir::Module* m) { strings_ = m; }
  size_t pos() const { return pos_; }
  bool done() const { return pos_ == n_; }

  // Names the struct being read in messages until the guard goes.
  class At {
   public:
    At(const char*& slot, const char* what) : slot_(slot), was_(slot) { slot = what; }
    ~At() { slot_ = was_; }
    At(const At&) = delete;
    At& operator=(const At&) = delete;

   private:
    const char*& slot_;
    const char* was_;
  };
  At in(const char* what) { return At(where_, what); }
  Nothing scope(Ref, size_t) { return {}; }

  class Nest {
   public:
    Nest(Reader& r, Nesting k) : depth_(r.depth_[static_cast<int>(k)]) {
      if (++depth_ > kMaxDepth + 1)  // the outermost is level 0 of kMaxDepth
        r.fail(k == Nesting::Type ? "types are nested too deeply" : "expressions are nested too deeply");
    }
    ~Nest() { --depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    int& depth_;
  };
  Nest nest(Nesting k) { return Nest(*this, k); }

  uint64_t var() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = byte();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("an integer is longer than 10 bytes");
  }
  void raw(void* dst, size_t len) {
    need(len);
    if (len == 0) return;  // dst may be an empty vector's null data()
    std::memcpy(dst, p_ + pos_, len);
    pos_ += len;
  }
  std::string text() {
    uint64_t len = var();
    need(len);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return s;
  }
  // A number of the envelope (bundle.cpp), named in messages.
  uint64_t number(const char* name) {
    field_ = name;
    return var();
  }
  // A count of items that each take at least one byte (or of bytes): cannot exceed what is left.
  uint64_t count() {
    uint64_t c = var();
    if (c > n_ - pos_) fail("a count is larger than the data that follows");
    return c;
  }

  void flag(const char* name, bool& x) {
    field_ = name;
    x = byte() != 0;
  }
  void u32(const char* name, uint32_t& x, Ref = Ref::None) {
    field_ = name;
    x = u32();
  }
  void index(const char* name, uint32_t& x, Ref) {
    field_ = name;
    uint64_t v = var();
    if (v > ir::kNone) fail("an index is out of range");
    x = v == 0 ? ir::kNone : static_cast<uint32_t>(v - 1);
  }
  void i64(const char* name, int64_t& x) {
    field_ = name;
    x = static_cast<int64_t>(var());
  }
  void str(const char* name, std::string& s) {
    field_ = name;
    s = text();
  }
  // An enum stored as its byte: values from `first` (most enums start at 0) to `last` are its enumerators.
  template <typename E>
  void choice(const char* name, E& e, E last, E first = E{}) {
    field_ = name;
    uint8_t b = byte();
    if (b < static_cast<uint8_t>(first) || b > static_cast<uint8_t>(last))
      fail("an unknown value " + std::to_string(b));
    e = static_cast<E>(b);
  }
  void file(const char* name, source::FileId& f) {
    field_ = name;
    uint64_t v = var();
    f = v == 0 ? source::kNoFile : static_cast<source::FileId>(v - 1);
  }
  uint64_t count(const char* name, size_t) {
    field_ = name;
    return count();
  }
  bool present(const char* name, bool) {
    field_ = name;
    return byte() != 0;
  }
  void constant(const char* name, ir::Node& n) {
    field_ = name;
    n.value = ir::Value::none();
    uint8_t tag = byte();
    if (tag > ir::kTagList) fail("a constant has an unknown tag " + std::to_string(tag));
    n.value.tag = tag;
    n.value.aux = u32();
    uint64_t lo = var(), hi = var();
    n.value.u.d = static_cast<ir::Dec>((static_cast<unsigned __int128>(hi) << 64) | lo);
    n.text = text();
    if (tag == ir::kTagString) {
      if (!strings_) fail("a string constant outside the IR section");
      n.value.u.s = strings_->intern(n.text);
    } else if (tag == ir::kTagList || tag == ir::kTagRecord) {
      fail("a constant cannot be a list or a record");
    }
  }
  void check(bool ok, const char* what) {
    if (!ok) fail(what);
  }

  [[noreturn]] void fail(const std::string& what) const {
    std::string at;
    if (field_)
      at = std::string(" (reading `") + field_ + "`" + (where_ ? std::string(" of ") + where_ : "") + ")";
    throw Corrupt{what + at};
  }

 private:
  uint8_t byte() {
    need(1);
    return p_[pos_++];
  }
  uint32_t u32() {
    uint64_t v = var();
    if (v > UINT32_MAX) fail("a 32-bit value is out of range");
    return static_cast<uint32_t>(v);
  }
  void need(uint64_t k) const {
    if (k > n_ - pos_) fail("the data ends early");
  }

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  ir::Module* strings_ = nullptr;
  const char* where_ = nullptr;  // the struct being read, e.g. "a step"
  const char* field_ = nullptr;  // its field being read
  int depth_[2] = {0, 0};
};

// Walks what was read and refuses any number that points at nothing: the runtime indexes with them.
class Validator {
 public:
  static constexpr bool kReads = false;
  explicit Validator(const ir::Module& m) {
    size_[static_cast<int>(Ref::Function)] = m.functions.size();
    size_[static_cast<int>(Ref::Callee)] = m.functions.size();
    size_[static_cast<int>(Ref::Table)] = m.tables.size();
    size_[static_cast<int>(Ref::Layout)] = m.layouts.size();
  }

  // The struct being checked, and the enclosing scope a Step/Effects/Target number points into, each
  // restored when its guard goes.
  template <typename T>
  class Restore {
   public:
    Restore(T& slot, T value) : slot_(slot), was_(slot) { slot = value; }
    ~Restore() { slot_ = was_; }
    Restore(const Restore&) = delete;
    Restore& operator=(const Restore&) = delete;

   private:
    T& slot_;
    T was_;
  };
  Restore<const char*> in(const char* what) { return Restore<const char*>(where_, what); }
  Restore<size_t> scope(Ref r, size_t n) { return Restore<size_t>(size_[static_cast<int>(r)], n); }
  Nothing nest(Nesting) { return {}; }

  void flag(const char*, const bool&) {}
  void u32(const char* name, const uint32_t& x, Ref r = Ref::None) { points(name, x, r); }
  void index(const char* name, const uint32_t& x, Ref r) { points(name, x, r); }
  void i64(const char*, const int64_t&) {}
  void str(const char*, const std::string&) {}
  template <typename E>
  void choice(const char*, const E&, E, E = E{}) {}
  void file(const char*, const source::FileId&) {}
  uint64_t count(const char*, size_t n) { return n; }
  bool present(const char*, bool has) { return has; }
  void constant(const char*, const ir::Node&) {}
  void check(bool ok, const char* what) {
    if (!ok) throw Corrupt{std::string(what) + (where_ ? std::string(" (in ") + where_ + ")" : "")};
  }

 private:
  void points(const char* name, uint32_t x, Ref r) {
    if (r == Ref::None) return;
    bool may_be_none = r == Ref::Function || r == Ref::Layout || r == Ref::Step || r == Ref::Effects;
    size_t n = size_[static_cast<int>(r)];
    if (x == ir::kNone ? may_be_none : x < n) return;
    static const char* const kNoun[kRefs] = {"",         "function", "record layout", "step", "effects block",
                                             "function", "table",    "next step"};
    std::string what = x == ir::kNone ? std::string("no ") + kNoun[static_cast<int>(r)]
                                      : std::string(kNoun[static_cast<int>(r)]) + " " + std::to_string(x) +
                                            ", but there are " + std::to_string(n);
    throw Corrupt{std::string("`") + name + "`" + (where_ ? std::string(" of ") + where_ : "") + " names " +
                  what};
  }

  size_t size_[kRefs] = {};
  const char* where_ = nullptr;
};

// ---- shapes every visitor walks the same way

// A list: its count, then each item (read items are appended one by one, so a lying count costs no
// more memory than the bytes that follow it).
template <typename V, typename T, typename F>
void list(V& v, const char* name, std::vector<T>& xs, F&& each) {
  uint64_t n = v.count(name, xs.size());
  if constexpr (V::kReads) {
    for (uint64_t i = 0; i < n; ++i) each(xs.emplace_back());
  } else {
    for (auto& x : xs) each(x);
  }
}

// Two lists stored as one list of pairs, as long as the first (a missing second is written as T{}).
template <typename V, typename A, typename B, typename F>
void zip(V& v, const char* name, std::vector<A>& as, std::vector<B>& bs, F&& each) {
  uint64_t n = v.count(name, as.size());
  for (uint64_t i = 0; i < n; ++i) {
    if constexpr (V::kReads) {
      as.emplace_back();
      bs.emplace_back();
    }
    B spare{};
    each(as[i], i < bs.size() ? bs[i] : spare);
  }
}

}  // namespace orgos::bundle::codec
