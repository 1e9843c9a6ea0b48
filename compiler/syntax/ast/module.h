// One parsed source file: its package line, imports and declarations.
#pragma once
#include "compiler/syntax/ast/decl.h"

namespace orgos::ast {

struct ImportItem {
  Name name, alias;
};
struct Import {
  QualifiedName path;
  std::vector<ImportItem> items;  // `import a.b.{X, Y as Z}`
  bool selective = false;
  Name alias;  // `import a.b as c`
  Span span;
};

struct Module {
  source::FileId file = source::kNoFile;
  QualifiedName package;  // empty when the file has no `package` line
  std::string version;
  std::vector<Import> imports;
  std::vector<DeclPtr> decls;
};

}  // namespace orgos::ast
