#include "compiler/driver/build.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "compiler/bundle/bundle_auth.h"
#include "compiler/ir/lower.h"
#include "orgos/version.h"

namespace orgos::driver {

namespace fs = std::filesystem;

std::string default_bundle_path(const std::string& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) return (fs::path(input) / ".orgos" / "bundle.orgb").string();
  return input + "b";  // spend.org → spend.orgb
}

std::optional<std::string> hash_files(const std::vector<std::string>& paths) {
  std::map<std::string, std::string> files;
  for (const std::string& p : paths) {
    auto bytes = bundle::read_file(p);
    if (!bytes) return std::nullopt;
    files[p] = std::string(bytes->begin(), bytes->end());
  }
  source::SourceManager sm;
  for (auto& [p, text] : files) sm.add(p, text);
  Compilation c;
  c.sources = std::move(sm);
  return bundle::content_hash(c);
}

namespace {

// Why a cached bundle cannot be used, or "" when it can.
std::string stale(const bundle::Bundle& b, const std::string& input) {
  if (b.compiler != ORGOS_VERSION) return "it was written by orgctl " + b.compiler;
  auto h = hash_files(b.files);
  if (!h) return "a source file it was built from is gone";
  if (*h != b.source_hash) return "the sources changed";
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    for (const std::string& f : org_files(input))
      if (std::find(b.files.begin(), b.files.end(), f) == b.files.end())
        return "a new source file appeared: " + f;
  }
  return "";
}

// The bundle file at `path` may be replaced: it is absent, or a regular file that is a bundle. Anything
// else (a notes file named by mistake in `run --bundle`, a folder) is not orgctl's to overwrite.
std::string may_replace(const std::string& path) {
  std::error_code ec;
  auto st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) return "";
  if (!fs::is_regular_file(st))
    return "`" + path + "` exists and is not a regular file; a bundle is written only over a bundle";
  std::vector<uint8_t> head(8);
  FILE* f = std::fopen(path.c_str(), "rb");
  size_t n = f ? std::fread(head.data(), 1, head.size(), f) : 0;
  if (f) std::fclose(f);
  head.resize(n);
  if (n == 0 || bundle::looks_like_bundle(head)) return "";  // an empty file: a placeholder, nothing lost
  return "`" + path + "` exists and is not an OrgOS bundle; it is left as it is: name another bundle file";
}

}  // namespace

std::variant<Built, BuildFailure> build_or_load(const BuildOptions& opts) {
  std::string input = opts.check.inputs.empty() ? "." : opts.check.inputs[0];
  Built out;
  out.bundle_path = opts.bundle_path.empty() ? default_bundle_path(input) : opts.bundle_path;
  // The key is read only when a bundle file is read or written (a forced build that writes nothing needs
  // none).
  std::optional<bundle::Key> key;
  auto get_key = [&]() -> std::string {
    if (key) return "";
    auto k = bundle::load_or_create_key(opts.key_path.empty() ? bundle::default_key_path() : opts.key_path);
    if (auto* e = std::get_if<std::string>(&k)) return *e;
    key = std::get<bundle::Key>(k);
    return "";
  };
  if (std::string bad = may_replace(out.bundle_path); !bad.empty() && (opts.write || !opts.force))
    return BuildFailure{nullptr, bad};
  if (!opts.force) {
    if (auto bytes = bundle::read_file(out.bundle_path)) {
      if (std::string e = get_key(); !e.empty()) return BuildFailure{nullptr, e};
      auto loaded = bundle::open_sealed(*bytes, *key);
      if (auto* err = std::get_if<bundle::LoadError>(&loaded);
          err && opts.untrusted == BuildOptions::Untrusted::Refuse)
        return BuildFailure{nullptr, "`" + out.bundle_path + "`: " + err->message};
      if (auto* b = std::get_if<bundle::Bundle>(&loaded)) {
        out.stale_reason = stale(*b, input);
        if (out.stale_reason.empty()) {
          out.bundle = std::move(*b);
          out.from_cache = true;
          return out;
        }
      } else {
        out.stale_reason = std::get<bundle::LoadError>(loaded).message;
      }
    }
  }
  auto c = check(opts.check);
  if (c->diags.has_errors()) return BuildFailure{std::move(c), ""};
  out.bundle.source_hash = bundle::content_hash(*c);
  out.bundle.host = bundle::host_triple();
  out.bundle.compiler = ORGOS_VERSION;
  for (size_t i = 0; i < c->sources.size(); ++i)
    out.bundle.files.push_back(c->sources.file(static_cast<source::FileId>(i)).path);
  ir::Lowered lowered = ir::lower(*c);
  out.bundle.module = std::move(lowered.module);
  out.bundle.program = std::move(lowered.program);
  if (opts.make_object) out.bundle.object = opts.make_object(out.bundle.module);
  if (opts.write) {
    std::error_code ec;
    fs::create_directories(fs::path(out.bundle_path).parent_path(), ec);
    std::string err;
    if (std::string e = get_key(); !e.empty()) return BuildFailure{nullptr, e};
    if (!bundle::write_file(out.bundle_path, bundle::seal(bundle::serialize(out.bundle), *key), err))
      return BuildFailure{nullptr, err};
  }
  out.compilation = std::move(c);
  return out;
}

}  // namespace orgos::driver
