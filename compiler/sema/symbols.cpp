#include "compiler/sema/symbols.h"

#include <algorithm>

#include "compiler/driver/compilation.h"

namespace orgos::sema {

Symbols::Symbols(driver::Compilation& c) : c_(c) {}

std::string closest(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
  for (const std::string& cand : candidates) {
    if (cand == name) continue;
    // Levenshtein distance, two rows.
    std::vector<size_t> prev(cand.size() + 1), cur(cand.size() + 1);
    for (size_t j = 0; j <= cand.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= cand.size(); ++j) {
        size_t sub = prev[j - 1] + (std::tolower(name[i - 1]) == std::tolower(cand[j - 1]) ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[cand.size()] < best_d) {
      best_d = prev[cand.size()];
      best = cand;
    }
  }
  return best;
}

const ast::Decl* Symbols::find_in(const Package* p, const std::string& name) const {
  if (!p) return nullptr;
  auto it = p->decls.find(name);
  return it == p->decls.end() ? nullptr : it->second;
}

void Symbols::build() {
  Program& prog = *c_.program;
  // 1. Declarations per package; a second declaration of a name in one package is E0201.
  for (Package& p : prog.packages) {
    for (size_t fi : p.files) {
      for (const ast::DeclPtr& d : c_.files[fi].module->decls) {
        const std::string& n = d->name.text;
        if (n.empty()) continue;
        auto it = p.decls.find(n);
        if (it != p.decls.end()) {
          c_.diags
              .report(diag::Code::E0201, d->name.span,
                      std::string("`") + n + "` is already defined in package `" + p.name + "`")
              .note(it->second->name.span,
                    std::string("first defined here as a ") + ast::keyword(it->second->kind))
              .with_hint("rename one of them");
          continue;
        }
        p.decls.emplace(n, d.get());
        prog.owner[d.get()] = &p;
      }
    }
  }
  // 2. What each file sees through its imports.
  scopes_.resize(c_.files.size());
  for (size_t fi = 0; fi < c_.files.size(); ++fi) {
    FileScope& fs = scopes_[fi];
    const driver::ParsedFile& f = c_.files[fi];
    fs.package = prog.package(f.package);
    if (fs.package)
      for (const std::string& b : fs.package->broken_names) fs.broken.insert(b);
    std::set<std::string> seen_paths;
    for (const ast::Import& imp : f.module->imports) {
      std::string path = imp.path.str();
      if (!seen_paths.insert(path + (imp.selective ? ".{}" : "")).second) {
        c_.diags.report(diag::Code::W0001, imp.span, "`" + path + "` is imported twice")
            .with_hint("remove one import");
        continue;
      }
      // The package is the longest prefix of the path that names a loaded package.
      const Package* pkg = nullptr;
      size_t used_parts = 0;
      for (size_t n = imp.path.parts.size(); n >= 1 && !pkg; --n) {
        std::string prefix;
        for (size_t i = 0; i < n; ++i) prefix += (i ? "." : "") + imp.path.parts[i].text;
        if ((pkg = prog.package(prefix))) used_parts = n;
      }
      if (!pkg) {
        // Already reported as E0101 by the loader; what the import would have brought in is not
        // reported again as unknown at every use.
        for (const ast::ImportItem& item : imp.items)
          fs.broken.insert(item.alias.empty() ? item.name.text : item.alias.text);
        fs.broken.insert(imp.alias.empty() ? imp.path.parts.back().text : imp.alias.text);
        continue;
      }
      for (const std::string& b : pkg->broken_names) fs.broken.insert(b);
      auto bind_name = [&](const std::string& name, const std::string& as, const ast::Name& where) {
        const ast::Decl* d = find_in(pkg, name);
        if (!d) {
          if (fs.broken.count(name)) return;
          std::vector<std::string> names;
          for (auto& [k, v] : pkg->decls) names.push_back(k);
          auto& diag = c_.diags.report(diag::Code::E0103, where.span,
                                       "package `" + pkg->name + "` has no definition named `" + name + "`");
          std::string near = closest(name, names);
          if (!near.empty()) diag.with_hint("did you mean `" + near + "`?");
          return;
        }
        fs.imported[as] = d;
        fs.name_imports[as] = &imp;
      };
      if (imp.selective) {
        for (const ast::ImportItem& item : imp.items)
          bind_name(item.name.text, item.alias.empty() ? item.name.text : item.alias.text, item.name);
      } else if (used_parts < imp.path.parts.size()) {
        // import pkg.Name (one name)
        std::string rest;
        for (size_t i = used_parts; i < imp.path.parts.size(); ++i)
          rest += (i > used_parts ? "." : "") + imp.path.parts[i].text;
        bind_name(rest, imp.alias.empty() ? imp.path.parts.back().text : imp.alias.text,
                  imp.path.parts[used_parts]);
      } else {
        std::string alias = imp.alias.empty() ? imp.path.parts.back().text : imp.alias.text;
        fs.aliases[alias] = pkg;
        fs.alias_imports[alias] = &imp;
      }
    }
  }
}

const ast::Decl* Symbols::lookup(size_t file, const std::string& name) {
  const FileScope& fs = scopes_.at(file);
  if (const ast::Decl* d = find_in(fs.package, name)) return d;
  auto it = fs.imported.find(name);
  if (it != fs.imported.end()) {
    used_imports_.insert(fs.name_imports.at(name));
    return it->second;
  }
  // A dotted event name declared by an imported package (`import std.hr` makes hr.candidate.hired
  // visible by its own name).
  if (name.find('.') != std::string::npos) {
    for (auto& [alias, pkg] : fs.aliases)
      if (const ast::Decl* d = find_in(pkg, name); d && d->kind == ast::DeclKind::Event) {
        used_imports_.insert(fs.alias_imports.at(alias));
        return d;
      }
  }
  // pkgalias.Name, or a dotted event name in an aliased package (finance.expense.approved).
  auto dot = name.find('.');
  if (dot != std::string::npos) {
    auto a = fs.aliases.find(name.substr(0, dot));
    if (a != fs.aliases.end()) {
      if (const ast::Decl* d = find_in(a->second, name.substr(dot + 1))) {
        used_imports_.insert(fs.alias_imports.at(a->first));
        return d;
      }
    }
  }
  return nullptr;
}

const ast::Decl* Symbols::lookup(size_t file, const ast::QualifiedName& name) {
  return lookup(file, name.str());
}

std::vector<std::string> Symbols::visible_names(size_t file) const {
  const FileScope& fs = scopes_.at(file);
  std::vector<std::string> out;
  if (fs.package)
    for (auto& [k, v] : fs.package->decls) out.push_back(k);
  for (auto& [k, v] : fs.imported) out.push_back(k);
  for (auto& [a, p] : fs.aliases)
    for (auto& [k, v] : p->decls) out.push_back(a + "." + k);
  return out;
}

bool Symbols::is_broken(size_t file, const std::string& name) const {
  const FileScope& fs = scopes_.at(file);
  if (fs.broken.count(name)) return true;
  // pkg.Name where Name was lost, or alias.op where the alias came from an import that failed.
  auto dot = name.find('.');
  return dot != std::string::npos &&
         (fs.broken.count(name.substr(dot + 1)) || fs.broken.count(name.substr(0, dot)));
}

}  // namespace orgos::sema
