// A package manifest (orgos.yaml): the package's name, version, dependencies and, for projects, the
// default scenario that `orgctl run` plays. Read with yaml-cpp; every problem is a diagnostic E0100
// pointing at the line and column in the YAML file.
#pragma once
#include <map>
#include <optional>
#include <string>

#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace orgos::sema {

struct Manifest {
  std::string name;     // dotted: acme, std.finance
  std::string version;  // semantic version, e.g. 1.2.0
  std::string description;
  std::map<std::string, std::string> dependencies;  // package name → version requirement
  std::string scenario;                             // default scenario file, relative to the manifest
  std::string dir;                                  // folder holding the manifest
  source::FileId file = source::kNoFile;
};

inline constexpr const char* kManifestName = "orgos.yaml";

// Reads `dir/orgos.yaml`; nullopt (with diagnostics) when it is missing fields or is not valid YAML.
// `follow_symlinks`: read it even when it is a symlink leading out of `dir` (refused by default).
std::optional<Manifest> read_manifest(const std::string& dir, source::SourceManager& sm,
                                      diag::DiagnosticEngine& de, bool follow_symlinks = false);

// True for names like `acme`, `std.finance`, `acme.spend_2`.
bool valid_package_name(const std::string& name);
// True for MAJOR.MINOR.PATCH with an optional -prerelease.
bool valid_version(const std::string& v);

}  // namespace orgos::sema
