// One writer per store. The engine keeps counters and state in memory and trusts that nobody else writes
// its store; two writers both handed out instance 1, and one lost the other's input. So the process that
// owns a store holds an exclusive flock on `STORE.lock` (which names its pid) for as long as the store is
// open, and a second writer is refused at once, naming the holder. Readers take no lock.
// A store reached by another name (a symlink or a hard link to its file) is the same store: the lock
// file is named after the resolved path, and the owner also holds a flock on the store file itself (an
// inode lock, which no link escapes; SQLite's own locks are POSIX record locks, which flock does not touch).
#pragma once
#include <string>

namespace orgos::store {

class StoreLock {
 public:
  // Takes the lock of the store at `store_path`, or throws StoreError naming the process that holds it.
  explicit StoreLock(const std::string& store_path);
  ~StoreLock();  // removes the lock file, then releases the lock
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

  // The lock file: beside the file the path resolves to (symlinks followed).
  static std::string file_for(const std::string& store_path);

  // Also locks the store file itself once it exists (a hard link has no other path to resolve); throws
  // StoreError (InUse) when another process holds it under another name. Kept until the lock goes, which
  // is after the store's connection closed (closing another descriptor of the file earlier would drop
  // SQLite's POSIX locks on it).
  void lock_store_file(const std::string& store_path);

 private:
  std::string path_;
  int fd_ = -1;
  int file_fd_ = -1;
};

}  // namespace orgos::store
