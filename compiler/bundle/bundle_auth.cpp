#include "compiler/bundle/bundle_auth.h"

#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace orgos::bundle {

namespace {

constexpr size_t kMacBytes = 32;

// MAC over the magic and the bundle bytes: the magic binds the tag to this use of the key.
void mac(const unsigned char* data, size_t n, const Key& key, unsigned char out[kMacBytes]) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.bytes.data(), key.bytes.size(), kMacBytes);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kSealMagic), sizeof kSealMagic);
  crypto_generichash_update(&st, data, n);
  crypto_generichash_final(&st, out, kMacBytes);
}

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "";
}

std::string errno_text(int e) {
  return std::strerror(e);
}

std::variant<Key, std::string> read_key(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "cannot read the bundle key `" + path + "`: " + errno_text(errno);
  if (!S_ISREG(st.st_mode)) return "the bundle key `" + path + "` is not a regular file; remove it";
  if (st.st_uid != ::getuid())
    return "the bundle key `" + path + "` belongs to another user; remove it so a new one is made";
  if (st.st_mode & 077)
    return "the bundle key `" + path + "` may be read or written by other users, who could forge bundles; " +
           "run `chmod 600 " + path + "`";
  Key k;
  ssize_t n = ::read(fd, k.bytes.data(), k.bytes.size());
  char extra;
  if (n != static_cast<ssize_t>(k.bytes.size()) || ::read(fd, &extra, 1) != 0)
    return "the bundle key `" + path + "` is not 32 bytes; remove it so a new one is made (bundles sealed " +
           "with the old key are then rebuilt)";
  return k;
}

}  // namespace

std::string default_key_path() {
  if (const char* p = std::getenv("ORGOS_BUNDLE_KEY"); p && *p) return p;
  std::string base;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x)
    base = x;
  else if (std::string h = home_dir(); !h.empty())
    base = h + "/.config";
  if (base.empty()) return "";
  return base + "/orgos/bundle.key";
}

std::variant<Key, std::string> load_or_create_key(const std::string& path) {
  if (path.empty())
    return std::string("no place for the bundle key: set ORGOS_BUNDLE_KEY to a file path, or HOME");
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) return "cannot create `" + dir.string() + "` for the bundle key: " + ec.message();
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    if (sodium_init() < 0) return std::string("libsodium cannot be initialised");
    Key k;
    randombytes_buf(k.bytes.data(), k.bytes.size());
    // Written whole under a temporary name, then linked into place: link() fails if another process made
    // the key meanwhile (that key is then read below), and no reader ever sees a half-written key.
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    ::unlink(tmp.c_str());  // a leftover of a crashed process with this pid
    int w = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (w < 0) return "cannot create the bundle key `" + path + "`: " + errno_text(errno);
    bool ok =
        ::write(w, k.bytes.data(), k.bytes.size()) == static_cast<ssize_t>(k.bytes.size()) && ::fsync(w) == 0;
    int e = errno;
    ::close(w);
    if (!ok) {
      ::unlink(tmp.c_str());
      return "cannot write the bundle key `" + path + "`: " + errno_text(e);
    }
    int linked = ::link(tmp.c_str(), path.c_str());
    e = errno;
    ::unlink(tmp.c_str());
    if (linked == 0) return k;
    errno = e;
    if (errno != EEXIST) return "cannot create the bundle key `" + path + "`: " + errno_text(errno);
    fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  }
  if (fd < 0)
    return "cannot open the bundle key `" + path + "`: " + errno_text(errno) +
           (errno == ELOOP ? " (it is a symbolic link; give the real file)" : "");
  auto r = read_key(fd, path);
  ::close(fd);
  return r;
}

std::vector<uint8_t> seal(const std::vector<uint8_t>& bundle_bytes, const Key& key) {
  std::vector<uint8_t> out(kSealMagic, kSealMagic + sizeof kSealMagic);
  out.resize(sizeof kSealMagic + kMacBytes);
  mac(bundle_bytes.data(), bundle_bytes.size(), key, out.data() + sizeof kSealMagic);
  out.insert(out.end(), bundle_bytes.begin(), bundle_bytes.end());
  return out;
}

std::variant<Bundle, LoadError> open_sealed(const std::vector<uint8_t>& file, const Key& key) {
  const size_t head = sizeof kSealMagic + kMacBytes;
  if (file.size() < head || std::memcmp(file.data(), kSealMagic, sizeof kSealMagic) != 0) {
    if (file.size() >= sizeof kMagic && std::memcmp(file.data(), kMagic, sizeof kMagic) == 0)
      return LoadError{
          "the bundle is not sealed (an older orgctl wrote it, or it was copied from a store); "
          "it is not run: rebuild it with `orgctl compile`"};
    return LoadError{"this is not an OrgOS bundle (wrong magic number); rebuild it with `orgctl compile`"};
  }
  unsigned char want[kMacBytes];
  mac(file.data() + head, file.size() - head, key, want);
  if (sodium_memcmp(want, file.data() + sizeof kSealMagic, kMacBytes) != 0)
    return LoadError{
        "the bundle does not authenticate with this machine's bundle key (it was changed "
        "after it was written, or written elsewhere); it is not run: rebuild it with "
        "`orgctl compile`"};
  return deserialize(std::vector<uint8_t>(file.begin() + static_cast<std::ptrdiff_t>(head), file.end()));
}

bool looks_like_bundle(const std::vector<uint8_t>& head) {
  auto starts = [&](const char* m) { return head.size() >= 8 && std::memcmp(head.data(), m, 8) == 0; };
  return starts(kSealMagic) || starts(kMagic);
}

}  // namespace orgos::bundle
