// orgctl events post|tail — put an event into the organization, or watch what a server's engine does.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>

#include "runtime/net/client.h"
#include "runtime/net/protocol.h"
#include "tools/orgctl/commands.h"

namespace orgctl {

void register_events(CLI::App& app) {
  auto target = std::make_shared<Target>();
  auto json_out = std::make_shared<bool>(false);
  auto name = std::make_shared<std::string>();
  auto payload = std::make_shared<std::string>("{}");
  auto key = std::make_shared<std::string>();
  auto count = std::make_shared<int64_t>(0);
  auto timeout = std::make_shared<double>(0);
  auto* cmd = app.add_subcommand("events", "Post an event, or follow a server's event stream");
  cmd->require_subcommand(1);

  auto* post = cmd->add_subcommand("post", "Post an event (its rules and waiting processes react at once)");
  post->add_option("name", *name, "event name, e.g. expense.submitted")->required();
  add_target_options(post, *target, true);
  post->add_option("-p,--payload", *payload, "the event's fields, a JSON object (default: {})");
  post->add_option(
      "--key", *key,
      "event id: posting the same id again is recognised and not applied twice (default: a fresh "
      "one)");
  post->add_flag("--json", *json_out, "print JSON");
  post->footer(
      "Examples:\n  orgctl --connect tcp://127.0.0.1:7878 --token $T events post supply.stock.low "
      "--payload '{\"sku\": \"laptop\", \"on_hand\": 2}' --key stock-1\n"
      "  orgctl events post supply.stock.low examples/acme --db acme.db --as system -p '{\"sku\": \"desk\", "
      "\"on_hand\": 1}'\n" +
      target_footer());
  post->callback([=]() {
    nlohmann::json p = json_object_option(*payload, "--payload", R"({"note": "taxi"})");
    nlohmann::json req{{"verb", "events.post"}, {"name", *name}, {"payload", p}};
    if (!key->empty()) req["key"] = *key;
    auto r = request(*target, req);
    if (*json_out)
      std::cout << r.dump(2) << "\n";
    else
      std::cout << (r.value("duplicate", false) ? "already posted " : "posted ") << *name << " (key "
                << r.value("key", "") << ")\n";
    throw CLI::RuntimeError(kExitOk);
  });

  auto* tail =
      cmd->add_subcommand("tail", "Print what the server's engine does, as it happens (needs --connect)");
  tail->add_option("-n,--count", *count, "stop after this many lines (default: never)")
      ->check(CLI::NonNegativeNumber);
  tail->add_option("--timeout", *timeout, "stop after this many seconds without a line (default: never)")
      ->check(CLI::NonNegativeNumber);
  tail->add_flag("--json", *json_out, "print each message as JSON ({\"seq\", \"at\", \"line\"})");
  tail->footer(
      "Examples:\n  orgctl --connect tcp://127.0.0.1:7878 --token $T events tail\n"
      "  orgctl --connect tcp://127.0.0.1:7878 --token $T events tail -n 10 --timeout 5 --json\n"
      "Follows with the token (`events.read` requests): `system` sees every line, any other actor the\n"
      "lines about the instances it may read.\n"
      "Exit codes: 0 done (count reached, or timeout); 2 no --connect; 3 no server; 4 the token was "
      "refused.");
  tail->callback([=]() {
    if (globals().connect.empty()) {
      std::cerr
          << "error: events tail follows a server\n  hint: orgctl --connect tcp://HOST:PORT --token TOKEN "
             "events tail\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    if (globals().token.empty()) {
      std::cerr << "error: --connect needs a token\n  hint: pass --token TOKEN or set ORGOS_TOKEN\n";
      throw CLI::RuntimeError(kExitUsage);
    }
    // Long polls over the request socket: each `events.read` carries the token, waits on the server until
    // a line comes (or the wait ends), and says where the next read starts.
    using Clock = std::chrono::steady_clock;
    auto quiet_for = std::chrono::milliseconds(static_cast<int64_t>(*timeout * 1000));
    auto last_line = Clock::now();
    int64_t seen = 0;
    std::optional<int64_t> after;  // none: from the next line on
    try {
      orgos::net::TlsClientOptions tls{globals().tls_ca, "", globals().tls_insecure};
      orgos::net::Client c(globals().connect, globals().token, std::chrono::seconds(60), tls);
      while (*count == 0 || seen < *count) {
        int64_t wait_ms = 10000;
        if (*timeout > 0) {
          auto left =
              quiet_for - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_line);
          if (left.count() <= 0) break;
          wait_ms = std::min<int64_t>(wait_ms, left.count());
        }
        nlohmann::json req{{"verb", "events.read"}, {"wait_ms", wait_ms}, {"max", 100}};
        if (after) req["after"] = *after;
        auto r = c.call(req);
        if (!r.value("ok", false)) {
          std::cerr << "error [" << r["error"].value("code", "?") << "]: " << r["error"].value("message", "")
                    << "\n";
          throw CLI::RuntimeError(kExitRefused);
        }
        const auto& res = r["result"];
        if (res.value("missed", int64_t{0}) > 0)
          std::cerr << "warning: " << res["missed"] << " lines were dropped before they could be read\n";
        for (auto& m : res["events"]) {
          if (*count != 0 && seen >= *count) break;
          ++seen;
          last_line = Clock::now();
          if (*json_out)
            std::cout << m.dump() << std::endl;
          else
            std::cout << m.value("line", "") << std::endl;
        }
        after = res.value("next", int64_t{0});
      }
    } catch (const orgos::net::ClientError& e) {
      std::cerr << "error: " << e.what() << "\n";
      throw CLI::RuntimeError(kExitIo);
    }
    throw CLI::RuntimeError(kExitOk);
  });
}

}  // namespace orgctl
