#include "compiler/sema/manifest.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>

#include "compiler/source/safe_yaml.h"

namespace orgos::sema {
namespace {

source::Span span_at(const source::SourceManager& sm, source::FileId f, const YAML::Mark& m) {
  source::Span s;
  s.file = f;
  if (m.line < 0) {
    s.line = 1;
    s.col = 1;
    return s;
  }
  s.line = static_cast<uint32_t>(m.line) + 1;
  s.col = static_cast<uint32_t>(m.column) + 1;
  const auto& file = sm.file(f);
  uint32_t off = s.line - 1 < file.line_starts.size() ? file.line_starts[s.line - 1] + s.col - 1 : 0;
  if (off > file.text.size()) off = static_cast<uint32_t>(file.text.size());
  s.begin = off;
  s.end = off + 1;
  return s;
}

}  // namespace

bool valid_package_name(const std::string& name) {
  // Lower-case words of [a-z0-9_], each starting with a letter, joined by single dots.
  bool word_start = true;
  for (char c : name) {
    if (c == '.') {
      if (word_start) return false;
      word_start = true;
      continue;
    }
    bool letter = c >= 'a' && c <= 'z';
    if (word_start ? !letter : !(letter || (c >= '0' && c <= '9') || c == '_')) return false;
    word_start = false;
  }
  return !word_start;
}

bool valid_version(const std::string& v) {
  // MAJOR.MINOR.PATCH without leading zeros, then an optional -prerelease of [0-9A-Za-z.-].
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == start || (i - start > 1 && v[start] == '0')) return false;
    if (part < 2) {
      if (i >= v.size() || v[i] != '.') return false;
      ++i;
    }
  }
  if (i == v.size()) return true;
  if (v[i] != '-' || i + 1 == v.size()) return false;
  for (++i; i < v.size(); ++i) {
    char c = v[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return false;
  }
  return true;
}

std::optional<Manifest> read_manifest(const std::string& dir, source::SourceManager& sm,
                                      diag::DiagnosticEngine& de, bool follow_symlinks) {
  std::string path = (std::filesystem::path(dir) / kManifestName).string();
  source::ReadPolicy policy;  // a regular text file of bounded size, inside its folder
  policy.root = dir;
  policy.follow_symlinks = follow_symlinks;
  source::ReadResult why;
  auto fid = sm.load(path, policy, &why);
  if (!fid) {
    de.report(diag::Code::E0005, {}, why.message).with_hint(why.hint);
    return std::nullopt;
  }
  Manifest m;
  m.dir = dir;
  m.file = *fid;
  // Checked before it is built: no aliases, bounded size and depth (a manifest comes with a project).
  source::YamlDocument doc = source::load_yaml(sm.file(*fid).text);
  if (!doc.ok) {
    YAML::Mark mark = YAML::Mark::null_mark();
    if (doc.problem.line > 0) {
      mark.line = doc.problem.line - 1;
      mark.column = doc.problem.column > 0 ? doc.problem.column - 1 : 0;
    }
    de.report(diag::Code::E0100, span_at(sm, *fid, mark), "the manifest is refused: " + doc.problem.message)
        .with_hint("orgos.yaml is a YAML mapping with at least `name:` and `version:`");
    return std::nullopt;
  }
  YAML::Node root = doc.root;
  if (!root.IsMap()) {
    de.report(diag::Code::E0100, span_at(sm, *fid, root.Mark()), "the manifest must be a YAML mapping")
        .with_hint("write `name: my.package` and `version: 0.1.0` on their own lines");
    return std::nullopt;
  }
  bool ok = true;
  auto str_field = [&](const char* key, std::string& out, bool required) {
    YAML::Node n = root[key];
    if (!n) {
      if (required) {
        de.report(diag::Code::E0100, span_at(sm, *fid, root.Mark()),
                  std::string("the manifest has no `") + key + "`")
            .with_hint(std::string("add a line `") + key + ": ...`");
        ok = false;
      }
      return;
    }
    if (!n.IsScalar()) {
      de.report(diag::Code::E0100, span_at(sm, *fid, n.Mark()),
                std::string("`") + key + "` must be a single value");
      ok = false;
      return;
    }
    out = n.Scalar();
  };
  str_field("name", m.name, true);
  str_field("version", m.version, true);
  str_field("description", m.description, false);
  str_field("scenario", m.scenario, false);
  if (!m.name.empty() && !valid_package_name(m.name)) {
    de.report(diag::Code::E0100, span_at(sm, *fid, root["name"].Mark()),
              "`" + m.name + "` is not a valid package name")
        .with_hint("use lower-case words joined by dots, like `acme` or `acme.spend`");
    ok = false;
  }
  if (!m.version.empty() && !valid_version(m.version)) {
    de.report(diag::Code::E0100, span_at(sm, *fid, root["version"].Mark()),
              "`" + m.version + "` is not a semantic version")
        .with_hint("write MAJOR.MINOR.PATCH, like `1.2.0`");
    ok = false;
  }
  if (YAML::Node deps = root["dependencies"]) {
    if (deps.IsMap()) {
      for (auto it = deps.begin(); it != deps.end(); ++it) {
        std::string k = it->first.IsScalar() ? it->first.Scalar() : "";
        std::string v = it->second.IsScalar() ? it->second.Scalar() : "";
        if (k.empty() || !valid_package_name(k) || !it->second.IsScalar()) {
          de.report(diag::Code::E0100, span_at(sm, *fid, it->first.Mark()), "invalid dependency entry")
              .with_hint("write `package.name: \"^1.0.0\"`");
          ok = false;
          continue;
        }
        m.dependencies[k] = v;
      }
    } else if (deps.IsSequence()) {
      for (auto n : deps) {
        if (!n.IsScalar() || !valid_package_name(n.Scalar())) {
          de.report(diag::Code::E0100, span_at(sm, *fid, n.Mark()), "invalid dependency entry")
              .with_hint("list package names, like `- std.finance`");
          ok = false;
          continue;
        }
        m.dependencies[n.Scalar()] = "*";
      }
    } else if (!deps.IsNull()) {
      de.report(diag::Code::E0100, span_at(sm, *fid, deps.Mark()),
                "`dependencies` must be a mapping or a list");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return m;
}

}  // namespace orgos::sema
