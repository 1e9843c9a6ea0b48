// A host opening a compiled bundle (.orgb) gets it only if it is sealed with this machine's bundle key: a
// bundle carries native code, and an edited one is an error, never run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "embed_support.h"
#include "orgos/orgos.hpp"

namespace {

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const std::string& path, const std::string& b) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << b;
}

// The key of this test, not the user's; the variable is put back as it was.
struct OwnKey {
  std::string saved;
  bool had = false;
  explicit OwnKey(const std::string& path) {
    if (const char* v = std::getenv("ORGOS_BUNDLE_KEY")) had = true, saved = v;
    setenv("ORGOS_BUNDLE_KEY", path.c_str(), 1);
  }
  ~OwnKey() {
    if (had)
      setenv("ORGOS_BUNDLE_KEY", saved.c_str(), 1);
    else
      unsetenv("ORGOS_BUNDLE_KEY");
  }
};

}  // namespace

TEST(SealedBundle, AHostOpensOnlyABundleSealedWithTheLocalKey) {
  orgos::embed_test::TempDir d;
  OwnKey key(d.file("bundle.key"));
  std::string src = d.file("p.org");
  write(src, "fn double(x: Int) -> Int = x * 2\nmetric m = double(21)\n");
  {
    auto compiled = orgos::Organization::open(src);  // writes the sealed bundle p.orgb next to it
    ASSERT_TRUE(compiled) << compiled.error().message;
  }
  std::string orgb = d.file("p.orgb"), sealed = bytes(orgb);
  ASSERT_EQ(sealed.substr(0, 8), "ORGBSEAL");
  {
    auto opened = orgos::Organization::open(orgb);
    ASSERT_TRUE(opened) << opened.error().message;
  }
  // One edited byte (the bundle's own checksum cannot tell: only the seal can): an error, not loaded.
  std::string edited = sealed;
  edited[edited.size() / 2] ^= 0x01;
  write(orgb, edited);
  auto refused = orgos::Organization::open(orgb);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("does not authenticate"), std::string::npos)
      << refused.error().message;
  // Sealed with another key (another machine): refused the same way.
  write(orgb, sealed);
  OwnKey other(d.file("other.key"));
  auto foreign = orgos::Organization::open(orgb);
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("does not authenticate"), std::string::npos)
      << foreign.error().message;
}
