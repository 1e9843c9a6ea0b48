#include "compiler/source/source_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace orgos::source {

namespace fs = std::filesystem;

namespace {

// Closes the descriptor on every return path.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// The path the open descriptor really names (every symlink resolved). Read back from the descriptor, not
// from the path, so a symlink swapped between the check and the open cannot slip through.
fs::path real_path(int fd, const std::string& path) {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  if (!ec && p.is_absolute()) return p;
  p = fs::canonical(path, ec);
  return ec ? fs::path() : p;
}

bool inside(const fs::path& file, const fs::path& root) {
  auto f = file.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++f) {
    if (r->empty()) continue;  // a trailing separator
    if (f == file.end() || *f != *r) return false;
  }
  return true;
}

std::string size_text(uint64_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
    return std::to_string(bytes / (1024 * 1024)) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

ReadResult read_source_file(const std::string& path, const ReadPolicy& policy) {
  ReadResult r;
  auto fail = [&](ReadProblem p, std::string message, std::string hint) {
    r.problem = p;
    r.text.clear();
    r.message = std::move(message);
    r.hint = std::move(hint);
    return r;
  };
  const std::string quoted = "`" + path + "`";
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer (it is refused just below).
  Fd f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) {
    int err = errno;
    if (err == ENOENT) return fail(ReadProblem::Missing, "no such file: " + quoted, "check the path");
    return fail(ReadProblem::Unreadable, "cannot read " + quoted + ": " + std::strerror(err),
                "check the file's permissions");
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    return fail(ReadProblem::Unreadable, "cannot read " + quoted + ": " + std::strerror(errno),
                "check the file's permissions");
  if (!S_ISREG(st.st_mode))
    return fail(ReadProblem::NotRegular, quoted + " is " + kind_of(st.st_mode) + ", not a regular file",
                "sources and manifests must be regular files; remove or rename it");
  if (!policy.root.empty() && !policy.follow_symlinks) {
    std::error_code ec;
    fs::path real = real_path(f.fd, path);
    fs::path root = fs::canonical(policy.root, ec);
    if (!ec && !real.empty() && !inside(real, root))
      return fail(ReadProblem::OutsideProject,
                  quoted + " leads through a symlink to `" + real.string() + "`, outside the project `" +
                      policy.root + "`",
                  "copy the file into the project, or pass --follow-symlinks to read it anyway");
  }
  if (static_cast<uint64_t>(st.st_size) > policy.max_bytes)
    return fail(ReadProblem::TooLarge,
                quoted + " is " + std::to_string(st.st_size) + " bytes, over the limit of " +
                    size_text(policy.max_bytes) + " for a source file",
                "split it into several files");
  // Read until the end, but never past the limit: the file may grow while it is read.
  std::string text;
  text.resize(static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      if (text.size() > policy.max_bytes) break;
      text.resize(std::min<uint64_t>(policy.max_bytes + 1, text.size() * 2 + 4096));
    }
    ssize_t n = ::read(f.fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return fail(ReadProblem::Unreadable, "cannot read " + quoted + ": " + std::strerror(errno),
                  "check the file and the disk");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > policy.max_bytes)
    return fail(ReadProblem::TooLarge,
                quoted + " is over the limit of " + size_text(policy.max_bytes) + " for a source file",
                "split it into several files");
  text.resize(got);
  if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
    size_t at = static_cast<size_t>(static_cast<const char*>(nul) - text.data());
    return fail(ReadProblem::NotText,
                quoted + " is not a text file (it holds a NUL byte at byte " + std::to_string(at) + ")",
                "sources are UTF-8 text; check that the path names the file you meant");
  }
  r.text = std::move(text);
  return r;
}

}  // namespace orgos::source
