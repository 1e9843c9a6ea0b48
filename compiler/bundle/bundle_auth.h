// Bundle files carry native code that orgctl maps and runs, and the content checksum inside a bundle
// proves nothing against an editor who recomputes it. So a bundle file is trusted only when it was
// sealed on this machine: a keyed BLAKE2b MAC under a local key kept outside every project (created on
// first use, mode 0600). A file that does not authenticate is never loaded: orgctl's cache rebuilds it,
// an explicitly named bundle is refused. Bundles kept inside a store (store::Store::put_bundle) are not
// sealed, and their object code is never run: the engine makes an older version's native code from its
// IR (workflow::Engine, Impl::version).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "compiler/bundle/bundle.h"

namespace orgos::bundle {

struct Key {
  std::array<unsigned char, 32> bytes{};
};

// The key file: $ORGOS_BUNDLE_KEY if set, else $XDG_CONFIG_HOME/orgos/bundle.key, else
// ~/.config/orgos/bundle.key.
std::string default_key_path();

// Reads the key at `path`, creating it (32 random bytes; the file 0600, a new folder 0700) when there is
// none. Refuses a key file that is not a regular file, has the wrong size, or that other users may read
// or write (they could forge bundles): the message says what to do.
std::variant<Key, std::string> load_or_create_key(const std::string& path);

// A sealed bundle file: kSealMagic, the MAC (32 bytes), then the bundle's bytes (serialize()).
inline constexpr char kSealMagic[8] = {'O', 'R', 'G', 'B', 'S', 'E', 'A', 'L'};
std::vector<uint8_t> seal(const std::vector<uint8_t>& bundle_bytes, const Key& key);
// The bundle inside a sealed file, or why it is not trusted (not sealed, sealed with another key, or
// edited since) or cannot be read.
std::variant<Bundle, LoadError> open_sealed(const std::vector<uint8_t>& file, const Key& key);
// Whether bytes begin as a bundle file does (sealed, or an unsealed bundle of an older orgctl): such a
// file may be replaced by a fresh bundle; any other file is not orgctl's to overwrite.
bool looks_like_bundle(const std::vector<uint8_t>& head);

}  // namespace orgos::bundle
