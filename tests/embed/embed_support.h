// What the embedding tests share: the example project, a store file in a fresh temporary folder, and SQL run
// on that file from outside the library (as a damaged disk or another program would change it).
#pragma once
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace orgos::embed_test {

inline std::string example() {
  return std::string(ORGOS_SOURCE_DIR) + "/examples/acme";
}

// An expense the acme example accepts from `system`; it opens one approval task for ben.
inline const char* kExpense =
    R"({"expense": {"amount": "240 USD", "category": "meals", "unit": "Engineering", "submitter": "noor",
        "purpose": "team lunch", "incurred_on": "2026-01-05"}})";

// A folder removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    path_ =
        std::filesystem::temp_directory_path() / ("orgos-embed-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs SQL on a store file through a connection of its own; returns sqlite's message ("" when it worked).
inline std::string sql(const std::string& db, const std::string& statements) {
  sqlite3* h = nullptr;
  std::string error;
  if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) {
    error = h ? sqlite3_errmsg(h) : "cannot open";
  } else {
    char* msg = nullptr;
    if (sqlite3_exec(h, statements.c_str(), nullptr, nullptr, &msg) != SQLITE_OK)
      error = msg ? msg : "failed";
    sqlite3_free(msg);
  }
  sqlite3_close(h);
  return error;
}

}  // namespace orgos::embed_test
