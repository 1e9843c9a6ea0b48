#include "compiler/sema/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace orgos;

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("orgos-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) { std::ofstream(path / name) << text; }
  static inline int counter = 0;
};
}  // namespace

TEST(Manifest, ReadsNameVersionAndDependencies) {
  TempDir d;
  d.write("orgos.yaml",
          "name: acme\nversion: 1.2.0\ndependencies:\n  std.finance: \"^1.0.0\"\nscenario: s.yaml\n");
  source::SourceManager sm;
  diag::DiagnosticEngine de;
  auto m = sema::read_manifest(d.path.string(), sm, de);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "acme");
  EXPECT_EQ(m->version, "1.2.0");
  EXPECT_EQ(m->dependencies.at("std.finance"), "^1.0.0");
  EXPECT_EQ(m->scenario, "s.yaml");
}

TEST(Manifest, BadYamlIsE0100WithLineAndColumn) {
  TempDir d;
  d.write("orgos.yaml", "name: acme\nversion: [1, 2\n");
  source::SourceManager sm;
  diag::DiagnosticEngine de;
  EXPECT_FALSE(sema::read_manifest(d.path.string(), sm, de));
  ASSERT_EQ(de.all().size(), 1u);
  EXPECT_EQ(de.all()[0].code, diag::Code::E0100);
  EXPECT_GE(de.all()[0].span.line, 2u);
}

TEST(Manifest, MissingFieldsAndBadValuesAreReported) {
  TempDir d;
  d.write("orgos.yaml", "name: Acme Corp\n");
  source::SourceManager sm;
  diag::DiagnosticEngine de;
  EXPECT_FALSE(sema::read_manifest(d.path.string(), sm, de));
  EXPECT_EQ(de.error_count(), 2u);  // no version; invalid name
}

TEST(Manifest, VersionsAreSemantic) {
  EXPECT_TRUE(sema::valid_version("1.2.0"));
  EXPECT_TRUE(sema::valid_version("0.1.0-beta.1"));
  EXPECT_FALSE(sema::valid_version("1.2"));
  EXPECT_FALSE(sema::valid_version("01.2.3"));
}

TEST(Stdlib, EveryPackageIsDocumented) {
  std::ifstream in(std::string(ORGOS_SOURCE_DIR) + "/docs/stdlib.md");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  for (auto& e : std::filesystem::directory_iterator(std::string(ORGOS_SOURCE_DIR) + "/stdlib")) {
    if (!std::filesystem::exists(e.path() / "orgos.yaml")) continue;
    std::string heading = "## std." + e.path().filename().string();
    EXPECT_NE(doc.find(heading), std::string::npos) << "docs/stdlib.md has no section " << heading;
  }
}
