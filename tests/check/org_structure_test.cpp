#include "compiler/sema/org_structure.h"

#include <gtest/gtest.h>

#include "compiler/driver/compilation.h"

using namespace orgos;

namespace {
// The facts hold names only, but the AST they were derived from must outlive the call.
std::vector<std::unique_ptr<driver::Compilation>> keep_;
std::vector<sema::OrgFacts> derive(const std::string& text) {
  auto c = driver::parse_text("orgs.org", text);
  std::vector<const ast::OrgDecl*> orgs;
  for (auto& d : c->files[0].module->decls)
    if (d->kind == ast::DeclKind::Org) orgs.push_back(ast::as<ast::OrgDecl>(d.get()));
  auto facts = sema::derive_org_structure(orgs);
  keep_.push_back(std::move(c));
  return facts;
}
}  // namespace

TEST(OrgStructure, EffectiveOwnershipMultipliesAlongChains) {
  auto f = derive("org Holding { owns OpCo 60% }\norg OpCo { owns IPCo 50% }\norg IPCo {}\n");
  EXPECT_NEAR(f[0].effective_ownership.at("OpCo"), 60.0, 1e-9);
  EXPECT_NEAR(f[0].effective_ownership.at("IPCo"), 30.0, 1e-9);
}

TEST(OrgStructure, MajorityHeldThroughControlledOrgsGivesControl) {
  // Holding owns 30% of Target directly and controls OpCo, which owns another 25%: 55% of the votes.
  auto f =
      derive("org Holding { owns OpCo 80% owns Target 30% }\norg OpCo { owns Target 25% }\norg Target {}\n");
  EXPECT_EQ(f[0].subsidiaries, (std::vector<std::string>{"OpCo", "Target"}));
  EXPECT_EQ(f[2].parent, "Holding");
  EXPECT_EQ(f[1].parent, "Holding");
}

TEST(OrgStructure, MinorityIsNotControlUnlessDeclared) {
  auto f = derive("org A { owns B 40% }\norg B {}\norg C { owns D 10% controls D }\norg D {}\n");
  EXPECT_TRUE(f[0].subsidiaries.empty());
  EXPECT_EQ(f[2].subsidiaries, std::vector<std::string>{"D"});
  EXPECT_EQ(f[3].parent, "C");
}

TEST(OrgStructure, CrossHoldingsConverge) {
  auto f = derive("org A { owns B 50% }\norg B { owns A 10% owns C 100% }\norg C {}\n");
  // Chains that come back to the owner are its own (treasury) shares and are not counted: A's
  // look-through share of C is 50% of B's 100%; B's share of C through A is 10% of A's 50% of 100%.
  EXPECT_NEAR(f[0].effective_ownership.at("C"), 50.0, 1e-9);
  EXPECT_NEAR(f[1].effective_ownership.at("C"), 100.0, 1e-9);
  EXPECT_EQ(f[1].effective_ownership.count("B"), 0u);  // nobody owns a share of itself
}
