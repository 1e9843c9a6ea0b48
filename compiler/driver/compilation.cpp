// Finds the files of a compilation (inputs, then the packages they import, transitively), parses them,
// orders packages so dependencies come first (an import cycle is an error), and runs the checks.
#include "compiler/driver/compilation.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include "compiler/sema/checker.h"
#include "compiler/sema/program.h"
#include "compiler/syntax/parser.h"

namespace orgos::driver {

namespace fs = std::filesystem;

Compilation::Compilation() = default;
Compilation::~Compilation() = default;

namespace {

std::string default_stdlib_dir() {
  if (const char* env = std::getenv("ORGOS_STDLIB")) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "orgos" / "stdlib";
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  return ORGOS_SOURCE_STDLIB;
}

}  // namespace

std::vector<std::string> org_files(const std::string& dir_path) {
  fs::path dir(dir_path);
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (it->is_directory(ec)) {
      bool nested_package = it.depth() >= 0 && p != dir && fs::exists(p / sema::kManifestName, ec);
      if ((!name.empty() && name[0] == '.') || name == "build" || nested_package)
        it.disable_recursion_pending();
      continue;
    }
    if (p.extension() == ".org") out.push_back(p.lexically_normal().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

class Loader {
 public:
  Loader(Compilation& c, const CheckOptions& o)
      : c_(c),
        stdlib_(o.stdlib_dir.empty() ? default_stdlib_dir() : o.stdlib_dir),
        package_dirs_(o.package_dirs),
        follow_symlinks_(o.follow_symlinks) {
    c_.program = std::make_unique<sema::Program>();
  }

  void add_input(const std::string& input) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      add_package_dir(input, /*root=*/true, {});
    } else if (fs::exists(fs::symlink_status(input, ec))) {
      // A file named on its own: its folder is its project.
      fs::path dir = fs::path(input).parent_path();
      auto fid = load(input, dir.empty() ? "." : dir.string());
      if (!fid) return;
      parse_into(*fid, "", true);
    } else {
      c_.diags.report(diag::Code::E0005, {}, "no such file or folder: `" + input + "`")
          .with_hint("give a .org file or a project folder (one holding orgos.yaml)");
    }
  }

  void add_text(const std::string& path, const std::string& text) {
    parse_into(c_.sources.add(path, text), "", true);
  }

  // Resolves imports until no new package appears, then orders packages.
  void finish() {
    for (size_t i = 0; i < c_.files.size(); ++i) resolve_imports(i);
    order_packages();
  }

 private:
  sema::Package& package(const std::string& name, bool root, const std::string& dir,
                         const std::string& version) {
    for (auto& p : c_.program->packages)
      if (p.name == name) {
        p.root = p.root || root;
        return p;
      }
    sema::Package p;
    p.name = name;
    p.root = root;
    p.dir = dir;
    p.version = version;
    c_.program->packages.push_back(std::move(p));
    return c_.program->packages.back();
  }

  // Loads a package folder: its manifest (when present) and all its .org files. Returns the package name.
  std::optional<std::string> add_package_dir(const std::string& dir, bool root,
                                             const std::string& expected_name) {
    std::error_code ec;
    std::string name = expected_name.empty() ? "main" : expected_name;
    std::string version;
    if (fs::exists(fs::path(dir) / sema::kManifestName, ec)) {
      auto m = sema::read_manifest(dir, c_.sources, c_.diags, follow_symlinks_);
      if (!m) return std::nullopt;
      if (!expected_name.empty() && m->name != expected_name) {
        c_.diags.report(
            diag::Code::E0104, {},
            "the package in `" + dir + "` is called `" + m->name + "`, not `" + expected_name + "`");
      }
      name = m->name;
      version = m->version;
      manifests_[name] = *m;
    }
    if (loaded_dirs_.count(fs::weakly_canonical(dir, ec).string())) return name;
    loaded_dirs_.insert(fs::weakly_canonical(dir, ec).string());
    package(name, root, dir, version);
    for (const std::string& f : org_files(dir)) {
      auto fid = load(f, dir);
      if (!fid) continue;
      parse_into(*fid, name, root);
    }
    return name;
  }

  // Reads a source file of the project or package folder `root`; a refusal (not a regular file, too
  // large, binary, a symlink out of `root`) is one E0005 saying why.
  std::optional<source::FileId> load(const std::string& path, const std::string& root) {
    source::ReadPolicy policy;
    policy.root = root;
    policy.follow_symlinks = follow_symlinks_;
    source::ReadResult why;
    auto fid = c_.sources.load(path, policy, &why);
    if (!fid) c_.diags.report(diag::Code::E0005, {}, why.message).with_hint(why.hint);
    return fid;
  }

  void parse_into(source::FileId fid, std::string pkg, bool root) {
    auto r = syntax::parse(c_.sources, fid, c_.diags);
    ParsedFile pf;
    pf.file = fid;
    pf.root = root;
    pf.gave_up = r.gave_up;
    const ast::Module& m = *r.module;
    if (pkg.empty())
      pkg = m.package.empty() ? "main" : m.package.str();
    else if (!m.package.empty() && m.package.str() != pkg) {
      c_.diags
          .report(diag::Code::E0104, m.package.span,
                  "this file says `package " + m.package.str() + "` but its folder's manifest names `" + pkg +
                      "`")
          .with_hint("make the `package` line match orgos.yaml, or remove it");
    }
    pf.package = pkg;
    pf.module = std::move(r.module);
    pf.broken_names = std::move(r.broken_names);
    sema::Package& p = package(pkg, root, "", m.version);
    p.files.push_back(c_.files.size());
    for (auto& b : pf.broken_names) p.broken_names.push_back(b);
    c_.files.push_back(std::move(pf));
  }

  // The package an import path names: the longest prefix that is a known or findable package.
  std::optional<std::string> find_package(const ast::QualifiedName& path, const std::string& importer) {
    for (size_t n = path.parts.size(); n >= 1; --n) {
      std::string prefix;
      for (size_t i = 0; i < n; ++i) prefix += (i ? "." : "") + path.parts[i].text;
      if (prefix == importer) return prefix;
      for (auto& p : c_.program->packages)
        if (p.name == prefix) return prefix;
      std::error_code ec;
      if (prefix.rfind("std.", 0) == 0) {
        fs::path dir = fs::path(stdlib_) / prefix.substr(4);
        if (fs::is_directory(dir, ec)) return add_package_dir(dir.string(), false, prefix);
      }
      for (const std::string& pd : package_dirs_) {
        fs::path dir = fs::path(pd) / prefix;
        if (fs::is_directory(dir, ec)) return add_package_dir(dir.string(), false, prefix);
      }
    }
    return std::nullopt;
  }

  void resolve_imports(size_t file_index) {
    // Copy what is needed first: loading a package appends to c_.files.
    std::string importer = c_.files[file_index].package;
    std::vector<std::pair<ast::QualifiedName, source::Span>> paths;
    for (const ast::Import& imp : c_.files[file_index].module->imports) paths.push_back({imp.path, imp.span});
    for (auto& [path, span] : paths) {
      auto pkg = find_package(path, importer);
      if (!pkg) {
        auto& d = c_.diags.report(diag::Code::E0101, path.span, "no package named `" + path.str() + "`");
        if (path.parts.size() > 0 && path.parts[0].text != "std")
          d.with_hint("packages come from the project, the standard library (`std.…`) or installed packages");
        else
          d.with_hint("the standard library is in `" + stdlib_ + "`; check the package name");
        continue;
      }
      if (*pkg == importer) continue;
      for (auto& p : c_.program->packages)
        if (p.name == importer && std::find(p.imports.begin(), p.imports.end(), *pkg) == p.imports.end())
          p.imports.push_back(*pkg);
      import_spans_[{importer, *pkg}] = span;
    }
  }

  // Depth-first order, dependencies first; a back edge is an import cycle, reported with its path.
  void order_packages() {
    auto& pkgs = c_.program->packages;
    std::map<std::string, int> colour;  // 0 new, 1 on stack, 2 done
    std::vector<std::string> order, stack;
    std::function<void(const std::string&)> visit = [&](const std::string& n) {
      colour[n] = 1;
      stack.push_back(n);
      const sema::Package* p = c_.program->package(n);
      if (p) {
        for (const std::string& dep : std::vector<std::string>(p->imports)) {
          if (colour[dep] == 1) {
            auto from = std::find(stack.begin(), stack.end(), dep);
            std::string cycle;
            for (auto it = from; it != stack.end(); ++it) cycle += *it + " → ";
            cycle += dep;
            c_.diags.report(diag::Code::E0102, import_spans_[{n, dep}], "import cycle: " + cycle)
                .with_hint("move the shared definitions into a package that both can import");
          } else if (colour[dep] == 0) {
            visit(dep);
          }
        }
      }
      stack.pop_back();
      colour[n] = 2;
      order.push_back(n);
    };
    std::vector<std::string> names;
    for (auto& p : pkgs) names.push_back(p.name);
    for (auto& n : names)
      if (colour[n] == 0) visit(n);
    std::vector<sema::Package> sorted;
    for (auto& n : order)
      for (auto& p : pkgs)
        if (p.name == n) sorted.push_back(std::move(p));
    pkgs = std::move(sorted);
  }

  Compilation& c_;
  std::string stdlib_;
  std::vector<std::string> package_dirs_;
  bool follow_symlinks_ = false;
  std::set<std::string> loaded_dirs_;
  std::map<std::string, sema::Manifest> manifests_;
  std::map<std::pair<std::string, std::string>, source::Span> import_spans_;
};

}  // namespace

std::unique_ptr<Compilation> check(const CheckOptions& opts) {
  auto c = std::make_unique<Compilation>();
  Loader loader(*c, opts);
  for (const std::string& in : opts.inputs) loader.add_input(in);
  loader.finish();
  if (!c->parse_gave_up()) sema::check_program(*c);
  c->diags.sort();
  return c;
}

std::unique_ptr<Compilation> parse_text(const std::string& path, const std::string& text) {
  auto c = std::make_unique<Compilation>();
  Loader loader(*c, CheckOptions{});
  loader.add_text(path, text);
  return c;
}

std::unique_ptr<Compilation> check_text(const std::string& path, const std::string& text) {
  auto c = std::make_unique<Compilation>();
  Loader loader(*c, CheckOptions{});
  loader.add_text(path, text);
  loader.finish();
  if (!c->parse_gave_up()) sema::check_program(*c);
  c->diags.sort();
  return c;
}

}  // namespace orgos::driver
