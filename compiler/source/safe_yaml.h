// Reading YAML that a user or a downloaded project supplies (scenario files, orgos.yaml manifests)
// without trusting it. yaml-cpp expands aliases when a document is walked: a 700-byte "billion laughs"
// file asks for gigabytes and a recursive alias overflows the stack. So the text is first scanned with
// the event parser, which reports aliases without expanding them; any alias, nesting deeper than
// kMaxYamlDepth or a file over kMaxYamlBytes is refused before a single node is built.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>

namespace orgos::source {

// Far above any hand-written scenario or manifest (the largest shipped scenario is a few kilobytes).
inline constexpr size_t kMaxYamlBytes = 4u << 20;
// Scenarios and manifests nest a handful of levels; the limit keeps every recursive walk shallow.
inline constexpr int kMaxYamlDepth = 64;

struct YamlProblem {
  std::string message;  // what is wrong and what to do
  int line = 0;         // 1-based; 0 when the problem concerns the file as a whole
  int column = 0;       // 1-based; 0 when unknown
};

struct YamlDocument {
  YAML::Node root;
  bool ok = false;
  YamlProblem problem;  // set when !ok
  // "path:line:col: message" (or "path: message" without a position).
  std::string describe(const std::string& path) const;
};

// Checks and loads YAML text (the first document).
YamlDocument load_yaml(const std::string& text);
// Reads a regular file of at most kMaxYamlBytes, then as load_yaml. A missing file, a directory, a FIFO
// or a device is refused with a message that says so.
YamlDocument load_yaml_file(const std::string& path);

}  // namespace orgos::source
