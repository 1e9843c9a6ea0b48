// OrgOS embedding API (C++). A host application opens an organization (a project folder, a single
// .org file, or a compiled bundle), drives it with events and commands, and reads its tasks, instances and
// metrics. Errors are values (orgos::Result), never exceptions across this boundary: whatever fails inside a
// call (a damaged store, a host listener that throws) comes back as that call's Error. Only the standard
// library is needed to include this header.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "orgos/version.h"

namespace orgos {

// What went wrong, and what to do about it.
struct Error {
  std::string message;
};

// A value or an error.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// A result without a value.
struct Done {};
using Status = Result<Done>;

// The views below carry the same fields as the engine's own (TaskView, InstanceView, KpiView), so the C API
// writes them as JSON in the one shape the server and orgctl use.
struct Task {
  int64_t id = 0;
  int64_t instance = 0;
  std::string process, name, role, unit, status;
  std::string claimed_by;  // who claimed it ("" when nobody has)
  bool approval = false;
  std::vector<std::string> outcomes;
  int64_t due = 0;  // seconds since 1970 (engine clock); 0 when there is no deadline
};

struct Instance {
  int64_t id = 0;
  std::string process, status, error;
  int64_t started_at = 0, ended_at = 0;
};

// A KPI: its value as text ("no data" before there is any), and its thresholds judged.
struct Metric {
  std::string name, value;
  std::string target;   // e.g. ">= 5" ("" when the metric has none)
  std::string verdict;  // "met", "missed", "no data", or "" without a target
  bool warn = false;    // its warning threshold is crossed
  bool alert = false;   // its alert threshold is crossed
};

struct OpenOptions {
  std::string store = ":memory:";  // SQLite file for durable state; ":memory:" for simulation
  std::string stdlib;              // standard library folder (default: the installed one)
  int64_t start_time = 0;          // engine clock for a new store (seconds since 1970)
};

// One organization running in this process. Thread-safe: calls from several threads are serialized by a
// lock inside (one call at a time runs; each sees the state the previous one left). A moved-from
// Organization answers every call with an Error (queries: empty). Moving or destroying it while another
// thread still calls it is undefined behaviour: join those threads first.
class Organization {
 public:
  // Opens a project folder, a .org file or a .orgb bundle. Sources are compiled (or their cached bundle
  // reused); errors in them are returned as one Error listing every diagnostic.
  static Result<Organization> open(const std::string& path, const OpenOptions& options = {});

  Organization(Organization&&) noexcept;
  Organization& operator=(Organization&&) noexcept;
  ~Organization();

  // Inputs. `key` makes each one idempotent: a key is the actor's own (another actor's key is another
  // key); the same request again under it is accepted and applied only once, another request under it is
  // an Error (a conflict), and an empty key is a fresh one (applied once, never taken for another input).
  // Payloads and arguments are JSON text, e.g. {"expense": {"amount": "120 USD", …}}.
  Status post_event(const std::string& event, const std::string& payload_json, const std::string& actor,
                    const std::string& key);
  Result<int64_t> start(const std::string& process, const std::string& args_json, const std::string& actor,
                        const std::string& key);
  Status complete_task(int64_t task, const std::string& actor, const std::string& outcome,
                       const std::string& data_json, const std::string& key);
  Status decide(int64_t task, const std::string& actor, bool approve, const std::string& key);
  Status advance_to(int64_t time, const std::string& key);
  // Plays a YAML scenario file and checks its expectations.
  Status play(const std::string& scenario_path);

  // Queries. now, tasks and instances are answered from memory (the store is read at open), so only
  // running out of memory can fail them (std::bad_alloc); metrics read the stored events on first use,
  // so a damaged event row is their Error.
  int64_t now() const;
  std::vector<Task> tasks(bool open_only = true) const;
  std::vector<Instance> instances() const;
  Result<std::vector<Metric>> metrics();

  // Every line of the engine's trace (events, steps, decisions) as it happens. A listener runs on the thread
  // of the call that produced the line, inside that call's lock: it may call this Organization back from
  // that thread (not subscribe, though), but must not wait for another thread that uses it. What a listener
  // throws fails the call that ran it (the input is undone).
  void subscribe(std::function<void(const std::string& line)> listener);

  struct Impl;

 private:
  explicit Organization(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orgos
