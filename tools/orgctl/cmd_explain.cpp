// orgctl explain RULE RECORD — why a rule fired or did not for one stored record: the store's records are
// loaded into the rules engine's network as on restart, and the network answers pattern by pattern.
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tools/orgctl/commands.h"

namespace orgctl {

void register_explain(CLI::App& app) {
  auto rule = std::make_shared<std::string>();
  auto record = std::make_shared<int64_t>(0);
  auto path = std::make_shared<std::string>(".");
  auto db = std::make_shared<std::string>();
  auto engine = std::make_shared<std::string>("jit");
  auto json_out = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("explain", "Why a rule fired or did not for one record of a store");
  cmd->add_option("rule", *rule, "the rule's name")->required();
  cmd->add_option("record", *record, "the record's id (as `orgctl run` traces it: #12)")
      ->required()
      ->transform(whole_number());
  cmd->add_option("path", *path, "project folder or bundle (default: .)");
  cmd->add_option("--db", *db, "the store (default: the project's .orgos/state.db)");
  add_engine_option(cmd, *engine);
  cmd->add_flag("--json", *json_out, "print JSON");
  cmd->footer(
      "Example:\n  orgctl explain flag_big_expense 12 examples/acme --db acme.db\nExit codes: 0, 1 source "
      "errors or an unknown rule or record, 3 no store.");
  cmd->callback(with_store_errors([rule, record, path, db, engine, json_out]() {
    auto o = open_project(*path, *db, *engine);
    orgos::workflow::RuleExplanation x;
    try {
      x = o->engine->explain(*rule, *record);
    } catch (const std::invalid_argument& e) {
      std::cerr << "error: " << e.what()
                << "\n  hint: rule names are those of the project's `rule` declarations; record ids are "
                   "the #N of `orgctl run` traces\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    if (*json_out) {
      const orgos::rules::Explanation& d = x.detail;
      nlohmann::json patterns = nlohmann::json::array();
      for (const orgos::rules::PatternReport& p : d.patterns) {
        nlohmann::json jp = {{"number", p.number},
                             {"kind", p.kind},
                             {"type", p.type},
                             {"of_record_type", p.of_fact_type},
                             {"partial_matches", p.partial_matches}};
        if (p.facts_passing >= 0) jp["facts_passing"] = p.facts_passing;
        if (p.of_fact_type) {
          jp["verdict"] = p.verdict;
          if (!p.field.empty()) jp["field"] = p.field;
          if (p.line) jp["line"] = p.line;
          if (!p.error.empty()) jp["error"] = p.error;
        }
        if (p.joined) {
          nlohmann::json join = {{"keyed", p.has_key}, {"same_key", p.same_key}, {"passing", p.passing_join}};
          if (p.join_failure_line) join["first_failure_line"] = p.join_failure_line;
          if (!p.join_error.empty()) join["error"] = p.join_error;
          jp["join"] = join;
        }
        patterns.push_back(jp);
      }
      nlohmann::json matches = nlohmann::json::array();
      for (const orgos::rules::MatchReport& m : d.matches)
        matches.push_back({{"key", m.key}, {"state", m.state}});
      nlohmann::json j = {{"rule", x.rule},
                          {"record", x.fact},
                          {"type", x.type},
                          {"salience", d.salience},
                          {"in_working_memory", d.in_memory},
                          {"record_type_in_rule", d.of_any_pattern},
                          {"fires", !d.matches.empty()},
                          {"patterns", patterns},
                          {"matches", matches},
                          {"lines", d.lines()}};
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << x.type << " #" << x.fact << "\n";
      for (const std::string& l : x.detail.lines()) std::cout << "  " << l << "\n";
    }
    throw CLI::RuntimeError(kExitOk);
  }));
}

}  // namespace orgctl
