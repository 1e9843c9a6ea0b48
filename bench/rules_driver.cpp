// The OrgOS side of the CLIPS comparison (bench/clips/compare.sh): the same generated workloads, run on
// runtime/rules directly (load the rules, insert the facts, fire the agenda). One workload per process,
// so /usr/bin/time -v reports its peak memory. Prints the firings and the wall time of each phase.
// Workloads: a, b, c as in compare.sh; r is c with retract+insert instead of update (CLIPS `modify`
// semantics: every match of a changed fact fires again).
// The rules run as the engine runs a project in production: from a bundle written by `orgctl compile`
// (IR and native object code), whose object code is linked into the process (`bundle FILE`); conditions
// run as native code. `interp FILE` runs the same bundle's IR in the interpreter (its object code is not
// linked). The driver links only the object loader of compiler/codegen, not the code generator, and no
// front end: running bundles needs no more (see compiler/codegen/CMakeLists.txt), and the parser's
// static tables (ANTLR builds them at start-up) would be start-up time spent on nothing.
#include <sys/resource.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compiler/bundle/bundle.h"
#include "compiler/bundle/bundle_auth.h"
#include "compiler/codegen/jit.h"
#include "runtime/rules/network.h"

using namespace orgos;
using ir::Value;

namespace {

// The process's resident memory now, in MB (Linux: /proc/self/statm's second field, in pages).
double rss_mb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * 4096.0 / 1e6;
}

double secs(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

std::string program(char w) {
  std::string s =
      "record Expense { amount: Int  category: String }\n"
      "record Emp { skill: Int  unit: Int }\nrecord Training { skill: Int }\nrecord Dept { id: Int }\nevent "
      "hit\n";
  if (w == 'a' || w == 'c' || w == 'r')
    for (int k = 0; k < 100; ++k)
      s += "rule t" + std::to_string(k) + " when Expense e where e.category == \"c" + std::to_string(k % 10) +
           "\" and e.amount > " + std::to_string((k * 97) % 10000) + " then emit hit\n";
  if (w == 'b')
    s +=
        "rule j when Emp e, Training t where t.skill == e.skill, Dept d where d.id == e.unit then emit hit\n";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  char w = argc > 1 ? argv[1][0] : 'a';
  const std::string mode = argc > 2 ? argv[2] : "";
  if (std::string("abcr").find(w) == std::string::npos || argv[1][1] ||
      !(mode == "source" || ((mode == "bundle" || mode == "interp") && argc > 3))) {
    std::fprintf(stderr,
                 "usage: orgos_rules_driver a|b|c|r source | bundle FILE | interp FILE\n"
                 "  source       print the workload's rules (compile them with `orgctl compile FILE.org -o "
                 "FILE.orgb`)\n"
                 "  bundle FILE  run from that bundle (IR and native code)\n"
                 "  interp FILE  run that bundle's IR in the interpreter\n");
    return 2;
  }
  if (mode == "source") {
    std::fputs(program(w).c_str(), stdout);
    return 0;
  }
  auto t0 = std::chrono::steady_clock::now();
  const char* path = argv[3];
  auto bytes = bundle::read_file(path);
  if (!bytes) {
    std::fprintf(stderr, "orgos_rules_driver: cannot read %s (write it with `orgctl compile`)\n", path);
    return 1;
  }
  // Bundle files carry native code: only those sealed with this machine's bundle key are loaded.
  auto key = bundle::load_or_create_key(bundle::default_key_path());
  if (auto* e = std::get_if<std::string>(&key)) {
    std::fprintf(stderr, "orgos_rules_driver: %s\n", e->c_str());
    return 1;
  }
  auto loaded = bundle::open_sealed(*bytes, std::get<bundle::Key>(key));
  if (auto* e = std::get_if<bundle::LoadError>(&loaded)) {
    std::fprintf(stderr, "orgos_rules_driver: %s: %s\n", path, e->message.c_str());
    return 1;
  }
  bundle::Bundle prog = std::move(std::get<bundle::Bundle>(loaded));
  interp::Evaluator ev(prog.module);
  if (mode == "bundle") {
    std::string why;
    auto code = codegen::load_object(prog.module, prog.object, nullptr, &why);
    if (!code) {
      std::fprintf(stderr, "orgos_rules_driver: %s has no usable object code (%s); compile it again\n", path,
                   why.c_str());
      return 1;
    }
    ev.attach_native(std::move(code));
  }
  rules::Network net(prog.program, prog.module, ev);
  interp::Arena arena;
  auto layout = [&](const char* n) {
    for (uint32_t i = 0; i < prog.module.layouts.size(); ++i)
      if (prog.module.layouts[i].name == n) return i;
    return 0u;
  };
  auto make = [&](uint32_t t, int64_t id) {
    auto* r = arena.record(t, static_cast<uint32_t>(prog.module.layouts[t].fields.size()));
    for (uint32_t i = 0; i < r->nslots; ++i) r->slots[i] = Value::none();
    r->id = id;
    return r;
  };
  double compile_s = secs(t0);
  const double rss_compiled = rss_mb();
  // Page faults (first touches of fresh memory) count apart: on a VM they are a large, noisy share of a load.
  auto faults = [] {
    rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
  };
  const long faults0 = faults();
  auto t1 = std::chrono::steady_clock::now();
  size_t fired = 0;
  rules::Firing f;
  std::vector<ir::Record*> expenses;
  if (w == 'a' || w == 'c' || w == 'r') {
    uint32_t t = layout("Expense");
    const ir::String* cats[10];
    for (int k = 0; k < 10; ++k) cats[k] = arena.string("c" + std::to_string(k));
    for (int64_t i = 0; i < 100000; ++i) {
      auto* r = make(t, i + 1);
      r->slots[0] = Value::of_int((i * 7919) % 10000);
      r->slots[1] = Value::of_string(cats[i % 10]);
      expenses.push_back(r);
      net.insert(r);
    }
  } else {
    int64_t id = 1;
    for (int64_t d = 0; d < 100; ++d) {
      auto* r = make(layout("Dept"), id++);
      r->slots[0] = Value::of_int(d);
      net.insert(r);
    }
    for (int64_t k = 0; k < 200; ++k) {
      auto* r = make(layout("Training"), id++);
      r->slots[0] = Value::of_int(k % 100);
      net.insert(r);
    }
    for (int64_t i = 0; i < 20000; ++i) {
      auto* r = make(layout("Emp"), id++);
      r->slots[0] = Value::of_int(i % 100);
      r->slots[1] = Value::of_int((i * 31) % 100);
      net.insert(r);
    }
  }
  while (net.next(f)) ++fired;
  double load_s = secs(t1);
  const long load_faults = faults() - faults0;
  double modify_s = 0;
  size_t refired = 0;
  if (w == 'c' || w == 'r') {
    auto t2 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < expenses.size(); i += 10) {
      expenses[i]->slots[0] = Value::of_int((static_cast<int64_t>(i) * 104729 + 13) % 10000);
      if (w == 'c') {
        net.update(expenses[i]);  // refraction kept: a match that still holds does not fire again
      } else {
        net.retract(expenses[i]->id);  // CLIPS `modify`: every match of the changed fact fires again
        net.insert(expenses[i]);
      }
    }
    while (net.next(f)) ++refired;
    modify_s = secs(t2);
  }
  std::printf(
      "workload %c (%s): compile %.4f s, insert+fire %.4f s (%zu firings), modify+refire %.4f s (%zu "
      "firings)\n",
      w, mode.empty() ? "native" : mode.c_str(), compile_s, load_s, fired, modify_s, refired);
  std::fprintf(stderr,
               "resident memory: %.1f MB once compiled, %.1f MB at the end; %ld page faults while loading\n",
               rss_compiled, rss_mb(), load_faults);
  // Like the CLIPS driver (which never destroys its environment), leave the freeing to process exit:
  // both processes' wall times then end at the same point.
  std::fflush(stdout);
  std::_Exit(0);
}
