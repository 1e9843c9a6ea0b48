// The embedding API as a host uses it: in process through <orgos/orgos.hpp>, and as an installed package
// (cmake --install, find_package(OrgOS), pkg-config) with the example host applications.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "orgos/orgos.h"
#include "orgos/orgos.hpp"
#include "tests/temp_dir.h"

namespace {
std::string example() {
  return std::string(ORGOS_SOURCE_DIR) + "/examples/acme";
}

struct Shell {
  int code;
  std::string out;
};
Shell sh(const std::string& cmd) {
  Shell r{0, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return r;
}
}  // namespace

TEST(Embed, CppApiDrivesAnOrganizationWithErrorsAsValues) {
  orgos::OpenOptions o;
  o.start_time = 1767600000;
  auto opened = orgos::Organization::open(example(), o);
  ASSERT_TRUE(opened) << opened.error().message;
  orgos::Organization org = std::move(opened.value());
  std::vector<std::string> lines;
  org.subscribe([&](const std::string& l) { lines.push_back(l); });
  auto r = org.post_event("expense.submitted",
                          R"({"expense": {"amount": "240 USD", "category": "meals", "unit": "Engineering",
                              "submitter": "noor", "purpose": "team lunch", "incurred_on": "2026-01-05"}})",
                          "system", "e1");
  ASSERT_TRUE(r) << r.error().message;
  auto tasks = org.tasks();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].role, "Manager");
  auto refused = org.decide(tasks[0].id, "dev", true, "d1");  // dev manages Sales, not Engineering
  EXPECT_FALSE(refused);
  EXPECT_TRUE(org.decide(tasks[0].id, "ben", true, "d2"));
  EXPECT_EQ(org.instances().at(0).status, "completed");
  EXPECT_FALSE(lines.empty());
  EXPECT_FALSE(org.post_event("expense.submitted", "{oops", "system", "e2"));
  EXPECT_FALSE(org.complete_task(424242, "ben", "", "", "c1"));
  auto missing = orgos::Organization::open("/nonexistent/project");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no such file"), std::string::npos) << missing.error().message;
}

TEST(Embed, CApi) {
  orgos_org* org = orgos_open(example().c_str(), nullptr);
  ASSERT_NE(org, nullptr) << orgos_open_error();
  EXPECT_EQ(orgos_post_event(org, "no.such.event", "{}", "system", "k"), 1);
  EXPECT_NE(std::string(orgos_last_error(org)).find("no event"), std::string::npos);
  EXPECT_EQ(std::string(orgos_tasks_json(org)), "[]");
  orgos_close(org);
  EXPECT_EQ(orgos_open(nullptr, nullptr), nullptr);
}

TEST(Embed, InstalledPackageBuildsTheExampleHosts) {
  orgos_test::TempDir dir("orgos-install");  // removed when the test ends, also after a failed ASSERT
  std::string tmp = dir.path().string();
  std::string bin = ORGOS_BINARY_DIR;
  auto inst = sh("cmake --install " + bin + " --prefix " + tmp + "/prefix");
  ASSERT_EQ(inst.code, 0) << inst.out;
  auto cfg = sh("cmake -S " + std::string(ORGOS_SOURCE_DIR) + "/examples/embed -B " + tmp +
                "/build -G Ninja "
                "-DCMAKE_PREFIX_PATH=" +
                tmp + "/prefix -DCMAKE_CXX_FLAGS='" + ORGOS_HOST_FLAGS + "' -DCMAKE_C_FLAGS='" +
                ORGOS_HOST_FLAGS + "' -DCMAKE_EXE_LINKER_FLAGS='" + ORGOS_HOST_FLAGS + "'");
  ASSERT_EQ(cfg.code, 0) << cfg.out;
  auto build = sh("cmake --build " + tmp + "/build");
  ASSERT_EQ(build.code, 0) << build.out;
  // The installed orgctl finds the installed standard library and templates.
  auto desk = sh("LD_LIBRARY_PATH=" + tmp + "/prefix/lib " + tmp + "/build/expense_desk " + example() + " " +
                 tmp + "/prefix/share/orgos/stdlib");
  EXPECT_EQ(desk.code, 0) << desk.out;
  EXPECT_NE(desk.out.find("approved_expenses = 1"), std::string::npos) << desk.out;
  EXPECT_NE(desk.out.find("bad input: the payload is not valid JSON"), std::string::npos) << desk.out;
  auto c = sh("LD_LIBRARY_PATH=" + tmp + "/prefix/lib " + tmp + "/build/c_host " + example());
  EXPECT_EQ(c.code, 0) << c.out;
  EXPECT_NE(c.out.find("error as value: no task #999999"), std::string::npos) << c.out;
  auto pc = sh("PKG_CONFIG_PATH=" + tmp + "/prefix/lib/pkgconfig pkg-config --cflags --libs orgos");
  EXPECT_EQ(pc.code, 0) << pc.out;
  EXPECT_NE(pc.out.find("-lorgos"), std::string::npos) << pc.out;
  auto created = sh(tmp + "/prefix/bin/orgctl new " + tmp + "/hello && " + tmp + "/prefix/bin/orgctl check " +
                    tmp + "/hello");
  EXPECT_EQ(created.code, 0) << created.out;
}

TEST(Embed, MovedFromOrganizationAnswersWithErrors) {
  auto opened = orgos::Organization::open(example());
  ASSERT_TRUE(opened) << opened.error().message;
  orgos::Organization moved = std::move(opened.value());
  orgos::Organization& old = opened.value();  // NOLINT(bugprone-use-after-move): that is the point
  auto s = old.post_event("expense.submitted", "{}", "system", "k");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("moved from"), std::string::npos) << s.error().message;
  EXPECT_FALSE(old.start("Recruit", "{}", "system", "k"));
  EXPECT_FALSE(old.decide(1, "ben", true, "k"));
  EXPECT_FALSE(old.metrics());
  EXPECT_TRUE(old.tasks().empty());
  EXPECT_TRUE(old.instances().empty());
  EXPECT_EQ(old.now(), 0);
  old.subscribe([](const std::string&) {});
  EXPECT_TRUE(moved.tasks().empty());  // the one it moved to works
  EXPECT_TRUE(moved.metrics());
}
