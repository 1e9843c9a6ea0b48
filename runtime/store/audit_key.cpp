#include "runtime/store/audit_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "runtime/store/field_hash.h"
#include "runtime/store/store.h"

namespace orgos::store {

namespace {

const char* kHint = "\n  hint: point ORGOS_AUDIT_KEY (or --audit-key) at the store's key file";

}  // namespace

AuditKey AuditKey::load(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw StoreError("the audit key `" + path + "` is not a file" + kHint);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw StoreError("cannot read the audit key `" + path + "`: " + std::strerror(errno) + kHint);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  std::array<unsigned char, kBytes> bytes{};
  size_t len = 0;
  if (text.size() != 2 * kBytes ||
      sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &len, nullptr) != 0 ||
      len != kBytes)
    throw StoreError("`" + path + "` is not an audit key (expected 64 hex digits, made by orgctl)" + kHint);
  return AuditKey(bytes);
}

AuditKey AuditKey::load_or_create(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return load(path);
  if (sodium_init() < 0) throw StoreError("libsodium cannot be initialised");
  std::filesystem::path p(path);
  if (p.has_parent_path() && !std::filesystem::exists(p.parent_path(), ec)) {
    // A folder made for the key is the owner's alone (mode 0700), like the key itself.
    std::filesystem::create_directories(p.parent_path(), ec);
    if (!ec)
      std::filesystem::permissions(p.parent_path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    if (ec)
      throw StoreError("cannot make the folder of the audit key `" + path + "`: " + ec.message() + kHint);
  }
  std::array<unsigned char, kBytes> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string text = to_hex(bytes.data(), bytes.size()) + "\n";
  // Written under a temporary name, then linked into place: link fails if the key appeared meanwhile, so a
  // reader never sees half a key and two first users never end with two keys.
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw StoreError("cannot create the audit key `" + path + "`: " + std::strerror(errno) + kHint);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    throw StoreError("cannot write the audit key `" + path + "`: " + std::strerror(err) + kHint);
  }
  int rc = ::link(tmp.c_str(), path.c_str());
  err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0 && err != EEXIST)
    throw StoreError("cannot create the audit key `" + path + "`: " + std::strerror(err) + kHint);
  return rc == 0 ? AuditKey(bytes) : load(path);
}

std::string AuditKey::mac(const std::string& message) const {
  return FieldHash(bytes_.data(), bytes_.size()).raw(message).hex();
}

std::string default_audit_key_path() {
  if (const char* k = std::getenv("ORGOS_AUDIT_KEY"); k && *k) return k;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/orgos/audit.key";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/orgos/audit.key";
  throw StoreError(
      "no place for the audit key: neither ORGOS_AUDIT_KEY, XDG_CONFIG_HOME nor HOME is set\n  hint: set "
      "ORGOS_AUDIT_KEY to a file outside the store");
}

}  // namespace orgos::store
