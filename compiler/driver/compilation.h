// One run of the front-end: which files were read, their ASTs, and every diagnostic. `orgctl check`,
// `graph` and `fmt`, the tests and the benchmarks all start here.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"
#include "compiler/syntax/ast/module.h"

namespace orgos::sema {
struct Program;
}

namespace orgos::driver {

struct CheckOptions {
  // Files or project folders (a folder with orgos.yaml, or any folder of .org files).
  std::vector<std::string> inputs;
  // Where `import std.X` finds packages; empty: the stdlib folder found next to the binary or the
  // source tree (see stdlib_dir()).
  std::string stdlib_dir;
  // Extra folders holding installed packages (one sub-folder per package).
  std::vector<std::string> package_dirs;
  // Read source files that are symlinks leading out of their project (or package) folder. Off by default,
  // so a checked-out project cannot make diagnostics echo lines of files elsewhere (say /etc/passwd).
  bool follow_symlinks = false;
};

struct ParsedFile {
  source::FileId file;
  std::unique_ptr<ast::Module> module;
  std::vector<std::string> broken_names;
  std::string package;   // the package the file belongs to (from its folder's manifest)
  bool root = true;      // false for files of imported packages
  bool gave_up = false;  // too deeply nested to parse: its declarations are unknown (syntax::ParseResult)
};

struct Compilation {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  std::vector<ParsedFile> files;
  std::unique_ptr<sema::Program> program;  // set once checking ran (even with errors)
  Compilation();
  ~Compilation();

  // True when some file could not be parsed at all. Then no checks run: every file that uses what that
  // file declares would get errors about names that are only missing because the parser gave up.
  bool parse_gave_up() const {
    for (auto& f : files)
      if (f.gave_up) return true;
    return false;
  }

  std::vector<const ast::Module*> modules() const {
    std::vector<const ast::Module*> out;
    for (auto& f : files) out.push_back(f.module.get());
    return out;
  }
};

// The .org files of a project folder, sorted: hidden folders, `build` and nested packages are skipped.
std::vector<std::string> org_files(const std::string& dir);

// Parses and checks everything reachable from the inputs. Never throws on bad input: every problem
// is a diagnostic in the result.
std::unique_ptr<Compilation> check(const CheckOptions& opts);

// Parses source text from memory only (no packages, no checks beyond syntax). Used by tests and fuzzing.
std::unique_ptr<Compilation> parse_text(const std::string& path, const std::string& text);
// Parses and checks source text from memory as one root file (imports resolve against the stdlib).
std::unique_ptr<Compilation> check_text(const std::string& path, const std::string& text);

}  // namespace orgos::driver
