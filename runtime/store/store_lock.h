// One writer per store. The engine keeps counters and state in memory and trusts that nobody else writes
// its store; two writers both handed out instance 1, and one lost the other's input. So the process that
// owns a store holds an exclusive flock on `STORE.lock` (which names its pid) for as long as the store is
// open, and a second writer is refused at once, naming the holder. Readers take no lock.
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

  static std::string file_for(const std::string& store_path) { return store_path + ".lock"; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace orgos::store
