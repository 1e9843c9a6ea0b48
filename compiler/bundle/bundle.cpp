// Bundle encoding: a fixed header, the IR section, the program section, the object code, then a
// BLAKE2b-256 checksum of all of it. The sections' bytes are laid out in layout.h (one definition per
// struct, written, read and checked by the visitors of codec.h); this file writes the envelope around them.
#include "compiler/bundle/bundle.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <variant>

#include "compiler/bundle/codec.h"
#include "compiler/bundle/layout.h"
#include "compiler/driver/compilation.h"
#include "orgos/version.h"

namespace orgos::bundle {

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

}  // namespace

std::string host_triple() {
#if defined(__x86_64__)
  std::string arch = "x86_64";
#elif defined(__aarch64__)
  std::string arch = "aarch64";
#else
  std::string arch = "unknown";
#endif
#if defined(__linux__)
  return arch + "-pc-linux-gnu";
#else
  return arch + "-unknown-unknown";
#endif
}

// BLAKE2b (crypto_generichash) needs no sodium_init(): it uses no randomness and no CPU dispatch state.
std::string content_hash(const driver::Compilation& c) {
  std::map<std::string, const std::string*> files;  // path order: independent of load order
  for (size_t i = 0; i < c.sources.size(); ++i)
    files[c.sources.file(static_cast<source::FileId>(i)).path] =
        &c.sources.file(static_cast<source::FileId>(i)).text;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  for (auto& [path, text] : files) {
    uint64_t sizes[2] = {path.size(), text->size()};
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(sizes), sizeof sizes);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(path.data()), path.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(text->data()), text->size());
  }
  unsigned char out[32];
  crypto_generichash_final(&st, out, sizeof out);
  return hex(out, sizeof out);
}

std::vector<uint8_t> serialize(const Bundle& b) {
  codec::Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.var(kFormatVersion);
  // The walks take their structs by non-const reference, for the Reader; the Writer only reads them, so
  // the const_casts below change nothing.
  std::string compiler = b.compiler.empty() ? std::string(ORGOS_VERSION) : b.compiler;
  codec::header(w, const_cast<std::string&>(b.source_hash), const_cast<std::string&>(b.host), compiler,
                const_cast<std::vector<std::string>&>(b.files));
  // Each section is preceded by its length.
  codec::Writer mod;
  codec::fields(mod, const_cast<ir::Module&>(b.module));
  auto mod_bytes = mod.take();
  w.var(mod_bytes.size());
  w.raw(mod_bytes.data(), mod_bytes.size());
  codec::Writer prog;
  codec::fields(prog, const_cast<ir::Program&>(b.program));
  auto prog_bytes = prog.take();
  w.var(prog_bytes.size());
  w.raw(prog_bytes.data(), prog_bytes.size());
  w.var(b.object.size());
  w.raw(b.object.data(), b.object.size());
  auto out = w.take();
  unsigned char sum[32];
  crypto_generichash(sum, sizeof sum, out.data(), out.size(), nullptr, 0);
  out.insert(out.end(), sum, sum + sizeof sum);
  return out;
}

std::variant<Bundle, LoadError> deserialize(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < sizeof kMagic + 32 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return LoadError{"this is not an OrgOS bundle (wrong magic number); rebuild it with `orgctl compile`"};
  unsigned char sum[32];
  crypto_generichash(sum, sizeof sum, bytes.data(), bytes.size() - 32, nullptr, 0);
  if (sodium_memcmp(sum, bytes.data() + bytes.size() - 32, 32) != 0)
    return LoadError{"the bundle is damaged (its checksum does not match); rebuild it with `orgctl compile`"};
  try {
    codec::Reader r(bytes.data() + sizeof kMagic, bytes.size() - sizeof kMagic - 32);
    auto at = r.in("the bundle");
    uint64_t version = r.number("version");
    if (version != kFormatVersion)
      return LoadError{"the bundle has format version " + std::to_string(version) +
                       ", this orgctl reads version " + std::to_string(kFormatVersion) +
                       "; rebuild it with `orgctl compile`"};
    Bundle b;
    codec::header(r, b.source_hash, b.host, b.compiler, b.files);
    // A section's length counts bytes that follow, so it is read as a count: never more than is left.
    uint64_t mod_len = r.count("IR section length", 0);
    size_t mod_start = r.pos();
    r.strings_into(&b.module);
    codec::fields(r, b.module);
    r.strings_into(nullptr);
    if (r.pos() - mod_start != mod_len) throw codec::Corrupt{"the IR section has the wrong length"};
    codec::Validator check(b.module);
    codec::fields(check, b.module);
    uint64_t prog_len = r.count("program section length", 0);
    size_t prog_start = r.pos();
    codec::fields(r, b.program);
    if (r.pos() - prog_start != prog_len) throw codec::Corrupt{"the program section has the wrong length"};
    codec::fields(check, b.program);
    uint64_t obj_len = r.count("object code", 0);
    b.object.resize(obj_len);
    r.raw(b.object.data(), obj_len);
    if (!r.done()) throw codec::Corrupt{"there is data after the last section"};
    return b;
  } catch (const codec::Corrupt& c) {
    return LoadError{"the bundle is damaged: " + c.what + "; rebuild it with `orgctl compile`"};
  }
}

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes, std::string& error) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = "cannot write `" + tmp + "`";
      return false;
    }
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      error = "writing `" + tmp + "` failed (disk full?)";
      std::remove(tmp.c_str());
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    error = "cannot replace `" + path + "`: " + ec.message();
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<std::vector<uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace orgos::bundle
