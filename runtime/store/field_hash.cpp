#include "runtime/store/field_hash.h"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <stdexcept>

namespace orgos::store {

std::string to_hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[128];
  std::string out;
  for (size_t at = 0; at < n;) {  // in chunks through a buffer on the stack, so the string grows once or so
    size_t k = std::min(n - at, sizeof buf / 2);
    for (size_t i = 0; i < k; ++i) {
      buf[2 * i] = kDigits[p[at + i] >> 4];
      buf[2 * i + 1] = kDigits[p[at + i] & 0xf];
    }
    out.append(buf, 2 * k);
    at += k;
  }
  return out;
}

void init_hashing() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  });
}

FieldHash::FieldHash() : FieldHash(nullptr, 0) {}

FieldHash::FieldHash(const unsigned char* key, size_t key_len) {
  init_hashing();
  crypto_generichash_init(&st_, key, key_len, 32);
}

FieldHash& FieldHash::raw(std::string_view s) {
  crypto_generichash_update(&st_, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  return *this;
}

FieldHash& FieldHash::add(std::string_view s) {
  char len[24];
  auto [end, ec] = std::to_chars(len, len + sizeof len - 1, s.size());
  *end++ = ':';
  raw(std::string_view(len, static_cast<size_t>(end - len)));
  return raw(s);
}

FieldHash& FieldHash::add(int64_t v) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof text, v);
  return add(std::string_view(text, static_cast<size_t>(end - text)));
}

std::string FieldHash::hex() {
  unsigned char out[32];
  crypto_generichash_final(&st_, out, sizeof out);
  return to_hex(out, sizeof out);
}

}  // namespace orgos::store
