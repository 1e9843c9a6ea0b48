// Which project a store belongs to. A store records the identity of the project that made it (in `meta`,
// under `project`) the first time an engine opens it for writing; every later open compares: a store of
// another project is refused before anything is written to it, by read and write verbs alike. Another
// *version* of the same project is not another project (its state either decodes or is refused for that).
#pragma once
#include <string>
#include <vector>

#include "compiler/bundle/bundle.h"
#include "runtime/store/store.h"

namespace orgos::workflow {

struct ProjectIdentity {
  // The manifest's `name` (orgos.yaml); "" for a project without one (a single .org file, a bundle file),
  // which is then known by its org names alone.
  std::string name;
  std::vector<std::string> orgs;  // the names of the program's `org` declarations, sorted

  bool known() const { return !name.empty() || !orgs.empty(); }
  // One line for messages: `acme` (org Acme), or (org Acme) without a name.
  std::string describe() const;
  // True when `other` is surely another project: both name a project and the names differ, or both
  // declare orgs and share none of them. A missing part proves nothing either way.
  bool differs_from(const ProjectIdentity& other) const;
};

// The project's name as its manifest gives it: `input` is a project folder (or a .org file, or a bundle);
// "" when there is no readable orgos.yaml in the folder.
std::string project_name(const std::string& input);

// The identity of the program in `b`, under the project name `name` (see project_name).
ProjectIdentity project_identity(const bundle::Bundle& b, const std::string& name);

// Compares `id` with the identity `s` records. A store of another project is refused: throws StoreError
// (StoreFault::OtherProject) naming both; nothing is written. True when the store, open for writing, is
// to be given `id` (it records none: new, or made before stores knew their project; or one without a
// name): record_project does it once the store's state has been read with this project, so that a
// project that cannot read it (another one, before stores knew theirs) leaves no claim on it.
bool must_record_project(store::Store& s, const ProjectIdentity& id);
void record_project(store::Store& s, const ProjectIdentity& id);

}  // namespace orgos::workflow
