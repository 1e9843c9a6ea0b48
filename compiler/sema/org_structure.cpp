// Control follows the usual consolidation test (IFRS 10 / ASC 810 in their simplest form): an org
// controls another when it holds, directly or through orgs it already controls, more than half of the
// shares, or when a `controls` relation says so. Effective ownership multiplies shares along chains.
#include "compiler/sema/org_structure.h"

#include <cmath>
#include <cstdlib>
#include <set>

namespace orgos::sema {

std::vector<OrgFacts> derive_org_structure(const std::vector<const ast::OrgDecl*>& orgs) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < orgs.size(); ++i) index.emplace(orgs[i]->name.text, i);
  const size_t n = orgs.size();
  // share[i][j]: direct share of j held by i, as a fraction.
  std::vector<std::vector<double>> share(n, std::vector<double>(n, 0.0));
  std::vector<std::set<size_t>> direct_control(n);
  std::vector<OrgFacts> facts(n);
  for (size_t i = 0; i < n; ++i) {
    facts[i].name = orgs[i]->name.text;
    for (const ast::OrgRelation& r : orgs[i]->relations) {
      auto it = index.find(r.target.str());
      if (it == index.end() || it->second == i) continue;  // unknown or self: reported by the checks
      size_t j = it->second;
      switch (r.kind) {
        case ast::RelationKind::Owns:
          share[i][j] += std::strtod(r.percent.c_str(), nullptr) / 100.0;
          break;
        case ast::RelationKind::Controls:
          direct_control[i].insert(j);
          break;
        case ast::RelationKind::Manages:
          facts[i].managed.push_back(r.target.str());
          break;
        case ast::RelationKind::LicensesIpTo:
          facts[i].licensees.push_back(r.target.str());
          break;
      }
    }
  }
  // Effective ownership: sum over chains of the product of shares. Cross-holdings (cycles) make this a
  // fixed point E = S + S·E; iterate until it settles (shares below 100% make the series converge).
  std::vector<std::vector<double>> eff = share;
  for (int round = 0; round < 64; ++round) {
    double change = 0;
    std::vector<std::vector<double>> next = share;
    for (size_t i = 0; i < n; ++i)
      for (size_t k = 0; k < n; ++k)
        if (share[i][k] > 0)
          for (size_t j = 0; j < n; ++j)
            if (j != i) next[i][j] += share[i][k] * eff[k][j];
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) {
        if (next[i][j] > 1.0) next[i][j] = 1.0;
        change += std::abs(next[i][j] - eff[i][j]);
      }
    eff = std::move(next);
    if (change < 1e-12) break;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (i != j && eff[i][j] > 1e-12) facts[i].effective_ownership[orgs[j]->name.text] = eff[i][j] * 100.0;

  // Control: grow each org's controlled set until no more org passes the majority test.
  std::vector<std::set<size_t>> controlled(n);
  for (size_t i = 0; i < n; ++i) {
    std::set<size_t>& c = controlled[i];
    bool grew = true;
    while (grew) {
      grew = false;
      for (size_t j = 0; j < n; ++j) {
        if (j == i || c.count(j)) continue;
        bool by_relation = direct_control[i].count(j) > 0;
        for (size_t k : c) by_relation = by_relation || direct_control[k].count(j) > 0;
        double votes = share[i][j];
        for (size_t k : c) votes += share[k][j];
        if (by_relation || votes > 0.5) {
          c.insert(j);
          grew = true;
        }
      }
    }
    for (size_t j : c) {
      facts[i].controls.push_back(orgs[j]->name.text);
      facts[i].subsidiaries.push_back(orgs[j]->name.text);
    }
  }
  // The parent of an org: a controller that nobody else controls (the top of the group).
  for (size_t j = 0; j < n; ++j)
    for (size_t i = 0; i < n; ++i) {
      if (!controlled[i].count(j)) continue;
      bool top = true;
      for (size_t k = 0; k < n; ++k) top = top && !(k != i && controlled[k].count(i));
      if (top) facts[j].parent = orgs[i]->name.text;
    }
  return facts;
}

}  // namespace orgos::sema
