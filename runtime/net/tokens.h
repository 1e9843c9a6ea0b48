// API tokens: each names the actor whose commands it carries. Only a hash of a token is stored (table
// `token` in the store), so a copy of the store does not give away working tokens.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/store/store.h"

namespace orgos::net {

struct TokenInfo {
  int64_t id = 0;
  std::string actor;
  int64_t created = 0;  // seconds since 1970 (wall clock)
  bool revoked = false;
};

class Tokens {
 public:
  explicit Tokens(store::Store& s) : s_(s) {}
  // A new token for `actor`: the clear text is returned once and never stored.
  std::string add(const std::string& actor, int64_t& id);
  // false when there is no token with this id.
  bool revoke(int64_t id);
  std::vector<TokenInfo> list();
  // The actor of a valid token; nullopt for an unknown or revoked one (`why` says which).
  std::optional<std::string> actor_of(const std::string& token, std::string& why);

 private:
  store::Store& s_;
};

// The stored form of a token: BLAKE2b-256, hex. Tokens are 256 random bits, so a fast hash is enough (no
// dictionary to guess from) and lets every request be checked with one indexed look-up instead of the
// deliberately slow crypto_pwhash per request.
std::string token_hash(const std::string& token);

}  // namespace orgos::net
