// Name resolution across packages: each package's declarations by name, and what each file can see
// (its own package, the names its imports bring in, and package aliases for qualified access).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/sema/program.h"

namespace orgos::driver {
struct Compilation;
struct ParsedFile;
}  // namespace orgos::driver

namespace orgos::sema {

// What one source file can see.
struct FileScope {
  const Package* package = nullptr;
  std::map<std::string, const ast::Decl*> imported;         // selective or single-name imports
  std::map<std::string, const Package*> aliases;            // `import std.finance` → finance
  std::map<std::string, const ast::Import*> alias_imports;  // for unused-import warnings
  std::map<std::string, const ast::Import*> name_imports;
  std::set<std::string> broken;  // names lost to syntax errors: never reported as unknown
};

class Symbols {
 public:
  Symbols(driver::Compilation& c);

  // Builds every file's scope, reporting duplicates (E0201), missing imported names (E0103) and
  // duplicate imports (W0001).
  void build();
  const FileScope& scope(size_t file_index) const { return scopes_.at(file_index); }

  // A declaration by (possibly dotted) name as seen from a file; null when unknown.
  const ast::Decl* lookup(size_t file, const ast::QualifiedName& name);
  const ast::Decl* lookup(size_t file, const std::string& name);
  // Every declared name visible from a file (for "did you mean" hints).
  std::vector<std::string> visible_names(size_t file) const;
  bool is_broken(size_t file, const std::string& name) const;

  // Marks a declaration (and the import that brought it in) as used.
  void use(const ast::Decl* d) { used_.insert(d); }
  bool used(const ast::Decl* d) const { return used_.count(d) > 0; }
  const std::set<const ast::Import*>& used_imports() const { return used_imports_; }

 private:
  const ast::Decl* find_in(const Package* p, const std::string& name) const;
  driver::Compilation& c_;
  std::vector<FileScope> scopes_;
  std::set<const ast::Decl*> used_;
  std::set<const ast::Import*> used_imports_;
};

// The closest of `candidates` to `name` by edit distance, or "" when none is close.
std::string closest(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace orgos::sema
