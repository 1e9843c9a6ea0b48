// The run-time representation of values, shared by the reference interpreter, JIT-compiled code and
// the runtime. It is a plain C layout on purpose: generated code reads record fields as
// `record->slots[i].u.i` with no indirection, and the same structs cross into host code unchanged.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace orgos::ir {

// "No index": no function, no step, no layout.
inline constexpr uint32_t kNone = UINT32_MAX;

// Decimal numbers (and Money amounts) are 128-bit integers counting billionths: exact for every
// amount a business writes, ±1.7e29 in range, and overflow is detected, never wrapped.
using Dec = __int128;
inline constexpr int kDecScale = 9;
inline constexpr int64_t kDecOne = 1'000'000'000;

enum Tag : uint8_t {
  kTagNone = 0,  // an optional with no value (any type)
  kTagInt,
  kTagDec,
  kTagMoney,
  kTagBool,
  kTagString,
  kTagDate,
  kTagDuration,
  kTagEnum,
  kTagRecord,
  kTagList,
};

struct String;
struct List;
struct Record;

// 32 bytes: a 16-byte payload, a 32-bit auxiliary word and the tag.
struct alignas(16) Value {
  union {
    int64_t i;  // Int, Bool (0/1), Date (days since 1970-01-01), Duration (seconds), Enum (ordinal)
    Dec d;      // Decimal, Money (amount in billionths)
    const String* s;
    const List* l;
    Record* r;
  } u;
  uint32_t aux;  // Money: currency code (see currency_code); Enum: the enum's id
  uint8_t tag;
  uint8_t pad[11];

  static Value none() {
    Value v;
    std::memset(&v, 0, sizeof v);
    return v;
  }
  static Value of_int(int64_t x) {
    Value v = none();
    v.u.i = x;
    v.tag = kTagInt;
    return v;
  }
  static Value of_bool(bool b) {
    Value v = of_int(b ? 1 : 0);
    v.tag = kTagBool;
    return v;
  }
  static Value of_dec(Dec x) {
    Value v = none();
    v.u.d = x;
    v.tag = kTagDec;
    return v;
  }
  static Value of_money(Dec x, uint32_t currency) {
    Value v = of_dec(x);
    v.tag = kTagMoney;
    v.aux = currency;
    return v;
  }
  static Value of_date(int64_t days) {
    Value v = of_int(days);
    v.tag = kTagDate;
    return v;
  }
  static Value of_duration(int64_t seconds) {
    Value v = of_int(seconds);
    v.tag = kTagDuration;
    return v;
  }
  static Value of_enum(int64_t ordinal, uint32_t enum_id) {
    Value v = of_int(ordinal);
    v.tag = kTagEnum;
    v.aux = enum_id;
    return v;
  }
  static Value of_string(const String* s) {
    Value v = none();
    v.u.s = s;
    v.tag = kTagString;
    return v;
  }
  static Value of_list(const List* l) {
    Value v = none();
    v.u.l = l;
    v.tag = kTagList;
    return v;
  }
  static Value of_record(Record* r) {
    Value v = none();
    v.u.r = r;
    v.tag = kTagRecord;
    return v;
  }
  bool is_none() const { return tag == kTagNone; }
};
static_assert(sizeof(Value) == 32, "Value is part of the JIT ABI");

struct String {
  uint32_t len;
  char data[1];  // len bytes follow (not NUL-terminated)
  std::string_view view() const { return {data, len}; }
};

struct List {
  uint32_t len;
  uint32_t pad;
  Value items[1];  // len values follow
};

// A record instance: fixed slots in the order of the record's fields (see RecordLayout).
struct Record {
  uint32_t type_id;
  uint32_t nslots;
  int64_t id;  // identity for `actor == resource.submitter` and working-memory facts
  Value slots[1];
};

// ISO 4217 codes packed into 15 bits (three letters, base 26), so Money compares currencies with one
// integer comparison. 0 means "no currency".
inline uint32_t currency_code(std::string_view c) {
  if (c.size() != 3) return 0;
  uint32_t v = 0;
  for (char ch : c) {
    if (ch < 'A' || ch > 'Z') return 0;
    v = v * 26 + static_cast<uint32_t>(ch - 'A');
  }
  return v + 1;
}
inline std::string currency_name(uint32_t code) {
  if (code == 0) return "";
  code -= 1;
  std::string s(3, 'A');
  for (int i = 2; i >= 0; --i) {
    s[static_cast<size_t>(i)] = static_cast<char>('A' + code % 26);
    code /= 26;
  }
  return s;
}

}  // namespace orgos::ir
