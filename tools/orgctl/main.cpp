// orgctl — the OrgOS command line. Parses the verb and hands over to its cmd_<verb>.cpp.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <set>

#include "compiler/sema/symbols.h"
#include "orgos/version.h"
#include "tools/orgctl/commands.h"

namespace orgctl {
Globals& globals() {
  static Globals g;
  return g;
}
}  // namespace orgctl

namespace {

// The verb (and a verb's own verb: `tasks list`) must be the first argument that is neither an option nor
// an option's value. CLI11 alone answers an unknown or a missing one with "A subcommand is required",
// naming neither the word nor what was meant; this names it and the closest verb. Returns false when the
// verbs are known (CLI11 handles the rest).
bool refuse_unknown_verb(const CLI::App& app, int argc, char** argv) {
  const CLI::App* at = &app;
  std::string said = "orgctl";
  std::set<std::string> takes_value;  // options (of every verb so far: they fall through) with a value
  auto add_options = [&](const CLI::App* a) {
    for (const CLI::Option* o : a->get_options()) {
      if (o->get_expected_max() == 0) continue;  // a flag (get_type_size() is 1 for a bool flag)
      for (const std::string& n : o->get_lnames()) takes_value.insert("--" + n);
      for (const std::string& n : o->get_snames()) takes_value.insert("-" + n);
    }
  };
  auto verbs_of = [](const CLI::App* a) {
    std::vector<std::string> out;
    for (const CLI::App* sub : a->get_subcommands([](const CLI::App*) { return true; }))
      out.push_back(sub->get_name());
    return out;
  };
  auto list = [](const std::vector<std::string>& verbs) {
    std::string out;
    for (size_t v = 0; v < verbs.size(); ++v) out += (v ? ", " : "") + verbs[v];
    return out;
  };
  add_options(at);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--" || a == "-h" || a == "--help" || a == "--version") return false;
    if (a.size() > 1 && a[0] == '-') {
      if (a.find('=') == std::string::npos && takes_value.count(a)) {
        if (i + 1 == argc) return false;  // its value is missing: CLI11 says so
        ++i;                              // skip the option's value
      }
      continue;
    }
    if (at->get_require_subcommand_min() == 0) return false;  // an argument of the verb
    std::vector<std::string> verbs = verbs_of(at);
    if (std::find(verbs.begin(), verbs.end(), a) != verbs.end()) {
      at = at->get_subcommand(a);
      said += " " + a;
      add_options(at);
      continue;
    }
    std::cerr << "error: unknown verb `" << (at == &app ? a : said.substr(7) + " " + a) << "`\n";
    std::string near = orgos::sema::closest(a, verbs);
    if (!near.empty())
      std::cerr << "  hint: did you mean `" << said << " " << near << "`?\n";
    else
      std::cerr << "  hint: the verbs " << (at == &app ? "are" : "of `" + said + "` are") << " "
                << list(verbs) << "\n";
    std::cerr << "Run `" << said << " --help` for what each verb does.\n";
    return true;
  }
  if (at->get_require_subcommand_min() > 0) {
    std::cerr << "error: `" << said << "` needs a verb: " << list(verbs_of(at)) << "\n"
              << "Run `" << said << " --help` for what each verb does.\n";
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // The front-end allocates and frees millions of small parse-tree nodes; with glibc's fastbins their
  // frees end in malloc_consolidate, about a tenth of `orgctl check` on a large program (bench/RESULTS.md).
  // A process-wide choice, so it is made here and not in the library that hosts embed.
  mallopt(M_MXFAST, 0);
  CLI::App app{"orgctl — organization as code: check, format, graph and run OrgOS programs"};
  app.set_version_flag("--version", std::string("orgctl ") + ORGOS_VERSION);
  app.require_subcommand(1);
  app.footer("Run `orgctl VERB --help` for a verb's options and examples. Docs: docs/cli.md");
  orgctl::globals().colour = isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
  app.add_option("--connect", orgctl::globals().connect,
                 "drive a running `orgctl serve` at this address (tasks, events, instances, metrics)");
  app.add_option("--token", orgctl::globals().token, "API token for --connect (see `orgctl token`)")
      ->envname("ORGOS_TOKEN");
  app.add_option(
         "--tls-ca", orgctl::globals().tls_ca,
         "with --connect tls+tcp://…: the CA (or the server's own certificate, PEM) to verify it with")
      ->envname("ORGOS_TLS_CA");
  app.add_flag("--tls-insecure", orgctl::globals().tls_insecure,
               "with --connect tls+tcp://…: do not verify the server (the connection is encrypted, its peer "
               "unproven)");
  // The audit key file (runtime/store/audit_key.h), for every verb that writes or verifies the audit chain:
  // set as ORGOS_AUDIT_KEY, so the engine and the store see it too.
  app.add_option_function<std::string>(
         "--audit-key", [](const std::string& path) { setenv("ORGOS_AUDIT_KEY", path.c_str(), 1); },
         "the audit key file (default $ORGOS_AUDIT_KEY, else ~/.config/orgos/audit.key; made on first use)")
      ->trigger_on_parse();
  // Subcommands hand options they do not know to their parents, so --connect may also follow the verb.
  app.fallthrough();
  orgctl::register_check(app);
  orgctl::register_fmt(app);
  orgctl::register_graph(app);
  orgctl::register_compile(app);
  orgctl::register_run(app);
  orgctl::register_audit(app);
  orgctl::register_new(app);
  orgctl::register_instances(app);
  orgctl::register_explain(app);
  orgctl::register_metrics(app);
  orgctl::register_serve(app);
  orgctl::register_token(app);
  orgctl::register_tasks(app);
  orgctl::register_events(app);
  orgctl::register_store(app);
  if (refuse_unknown_verb(app, argc, argv)) return orgctl::kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a verb's result: its exit code
  } catch (const orgos::store::StoreError& e) {
    // A store a verb could not read or write, where the verb did not say so itself: never an abort.
    std::cerr << "error: " << e.what() << "\n";
    return orgctl::kExitIo;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return orgctl::kExitUsage;
  }
  return 0;
}
