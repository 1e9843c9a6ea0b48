// orgctl tasks list|claim|complete|decide — the work people do: open tasks, reserving one, finishing it,
// deciding an approval. On a
// server (--connect) the token's actor acts; on a local store (--db) the --as actor does.
#include <iostream>

#include "runtime/net/protocol.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {

void print_task(const nlohmann::json& t) {
  std::string outcomes;
  for (auto& o : t["outcomes"]) outcomes += (outcomes.empty() ? "" : "|") + o.get<std::string>();
  std::string claimed = t["claimed_by"];
  std::cout << "#" << t["id"].get<int64_t>() << "\t" << t["process"].get<std::string>() << " #"
            << t["instance"].get<int64_t>() << "\t" << t["name"].get<std::string>() << "\t"
            << t["role"].get<std::string>() << "\t" << t["status"].get<std::string>()
            << (claimed.empty() ? "" : " (" + claimed + ")") << "\t"
            << (t["approval"].get<bool>() ? "approve|reject" : outcomes) << "\n";
}

}  // namespace

void register_tasks(CLI::App& app) {
  auto target = std::make_shared<Target>();
  auto json_out = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  auto id = std::make_shared<int64_t>(0);
  auto outcome = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto* cmd =
      app.add_subcommand("tasks", "Open tasks: list them, claim one, complete one, decide an approval");
  cmd->require_subcommand(1);

  auto* list = cmd->add_subcommand("list", "The open tasks (with --all, done and cancelled ones too)");
  add_target_options(list, *target, false);
  list->add_flag("--all", *all, "every task, not only the open ones");
  list->add_flag("--json", *json_out, "print JSON (an array of tasks)");
  list->footer(
      "Examples:\n  orgctl --connect tcp://127.0.0.1:7878 --token $T tasks list\n"
      "  orgctl tasks list examples/acme --db acme.db --json\n" +
      target_footer());
  list->callback([=]() {
    auto r = request(*target, {{"verb", "tasks.list"}, {"all", *all}});
    if (*json_out)
      std::cout << r.dump(2) << "\n";
    else if (r.empty())
      std::cout << "no open tasks\n";
    else
      for (auto& t : r) print_task(t);
    throw CLI::RuntimeError(kExitOk);
  });

  auto* claim = cmd->add_subcommand("claim", "Reserve an open task: from then on only you can complete it");
  claim->add_option("id", *id, "task id (see `tasks list`)")->required()->transform(whole_number());
  add_target_options(claim, *target, true);
  claim->add_option("--key", *key, "command id, so a retry is not applied twice (default: a fresh one)");
  claim->add_flag("--json", *json_out, "print JSON");
  claim->footer(
      "Examples:\n  orgctl --connect tcp://127.0.0.1:7878 --token $T tasks claim 12\n"
      "  orgctl tasks claim 12 examples/acme --db acme.db --as rae\n" +
      target_footer());
  claim->callback([=]() {
    nlohmann::json req{{"verb", "tasks.claim"}, {"task", *id}};
    if (!key->empty()) req["key"] = *key;
    auto r = request(*target, req);
    if (*json_out)
      std::cout << r.dump(2) << "\n";
    else
      std::cout << "claimed task #" << *id << (r.value("duplicate", false) ? " (already, by this key)" : "")
                << "\n";
    throw CLI::RuntimeError(kExitOk);
  });

  auto approve = std::make_shared<bool>(false);
  auto reject = std::make_shared<bool>(false);
  auto* decide = cmd->add_subcommand("decide", "Approve or reject an open approval");
  decide->add_option("id", *id, "approval task id (see `tasks list`)")->required()->transform(whole_number());
  add_target_options(decide, *target, true);
  auto* yes = decide->add_flag("--approve", *approve, "approve it");
  decide->add_flag("--reject", *reject, "reject it")->excludes(yes);
  decide->add_option("--key", *key, "command id, so a retry is not applied twice (default: a fresh one)");
  decide->add_flag("--json", *json_out, "print JSON");
  decide->footer(
      "Examples:\n  orgctl --connect tcp://127.0.0.1:7878 --token $T tasks decide 7 --approve\n"
      "  orgctl tasks decide 7 examples/acme --db acme.db --as ben --reject\n" +
      target_footer());
  decide->callback([=]() {
    if (*approve == *reject) {
      std::cerr << "error: say --approve or --reject\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    nlohmann::json req{{"verb", "approvals.decide"}, {"task", *id}, {"approve", *approve}};
    if (!key->empty()) req["key"] = *key;
    auto r = request(*target, req);
    if (*json_out)
      std::cout << r.dump(2) << "\n";
    else
      std::cout << (*approve ? "approved #" : "rejected #") << *id
                << (r.value("duplicate", false) ? " (already, by this key)" : "") << "\n";
    throw CLI::RuntimeError(kExitOk);
  });

  auto* complete = cmd->add_subcommand("complete", "Finish an open task with one of its outcomes");
  complete->add_option("id", *id, "task id (see `tasks list`)")->required()->transform(whole_number());
  add_target_options(complete, *target, true);
  complete->add_option("-o,--outcome", *outcome, "the outcome (default: the task's first)");
  complete->add_option("--data", *data, "fields of the task's result, a JSON object");
  complete->add_option("--key", *key, "command id, so a retry is not applied twice (default: a fresh one)");
  complete->add_flag("--json", *json_out, "print JSON");
  complete->footer(
      "Examples:\n  orgctl --connect tcp://127.0.0.1:7878 --token $T tasks complete 12 --outcome shortlist\n"
      "  orgctl tasks complete 12 examples/acme --db acme.db --as rae -o shortlist --key cmd-12\n" +
      target_footer());
  complete->callback([=]() {
    nlohmann::json req{{"verb", "tasks.complete"}, {"task", *id}};
    if (!outcome->empty()) req["outcome"] = *outcome;
    if (!key->empty()) req["key"] = *key;
    if (!data->empty()) {
      req["data"] = json_object_option(*data, "--data", R"({"note": "done"})");
    }
    auto r = request(*target, req);
    if (*json_out)
      std::cout << r.dump(2) << "\n";
    else
      std::cout << "completed task #" << *id << (r.value("duplicate", false) ? " (already, by this key)" : "")
                << "\n";
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
