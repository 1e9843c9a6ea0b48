#include "runtime/workflow/project_identity.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "compiler/sema/manifest.h"

namespace orgos::workflow {

namespace {
constexpr const char* kMetaKey = "project";

// A recorded identity comes from the store file, which may have been edited: a message names at most this
// many bytes of a name and this many orgs (a 10 MB name was printed whole).
constexpr size_t kNameShown = 80;
constexpr size_t kOrgsShown = 8;

std::string clip(const std::string& s) {
  if (s.size() <= kNameShown) return s;
  size_t cut = kNameShown;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 char
  return s.substr(0, cut) + "… (" + std::to_string(s.size()) + " bytes)";
}
}  // namespace

std::string ProjectIdentity::describe() const {
  std::string orgs_text;
  for (size_t i = 0; i < orgs.size() && i < kOrgsShown; ++i) orgs_text += (i ? ", " : "") + clip(orgs[i]);
  if (orgs.size() > kOrgsShown) orgs_text += " and " + std::to_string(orgs.size() - kOrgsShown) + " more";
  std::string org_part = orgs.empty() ? "" : std::string(orgs.size() == 1 ? "org " : "orgs ") + orgs_text;
  if (name.empty()) return org_part.empty() ? "(a project without a name or orgs)" : "(" + org_part + ")";
  return "`" + clip(name) + "`" + (org_part.empty() ? "" : " (" + org_part + ")");
}

bool ProjectIdentity::differs_from(const ProjectIdentity& other) const {
  if (!name.empty() && !other.name.empty() && name != other.name) return true;
  if (orgs.empty() || other.orgs.empty()) return false;
  // A renamed or added org in a new version leaves the others: only no org in common is another project.
  for (const std::string& o : orgs)
    if (std::find(other.orgs.begin(), other.orgs.end(), o) != other.orgs.end()) return false;
  return true;
}

std::string project_name(const std::string& input) {
  std::error_code ec;
  std::filesystem::path dir(input.empty() ? "." : input);
  if (!std::filesystem::is_directory(dir, ec) || !std::filesystem::exists(dir / sema::kManifestName, ec))
    return "";
  source::SourceManager sm;
  diag::DiagnosticEngine de;
  auto m = sema::read_manifest(dir.string(), sm, de);
  return m ? m->name : "";
}

ProjectIdentity project_identity(const bundle::Bundle& b, const std::string& name) {
  ProjectIdentity id;
  id.name = name;
  for (const auto& o : b.program.orgs) id.orgs.push_back(o.name);
  std::sort(id.orgs.begin(), id.orgs.end());
  id.orgs.erase(std::unique(id.orgs.begin(), id.orgs.end()), id.orgs.end());
  return id;
}

void record_project(store::Store& s, const ProjectIdentity& id) {
  s.put_meta(kMetaKey, nlohmann::json{{"name", id.name}, {"orgs", id.orgs}}.dump());
}

bool must_record_project(store::Store& s, const ProjectIdentity& id) {
  auto recorded = s.meta(kMetaKey);
  // A new store, or one made before stores knew their project: it becomes this project's at its first
  // open for writing (a reader writes nothing).
  if (!recorded) return !s.read_only() && id.known();
  ProjectIdentity stored;
  auto j = nlohmann::json::parse(*recorded, nullptr, false);
  if (!j.is_object() || !j.value("name", nlohmann::json()).is_string() ||
      !j.value("orgs", nlohmann::json()).is_array())
    throw store::StoreError("its `meta` row `project` (" + recorded->substr(0, 200) +
                                ") is not the project identity a store records: the store is damaged or was "
                                "edited; restore a backup",
                            store::StoreFault::Damaged);
  stored.name = j["name"].get<std::string>();
  for (const auto& o : j["orgs"])
    if (o.is_string()) stored.orgs.push_back(o.get<std::string>());
  if (stored.differs_from(id))
    throw store::StoreError("the store belongs to another project: it was made by " + stored.describe() +
                                ", and this is " + id.describe() +
                                "; open it with the project that made it, or give this project a store of "
                                "its own (a new --db file)",
                            store::StoreFault::OtherProject);
  // Made by the project's single file or bundle (no name), now opened as the project folder: the name is
  // learnt, so that from now on another project under the same orgs is told apart.
  return stored.name.empty() && !id.name.empty() && !s.read_only();
}

}  // namespace orgos::workflow
