// Compile-or-load: the path from a project to runnable code. When the project's bundle exists and the
// hash of its sources still matches, the bundle is loaded and nothing is parsed or compiled again;
// otherwise the project is checked, lowered and written back as a fresh bundle.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "compiler/bundle/bundle.h"
#include "compiler/driver/compilation.h"

namespace orgos::driver {

struct BuildOptions {
  CheckOptions check;       // inputs: one project folder or file
  std::string bundle_path;  // empty: <project>/.orgos/bundle.orgb (or <file>.orgb next to a single file)
  bool force = false;       // rebuild even when the bundle is current
  bool write = true;        // write the bundle after a rebuild
  // Bundle files are sealed with the local key (see bundle_auth.h); empty: bundle::default_key_path().
  std::string key_path;
  // What to do with a bundle file that does not authenticate: rebuild it (a cache), or refuse (a bundle
  // the user named to be run). Either way it is never loaded.
  enum class Untrusted { Rebuild, Refuse };
  Untrusted untrusted = Untrusted::Rebuild;
  // Makes the host object code a rebuilt bundle carries (compiler/codegen's emit_object; the front-end
  // library does not link LLVM, so the caller supplies it). Unset or empty result: no object code, and
  // the engine generates code when it loads the bundle.
  std::function<std::vector<uint8_t>(const ir::Module&)> make_object;
};

struct Built {
  bundle::Bundle bundle;
  std::unique_ptr<Compilation> compilation;  // set only after a rebuild (null when loaded from cache)
  bool from_cache = false;
  std::string bundle_path;
  std::string stale_reason;  // why the cached bundle was not used ("" when there was none)
};

struct BuildFailure {
  std::unique_ptr<Compilation> compilation;  // holds the diagnostics when the sources have errors
  std::string message;                       // otherwise: what went wrong (I/O)
};

std::string default_bundle_path(const std::string& input);
std::variant<Built, BuildFailure> build_or_load(const BuildOptions& opts);

// Hash of files on disk, computed like bundle::content_hash over a compilation; nullopt if one is gone.
std::optional<std::string> hash_files(const std::vector<std::string>& paths);

}  // namespace orgos::driver
