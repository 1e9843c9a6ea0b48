// BLAKE2b-256 over a list of length-prefixed fields ("<decimal length>:<bytes>" each, so no two different
// field lists give the same bytes), hex encoded: the hash every audit entry, input digest and token digest
// is made of, and (keyed) the audit MAC.
//
// Why a streaming state rather than one buffer: the fields are fed to BLAKE2b as they come, so an input's
// payload is hashed in place instead of being copied into a buffer first, and nothing is allocated. The bytes
// hashed are exactly those of the buffer it replaced, so stores written before verify unchanged.
#pragma once
#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace orgos::store {

// Hex of `n` bytes, lower case. Not constant time (what it encodes is not secret: hashes and MACs that are
// stored in the clear), and several times cheaper than sodium_bin2hex, which is.
std::string to_hex(const unsigned char* p, size_t n);

// libsodium picks its fastest BLAKE2b for this CPU in sodium_init(); without it the portable code runs.
// Called once per process before the first hash (cheap after the first call).
void init_hashing();

class FieldHash {
 public:
  FieldHash();                                          // unkeyed
  FieldHash(const unsigned char* key, size_t key_len);  // keyed (a MAC)
  FieldHash& add(std::string_view s);                   // one length-prefixed field
  FieldHash& add(int64_t v);                            // its decimal text, as one field
  FieldHash& raw(std::string_view s);                   // bytes with no prefix
  std::string hex();                                    // the 32-byte result, hex encoded; ends the hash

 private:
  crypto_generichash_state st_;
};

}  // namespace orgos::store
