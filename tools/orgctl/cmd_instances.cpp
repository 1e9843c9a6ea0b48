// orgctl instances list|show and orgctl metrics — read a store's state through the engine: process
// instances (with the history of one, rebuilt by replaying the input log) and the KPIs.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "compiler/syntax/literal.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"
#include "runtime/workflow/views_json.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

namespace {

// The store to read: --db, or the project's own (.orgos/state.db) when it has one. `served`: the verb
// also runs on a server, so --connect is a way out to name (not for `instances show`).
std::string need_db(const std::string& db, const std::string& path, bool served = true) {
  if (db.empty() && !globals().connect.empty()) {
    std::cerr << "error: `instances show` replays the store itself and cannot run on a server\n  hint: run "
                 "it where the store is, with --db FILE\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  if (db.empty() && std::filesystem::exists(project_store(path))) return project_store(path);
  if (db.empty()) {
    std::cerr << "error: no store given, and the project has none at " << project_store(path)
              << "\n  hint: add --db FILE (the store of a run)"
              << (served ? ", or --connect URL for a server" : "") << "\n";
    throw CLI::RuntimeError(kExitUsage);
  }
  return db;
}

std::string when(int64_t t) {
  if (t == 0) return "-";
  int64_t days = t / 86400;
  return orgos::syntax::format_date(days);
}

}  // namespace

void register_instances(CLI::App& app) {
  auto path = std::make_shared<std::string>(".");
  auto db = std::make_shared<std::string>();
  auto engine = std::make_shared<std::string>("jit");
  auto json_out = std::make_shared<bool>(false);
  auto id = std::make_shared<int64_t>(0);
  auto* cmd =
      app.add_subcommand("instances", "List process instances of a store, or show one with its history");
  cmd->require_subcommand(1);
  auto* list = cmd->add_subcommand("list", "Every process instance: id, process, status, start and end");
  list->add_option("path", *path, "project folder (default: .)");
  list->add_option("--db", *db, "the store (or --connect URL: a server's)");
  add_engine_option(list, *engine);
  list->add_flag("--json", *json_out, "print JSON");
  list->footer(
      "Examples:\n  orgctl instances list examples/acme --db acme.db\n"
      "  orgctl --connect tcp://127.0.0.1:7878 --token $T instances list --json\n"
      "Exit codes: 0, 1 source errors, 2 neither --db nor --connect, 3 no store or no server, 4 refused.");
  list->callback(with_store_errors([path, db, engine, json_out]() {
    std::vector<orgos::workflow::InstanceView> instances;
    if (!globals().connect.empty()) {
      for (auto& i : request(Target{*path, *db, *engine, ""}, {{"verb", "instances.list"}}))
        instances.push_back({i["id"], i["process"], i["status"], i["error"], i["started_at"], i["ended_at"]});
    } else {
      instances = open_project(*path, need_db(*db, *path), *engine)->engine->instances();
    }
    nlohmann::json a = nlohmann::json::array();
    for (auto& i : instances) {
      if (*json_out)
        a.push_back(i);
      else
        std::cout << "#" << i.id << "\t" << i.process << "\t" << i.status << "\t" << when(i.started_at)
                  << " → " << when(i.ended_at) << (i.error.empty() ? "" : "\t" + i.error) << "\n";
    }
    if (*json_out) std::cout << a.dump(2) << "\n";
    throw CLI::RuntimeError(kExitOk);
  }));
  auto* show = cmd->add_subcommand("show", "One instance and its history (replayed from the input log)");
  show->add_option("id", *id, "instance id")->required()->transform(whole_number());
  show->add_option("path", *path, "project folder (default: .)");
  show->add_option("--db", *db, "the store");
  add_engine_option(show, *engine);
  show->footer(
      "Example:\n  orgctl instances show 12 examples/acme --db acme.db\nExit codes: 0, 1 no such instance, "
      "3 no store.");
  show->callback(with_store_errors([path, db, engine, id]() {
    auto o = open_project(*path, need_db(*db, *path, false), *engine);
    bool found = false;
    for (auto& i : o->engine->instances())
      if (i.id == *id) {
        found = true;
        std::cout << i.process << " #" << i.id << ": " << i.status
                  << (i.error.empty() ? "" : " (" + i.error + ")") << "\n";
      }
    if (!found) {
      std::cerr << "error: no instance #" << *id << "\n  hint: `orgctl instances list` shows them\n";
      throw CLI::RuntimeError(kExitInputErrors);
    }
    // The history: the replayed trace lines that name this instance or its tasks.
    std::string tag = "#" + std::to_string(*id);
    std::set<std::string> tasks;
    for (auto& t : o->engine->tasks(false))
      if (t.instance == *id) tasks.insert("#" + std::to_string(t.id));
    orgos::workflow::EngineOptions replay_opts;
    replay_opts.exec = exec_engine(*engine);
    for (const std::string& line : orgos::workflow::Engine::replay(o->bundle, *o->store, replay_opts)) {
      auto mentions = [&](const std::string& t) {
        auto p = line.find(t);
        return p != std::string::npos && (p + t.size() == line.size() || !std::isdigit(line[p + t.size()]));
      };
      bool hit = mentions(tag);
      for (auto& t : tasks) hit = hit || mentions(t);
      if (hit) std::cout << "  " << line << "\n";
    }
    throw CLI::RuntimeError(kExitOk);
  }));
}

void register_metrics(CLI::App& app) {
  auto path = std::make_shared<std::string>(".");
  auto db = std::make_shared<std::string>();
  auto engine = std::make_shared<std::string>("jit");
  auto json_out = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("metrics", "The KPIs of a store's organization, computed now");
  cmd->add_option("path", *path, "project folder (default: .)");
  cmd->add_option("--db", *db, "the store (or --connect URL: a server's)");
  add_engine_option(cmd, *engine);
  cmd->add_flag("--json", *json_out, "print JSON");
  cmd->footer(
      "Examples:\n  orgctl metrics examples/acme --db acme.db --json\n"
      "  orgctl --connect tcp://127.0.0.1:7878 --token $T metrics\n"
      "Exit codes: 0, 1 source errors, 2 neither --db nor --connect, 3 no store or no server, 4 refused.");
  cmd->callback(with_store_errors([path, db, engine, json_out]() {
    // The KPIs in the one shape the server's metrics.get and the C API give (views_json.h).
    nlohmann::json kpis = nlohmann::json::array();
    if (!globals().connect.empty())
      kpis = request(Target{*path, *db, *engine, ""}, {{"verb", "metrics.get"}});
    else
      for (auto& k : open_project(*path, need_db(*db, *path), *engine)->engine->kpis()) kpis.push_back(k);
    if (*json_out)
      std::cout << kpis.dump(2) << "\n";
    else
      for (auto& k : kpis) std::cout << k.value("name", "") << " = " << k.value("value", "") << "\n";
    throw CLI::RuntimeError(kExitOk);
  }));
}

}  // namespace orgctl
