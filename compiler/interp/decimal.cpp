// Exact decimal arithmetic on 128-bit billionths. Products and quotients that do not fit in 128 bits
// mid-way are computed with 256-bit intermediates, so the result is exact whenever it fits at all.
#include <cstdio>

#include "compiler/interp/evaluator.h"

namespace orgos::interp::dec {

using ir::Dec;
using U128 = unsigned __int128;

namespace {

constexpr Dec kMax = static_cast<Dec>(~U128(0) >> 1);
constexpr Dec kMin = -kMax - 1;

U128 uabs(Dec a) {
  return a < 0 ? U128(0) - static_cast<U128>(a) : static_cast<U128>(a);
}

// 256-bit unsigned as four 64-bit limbs, little end first.
struct U256 {
  uint64_t w[4] = {0, 0, 0, 0};
};

U256 mul_128(U128 a, U128 b) {
  uint64_t a0 = static_cast<uint64_t>(a), a1 = static_cast<uint64_t>(a >> 64);
  uint64_t b0 = static_cast<uint64_t>(b), b1 = static_cast<uint64_t>(b >> 64);
  U256 r;
  U128 p00 = U128(a0) * b0, p01 = U128(a0) * b1, p10 = U128(a1) * b0, p11 = U128(a1) * b1;
  r.w[0] = static_cast<uint64_t>(p00);
  U128 mid = (p00 >> 64) + static_cast<uint64_t>(p01) + static_cast<uint64_t>(p10);
  r.w[1] = static_cast<uint64_t>(mid);
  U128 hi = (mid >> 64) + (p01 >> 64) + (p10 >> 64) + static_cast<uint64_t>(p11);
  r.w[2] = static_cast<uint64_t>(hi);
  r.w[3] = static_cast<uint64_t>((hi >> 64) + (p11 >> 64));
  return r;
}

// Divides by a 64-bit divisor; returns the remainder.
uint64_t div_small(U256& x, uint64_t d) {
  U128 rem = 0;
  for (int i = 3; i >= 0; --i) {
    U128 cur = (rem << 64) | x.w[i];
    x.w[i] = static_cast<uint64_t>(cur / d);
    rem = cur % d;
  }
  return static_cast<uint64_t>(rem);
}

bool fits_u127(const U256& x) {
  return x.w[3] == 0 && x.w[2] == 0 ? true : false;
}

bool shift_left_1(U256& x) {
  uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) {
    uint64_t next = x.w[i] >> 63;
    x.w[i] = (x.w[i] << 1) | carry;
    carry = next;
  }
  return carry != 0;
}

bool ge(const U256& a, const U256& b) {
  for (int i = 3; i >= 0; --i)
    if (a.w[i] != b.w[i]) return a.w[i] > b.w[i];
  return true;
}

void sub_in_place(U256& a, const U256& b) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    U128 d = U128(a.w[i]) - b.w[i] - borrow;
    a.w[i] = static_cast<uint64_t>(d);
    borrow = (d >> 64) ? 1 : 0;
  }
}

// Signed result from a magnitude and a sign, if it fits.
bool to_signed(U128 mag, bool negative, Dec& out) {
  if (!negative) {
    if (mag > static_cast<U128>(kMax)) return false;
    out = static_cast<Dec>(mag);
    return true;
  }
  if (mag > static_cast<U128>(kMax) + 1) return false;
  out = mag == static_cast<U128>(kMax) + 1 ? kMin : -static_cast<Dec>(mag);
  return true;
}

}  // namespace

bool add(Dec a, Dec b, Dec& out) {
  return !__builtin_add_overflow(a, b, &out);
}
bool sub(Dec a, Dec b, Dec& out) {
  return !__builtin_sub_overflow(a, b, &out);
}

bool from_int(int64_t i, Dec& out) {
  out = static_cast<Dec>(i) * ir::kDecOne;  // |i| * 1e9 < 2^93: always fits
  return true;
}

bool mul(Dec a, Dec b, Dec& out) {
  bool negative = (a < 0) != (b < 0);
  U256 p = mul_128(uabs(a), uabs(b));
  uint64_t rem = div_small(p, static_cast<uint64_t>(ir::kDecOne));
  if (!fits_u127(p)) return false;
  U128 q = (U128(p.w[1]) << 64) | p.w[0];
  if (rem * 2 >= static_cast<uint64_t>(ir::kDecOne)) ++q;  // half away from zero
  return to_signed(q, negative, out);
}

int div(Dec a, Dec b, Dec& out) {
  if (b == 0) return 2;
  bool negative = (a < 0) != (b < 0);
  // numerator = |a| * 1e9 (up to 2^158), divided by |b| with 256-bit long division.
  U256 num = mul_128(uabs(a), static_cast<U128>(ir::kDecOne));
  U128 den = uabs(b);
  U256 q, r, d;
  d.w[0] = static_cast<uint64_t>(den);
  d.w[1] = static_cast<uint64_t>(den >> 64);
  for (int bit = 255; bit >= 0; --bit) {
    shift_left_1(r);
    r.w[0] |= (num.w[bit / 64] >> (bit % 64)) & 1;
    if (ge(r, d)) {
      sub_in_place(r, d);
      q.w[bit / 64] |= uint64_t(1) << (bit % 64);
    }
  }
  if (!fits_u127(q)) return 1;
  U128 qq = (U128(q.w[1]) << 64) | q.w[0];
  // Round half away from zero: compare 2*remainder with the divisor.
  U256 twice = r;
  bool carry = shift_left_1(twice);
  if (carry || ge(twice, d)) ++qq;
  return to_signed(qq, negative, out) ? 0 : 1;
}

bool round(Dec a, int places, Dec& out) {
  if (places >= ir::kDecScale) {
    out = a;
    return true;
  }
  if (places < 0) places = 0;
  Dec unit = 1;
  for (int i = places; i < ir::kDecScale; ++i) unit *= 10;
  Dec q = a / unit, r = a % unit;
  if (r < 0) r = -r;
  if (r * 2 >= unit) q += a < 0 ? -1 : 1;
  return !__builtin_mul_overflow(q, unit, &out);
}

std::string to_string(Dec d) {
  bool negative = d < 0;
  U128 mag = uabs(d);
  U128 whole = mag / static_cast<U128>(ir::kDecOne);
  uint64_t frac = static_cast<uint64_t>(mag % static_cast<U128>(ir::kDecOne));
  std::string w;
  do {
    w.insert(w.begin(), static_cast<char>('0' + static_cast<int>(whole % 10)));
    whole /= 10;
  } while (whole > 0);
  std::string out = (negative ? "-" : "") + w;
  if (frac) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%09llu", static_cast<unsigned long long>(frac));
    std::string f(buf);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

std::optional<Dec> parse(std::string_view s) {
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  Dec whole = 0, frac = 0;
  int places = 0;
  bool dot = false, any = false;
  for (char c : s) {
    if (c == '.') {
      if (dot) return std::nullopt;
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    any = true;
    if (dot) {
      if (++places > ir::kDecScale) return std::nullopt;
      frac = frac * 10 + (c - '0');
    } else if (__builtin_mul_overflow(whole, Dec(10), &whole) ||
               __builtin_add_overflow(whole, Dec(c - '0'), &whole)) {
      return std::nullopt;
    }
  }
  if (!any) return std::nullopt;
  for (int i = places; i < ir::kDecScale; ++i) frac *= 10;
  Dec out;
  if (__builtin_mul_overflow(whole, Dec(ir::kDecOne), &out) || __builtin_add_overflow(out, frac, &out))
    return std::nullopt;
  return negative ? -out : out;
}

}  // namespace orgos::interp::dec
