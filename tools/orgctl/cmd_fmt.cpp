// orgctl fmt PATH… — rewrite .org files in canonical form (compiler/syntax/formatter.h); --check only
// reports. A file with syntax errors is never touched, and a rewrite goes through a temporary file and a
// rename, so an interrupted run leaves every file either as it was or fully formatted.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include "compiler/diag/renderer.h"
#include "compiler/syntax/formatter.h"
#include "tools/orgctl/commands.h"

namespace orgctl {
namespace {

namespace fs = std::filesystem;

// The files a PATH names: the file itself (whatever its extension: it was asked for), or every .org file
// below a folder. Hidden files and folders and `build` folders are skipped: editors' and build tools'
// copies are not the user's sources. Sorted, so the output does not depend on the file system.
// Each file comes with its project folder (the folder named, or a named file's own folder): a symlink
// out of it is neither read nor rewritten unless --follow-symlinks.
struct Found {
  std::string path, root;
};
bool collect(const std::string& path, std::vector<Found>& out, std::string& error) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    error = path + ": no such file or directory";
    return false;
  }
  if (fs::is_regular_file(status)) {
    std::string dir = fs::path(path).parent_path().string();
    out.push_back({path, dir.empty() ? "." : dir});
    return true;
  }
  if (!fs::is_directory(status)) {
    error = path + ": neither a file nor a folder";
    return false;
  }
  std::vector<Found> found;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::string name = entry.path().filename().string();
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      if (name.starts_with('.') || name == "build") it.disable_recursion_pending();
      continue;
    }
    if (!name.starts_with('.') && entry.path().extension() == ".org" && entry.is_regular_file(type_ec))
      found.push_back({entry.path().string(), path});
  }
  if (ec) {
    error = path + ": " + ec.message();
    return false;
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.path < b.path; });
  out.insert(out.end(), found.begin(), found.end());
  return true;
}

// Replaces the file's content through a temporary file in the same folder (so the rename stays on one file
// system and is atomic) after an fsync. Keeps the permissions; a symlink keeps pointing at the new text.
bool write_atomically(const std::string& path, const std::string& text, std::string& error) {
  std::error_code ec;
  fs::path target = fs::canonical(path, ec);
  if (ec) target = path;
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) mode = st.st_mode & 07777;
  std::string pattern = (target.parent_path() / ("." + target.filename().string() + ".fmt-XXXXXX")).string();
  std::vector<char> tmp(pattern.begin(), pattern.end());
  tmp.push_back('\0');
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    error = path + ": cannot create a temporary file next to it: " + std::strerror(errno);
    return false;
  }
  bool ok = true;
  int err = 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ok = false;
      err = errno;
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (ok && (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0)) {
    ok = false;
    err = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.data(), target.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.data());
    error = path + ": cannot write: " + std::strerror(err) + " (the file was left unchanged)";
  }
  return ok;
}

}  // namespace

void register_fmt(CLI::App& app) {
  struct Opts {
    std::vector<std::string> paths;
    bool check = false;
    bool to_stdout = false;
    bool follow_symlinks = false;
  };
  auto opts = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("fmt", "Rewrite OrgOS sources in canonical form, keeping every comment");
  cmd->add_option("paths", opts->paths, "files, or folders (every .org file below them)")->required();
  auto* check = cmd->add_flag("--check", opts->check,
                              "change nothing: list the files that are not formatted and exit 1 if any");
  auto* out = cmd->add_flag("--stdout", opts->to_stdout,
                            "print the formatted text of one file instead of rewriting it");
  check->excludes(out);
  cmd->add_flag("--follow-symlinks", opts->follow_symlinks,
                "also format files that are symlinks leading out of the folder named (refused by default)");
  cmd->footer(
      "Examples:\n"
      "  orgctl fmt examples/acme             format every .org file of a project\n"
      "  orgctl fmt --check .                 in CI: list unformatted files, exit 1 if any\n"
      "  orgctl fmt spend.org --stdout        print the formatted file, leave it as it is\n"
      "Files with syntax errors are reported and left unchanged.\n"
      "Exit codes: 0 formatted (or already formatted), 1 syntax errors, a missing path, or --check found\n"
      "files to format, 2 bad usage, 3 a file cannot be written.");
  cmd->callback([opts]() {
    int code = kExitOk;
    std::vector<Found> files;
    for (auto& p : opts->paths) {
      std::string error;
      if (!collect(p, files, error)) {
        std::cerr << "orgctl fmt: " << error << "\n";
        code = kExitInputErrors;
      }
    }
    // The same file named twice (directly and through its folder) is formatted once.
    std::set<std::string> seen;
    std::erase_if(files, [&seen](const Found& f) {
      std::error_code ec;
      auto key = fs::weakly_canonical(f.path, ec).string();
      return !seen.insert(ec ? f.path : key).second;
    });
    if (opts->to_stdout && files.size() > 1) {
      std::cerr << "orgctl fmt: --stdout prints one file, but the paths name " << files.size() << "\n";
      throw CLI::RuntimeError(kExitUsage);
    }

    orgos::source::SourceManager sm;
    size_t to_format = 0, unchanged = 0, broken = 0, failed = 0;
    for (auto& found : files) {
      const std::string& f = found.path;
      orgos::source::ReadPolicy policy;
      policy.root = found.root;
      policy.follow_symlinks = opts->follow_symlinks;
      orgos::source::ReadResult why;
      auto id = sm.load(f, policy, &why);
      if (!id) {
        std::cerr << "orgctl fmt: " << why.message << "\n  = hint: " << why.hint << "\n";
        ++failed;
        code = std::max(code, kExitInputErrors);
        continue;
      }
      orgos::diag::DiagnosticEngine diags;
      std::optional<std::string> formatted;
      try {
        formatted = orgos::syntax::format_file(sm, *id, diags);
      } catch (const orgos::syntax::FormatError& e) {
        std::cerr << "orgctl fmt: " << e.what() << "\n";
        ++failed;
        code = std::max(code, kExitInputErrors);
        continue;
      }
      if (!formatted) {
        std::cerr << orgos::diag::render_all_text(sm, diags, {globals().colour});
        std::cerr << "orgctl fmt: " << f << " has syntax errors: left unchanged\n";
        ++broken;
        code = std::max(code, kExitInputErrors);
        continue;
      }
      if (opts->to_stdout) {
        std::cout << *formatted;
        continue;
      }
      if (*formatted == sm.file(*id).text) {
        ++unchanged;
        continue;
      }
      if (opts->check) {
        std::cout << f << "\n";
        ++to_format;
        code = std::max(code, kExitInputErrors);
        continue;
      }
      std::string error;
      if (!write_atomically(f, *formatted, error)) {
        std::cerr << "orgctl fmt: " << error << "\n";
        ++failed;
        code = std::max(code, kExitIo);
        continue;
      }
      std::cout << "formatted " << f << "\n";
      ++to_format;
    }
    // One summary line on stderr, so stdout stays a plain list of file names.
    if (!opts->to_stdout) {
      std::cerr << (code == kExitOk ? "ok: " : "") << files.size()
                << (files.size() == 1 ? " file: " : " files: ") << to_format
                << (opts->check ? " to format, " : " reformatted, ") << unchanged << " already formatted";
      if (broken) std::cerr << ", " << broken << " with syntax errors";
      if (failed) std::cerr << ", " << failed << " failed";
      std::cerr << "\n";
    }
    throw CLI::RuntimeError(code);
  });
}

}  // namespace orgctl
