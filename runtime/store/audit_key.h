// The secret that authenticates the audit chain. It lives in a file outside the store, so whoever can
// rewrite the store (a copy, a stolen backup, a shell on the database host) cannot recompute valid entries.
//
// Why a keyed BLAKE2b MAC (libsodium crypto_generichash with a 32-byte key) and not ed25519 signatures: the
// MAC is computed for every applied input, inside the engine's commit path, and costs about a microsecond;
// a signature costs tens. Whoever writes the chain also verifies it (the operator of the store), so a
// public-key split buys nothing here. The cost: verifying needs the secret; `audit verify` without it still
// checks the plain hash chain and says the entries are unauthenticated.
#pragma once
#include <array>
#include <string>

namespace orgos::store {

class AuditKey {
 public:
  static constexpr size_t kBytes = 32;
  explicit AuditKey(const std::array<unsigned char, kBytes>& bytes) : bytes_(bytes) {}
  // Reads a key file (64 hex digits). Throws StoreError naming the file and what is wrong with it.
  static AuditKey load(const std::string& path);
  // The key in `path`, made on first use: 32 random bytes, written as a file of mode 0600 (its folder
  // created, mode 0700). Two processes making it at once end with the same key (the file appears whole,
  // once). Throws StoreError when it can be neither read nor made.
  static AuditKey load_or_create(const std::string& path);
  // Keyed BLAKE2b-256 of `message`, hex encoded.
  std::string mac(const std::string& message) const;

 private:
  std::array<unsigned char, kBytes> bytes_;
};

// Where the key is when nobody says: $ORGOS_AUDIT_KEY, else $XDG_CONFIG_HOME/orgos/audit.key, else
// ~/.config/orgos/audit.key. Never next to the store: a copy of the store must not carry its key. Throws
// StoreError when none can be named (no HOME).
std::string default_audit_key_path();

}  // namespace orgos::store
