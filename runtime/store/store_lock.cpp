#include "runtime/store/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "runtime/store/store.h"

namespace orgos::store {

namespace {

// The pid the holder wrote into the lock file ("" when it has not written it yet).
std::string holder_of(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string s(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string StoreLock::file_for(const std::string& store_path) {
  std::error_code ec;
  auto resolved = std::filesystem::weakly_canonical(store_path, ec);
  return (ec ? store_path : resolved.string()) + ".lock";
}

void StoreLock::lock_store_file(const std::string& store_path) {
  int fd = ::open(store_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return;  // opening the store reports what is wrong with the file
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err != EWOULDBLOCK) throw StoreError("cannot lock `" + store_path + "`: " + std::strerror(err));
    throw StoreError("the store `" + store_path +
                         "` is in use: another process owns its file for writing under another name (a "
                         "link to it). One process writes a store at a time: stop that process first",
                     StoreFault::InUse);
  }
  file_fd_ = fd;
}

StoreLock::StoreLock(const std::string& store_path) : path_(file_for(store_path)) {
  // The lock file is removed when its owner closes the store. A process that opened it just before the
  // removal locks a file that is no longer at the path, so it checks that it locked the file the path
  // names now, and tries again if not.
  for (int attempt = 0; attempt < 100; ++attempt) {
    // Never through a symbolic link, never a FIFO or a device: a link planted at the lock file's name made
    // every writer truncate its target and write its pid there (any file the writer may write).
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    struct stat opened {};
    if (fd >= 0 && (fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode))) {
      ::close(fd);
      fd = -1;
      errno = EINVAL;
    }
    if (fd < 0 && (errno == ELOOP || errno == EISDIR || errno == EINVAL || errno == ENXIO))
      throw StoreError("`" + path_ +
                           "`, the name of the store's lock file, holds something that is not a lock file (a "
                           "symbolic link, a FIFO, a device or a folder); it is neither followed nor written",
                       StoreFault::LockNotAFile);
    if (fd < 0) {
      const int err = errno;
      // A read-only file system or no permission: nothing is damaged. No such folder: no store is there.
      const StoreFault f = err == EROFS || err == EACCES || err == EPERM ? StoreFault::NotWritable
                           : err == ENOENT || err == ENOTDIR             ? StoreFault::Missing
                                                                         : StoreFault::Other;
      throw StoreError("cannot create the lock file `" + path_ + "` of the store: " + std::strerror(err), f);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      std::string pid = err == EWOULDBLOCK ? holder_of(fd) : "";
      ::close(fd);
      if (err != EWOULDBLOCK) throw StoreError("cannot lock `" + path_ + "`: " + std::strerror(err));
      throw StoreError(
          "the store `" + store_path + "` is in use: process " + (pid.empty() ? "(starting)" : pid) +
              " owns it for writing (lock file `" + path_ +
              "`). One process writes a store at a time: stop that process first, or use a verb that "
              "only reads (instances, metrics, tasks list, audit verify, token list) beside it",
          StoreFault::InUse);
    }
    struct stat locked {
    }, named{};
    if (fstat(fd, &locked) != 0 || stat(path_.c_str(), &named) != 0 || locked.st_ino != named.st_ino ||
        locked.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      int err = errno;
      ::unlink(path_.c_str());
      ::close(fd);
      throw StoreError("cannot write the lock file `" + path_ + "`: " + std::strerror(err));
    }
    fd_ = fd;
    return;
  }
  throw StoreError("cannot lock `" + path_ + "`: it keeps being replaced");
}

StoreLock::~StoreLock() {
  if (file_fd_ >= 0) ::close(file_fd_);
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still locked: nobody else can hold a lock on this file meanwhile
  ::close(fd_);
}

}  // namespace orgos::store
