// What the store tests of orgctl share (store_identity_test.cpp, store_adversary_test.cpp): orgctl run as a
// user runs it, a shop project in a folder of the test, and a store file read and edited with SQLite itself,
// as another program or a person with a shell would.
#pragma once
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/temp_dir.h"

namespace orgctl_store_test {

namespace fs = std::filesystem;

struct Ran {
  int code;
  std::string out;
};

// `timeout`: seconds after which the run is stopped (it then exits 124), 0 for none.
Ran run(const std::string& args, int timeout = 0) {
  std::string cmd = (timeout ? "timeout " + std::to_string(timeout) + " " : std::string()) + ORGCTL_PATH +
                    " " + args + " 2>&1";
  Ran r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// Bundles made by this binary's orgctl runs are sealed with a key of its own, removed when it ends.
const fs::path kKeyDir = fs::temp_directory_path() / ("orgctl-store-tests-key-" + std::to_string(::getpid()));
const bool kOwnKey = [] {
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(kKeyDir, ec);
  });
  return setenv("ORGOS_BUNDLE_KEY", (kKeyDir / "bundle.key").c_str(), 1) == 0;
}();

// The shop program: ann (a clerk) may post orders, and each order starts a Fulfil instance with a task.
const char* kShop =
    "role Clerk { may post }\nevent order.placed { ref: String }\n"
    "org Shop {\n  units { department Sales }\n  position a: Clerk in Sales held by \"ann\"\n}\n"
    "process Fulfil(ref: String) {\n  task pack by Clerk outcomes packed, lost\n}\n"
    "rule on_order when order.placed e then start Fulfil(e.ref)\n"
    "metric orders = count(e in order.placed)\n";

// A project folder `name` (its manifest says so) holding `source` as shop.org, under a folder of the test
// (removed with all it holds when the test ends, also after a failed assertion).
struct Folder {
  orgos_test::TempDir dir{"orgctl-store"};
  const fs::path& root = dir.path();
  std::string project(const std::string& name, const std::string& source = kShop) const {
    fs::create_directories(root / name);
    write(name + "/orgos.yaml", "name: " + name + "\nversion: 0.1.0\n");
    write(name + "/shop.org", source);
    return (root / name).string();
  }
  void write(const std::string& rel, const std::string& text) const {
    FILE* f = fopen((root / rel).c_str(), "wb");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
  }
  std::string db() const { return (root / "store.db").string(); }
};

// One integer from SQL on the store file, through a connection of the test's own (-1 when it fails).
int64_t count(const std::string& db, const std::string& query) {
  sqlite3* h = nullptr;
  int64_t out = -1;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, query.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return out;
}

// SQL run on the store file as someone editing it would; "" when it worked, else SQLite's message.
std::string edit(const std::string& db, const std::string& statements) {
  sqlite3* h = nullptr;
  std::string error;
  if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) return "cannot open";
  char* msg = nullptr;
  if (sqlite3_exec(h, statements.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) error = msg ? msg : "failed";
  sqlite3_free(msg);
  sqlite3_close(h);
  return error;
}

std::string text(const std::string& db, const std::string& query) {
  sqlite3* h = nullptr;
  std::string out = "(none)";
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, query.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return out;
}

std::string post(const std::string& project, const std::string& db, const std::string& ref) {
  return "events post order.placed '" + project + "' --db '" + db + "' --as ann -p '{\"ref\": \"" + ref +
         "\"}' --key " + ref;
}

// What the store holds that a refused open must leave as it was: inputs, bundles, meta rows, audit entries.
std::string fingerprint(const std::string& db) {
  return std::to_string(count(db, "SELECT count(*) FROM input_log")) + "/" +
         std::to_string(count(db, "SELECT count(*) FROM bundle")) + "/" +
         std::to_string(count(db, "SELECT count(*) FROM meta")) + "/" +
         std::to_string(count(db, "SELECT count(*) FROM audit")) + "/" +
         std::to_string(count(db, "SELECT count(*) FROM instance"));
}

}  // namespace orgctl_store_test
