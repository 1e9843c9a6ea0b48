// What an organization group looks like once its relations are followed: effective (look-through)
// ownership, who controls whom, and which orgs are subsidiaries to be consolidated. Derived from the
// `owns` / `controls` / `manages` / `licenses ip to` relations, never typed in.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "compiler/syntax/ast/decl.h"

namespace orgos::sema {

struct OrgFacts {
  std::string name;
  // Effective ownership of other orgs through every chain of holdings: A owns 60% of B which owns
  // 50% of C gives A 30% of C (plus any direct share).
  std::map<std::string, double> effective_ownership;
  // Orgs this one controls: directly (`controls`), by a majority of votes it holds or controls, and
  // through the orgs it controls (control is transitive).
  std::vector<std::string> controls;
  std::vector<std::string> subsidiaries;  // controlled orgs (consolidated into this one's accounts)
  std::string parent;                     // the org that controls this one and is itself not controlled
  std::vector<std::string> managed;       // management agreements (`manages`)
  std::vector<std::string> licensees;     // `licenses ip to`
};

// Facts for every org, in declaration order.
std::vector<OrgFacts> derive_org_structure(const std::vector<const ast::OrgDecl*>& orgs);

}  // namespace orgos::sema
