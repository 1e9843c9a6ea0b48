// A fresh directory under the temporary folder ($TMPDIR, else /tmp) for one test's files, removed with all
// it holds when the test ends — also when an assertion fails or a constructor after it throws (declare it
// before what writes into it). A store leaves more than its file (-wal, -shm, .lock, .creating, a link's own
// -wal): in a directory of their own, none of them is missed by a list of names.
#pragma once
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace orgos_test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "orgos-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("cannot make a temporary directory `" + tmpl + "`: " + std::strerror(errno));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace orgos_test
