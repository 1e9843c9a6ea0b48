// The embedding facade: orgos::Organization over the compiler driver, the store and the workflow engine.
// Every internal exception stops here and becomes an orgos::Error. One lock per organization serializes its
// calls, so a host may share it between threads; the lock is recursive because trace listeners run inside a
// call, on its thread, and may call back (a query, say).
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "compiler/bundle/bundle_auth.h"
#include "compiler/codegen/jit.h"
#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "orgos/orgos.hpp"
#include "runtime/scenario/scenario.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"
#include "runtime/workflow/input_key.h"
#include "runtime/workflow/project_identity.h"

namespace orgos {

struct Organization::Impl {
  bundle::Bundle bundle;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  std::vector<std::function<void(const std::string&)>> listeners;
  std::recursive_mutex lock;  // held for the whole of every call
};

namespace {

Status from(const workflow::Outcome& o) {
  if (!o.ok) return Error{o.error};
  return Done{};
}

nlohmann::json parse_json(const std::string& text, const char* what, std::string& error) {
  if (text.empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    error = std::string(what) + " is not valid JSON: " + e.what();
    return nullptr;
  }
}

// An input without a key (an empty one) gets a fresh key: applied once, never taken for another keyless
// input. A key given is the caller's, scoped to the actor by the engine.
std::string key_or_fresh(const std::string& key) {
  return key.empty() ? workflow::fresh_input_key() : key;
}

// Why the store `path` cannot be opened: the store's own message, said to be about that file. (A bare
// "stoll" from parsing a stored number is named for what it is.)
std::string store_error(const std::string& path, const std::exception& e) {
  std::string why = e.what();
  if (dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const std::out_of_range*>(&e))
    why = "a stored value does not decode (" + why + ")";
  return "cannot open the store `" + path + "`: " + why;
}

// Runs one call under the organization's lock; whatever it throws (a StoreError from a damaged store, an
// exception from a host's listener, anything at all) becomes the call's Error instead of leaving the API.
template <typename F>
auto guarded(Organization::Impl* impl, F&& f) -> decltype(f()) {
  try {
    if (!impl) return Error{"this Organization was moved from: use the one it was moved to"};
    std::lock_guard<std::recursive_mutex> hold(impl->lock);
    try {
      return f();
    } catch (const std::exception& e) {
      return Error{std::string("internal error: ") + e.what()};
    } catch (...) {
      return Error{"internal error: unknown exception (not a std::exception)"};
    }
  } catch (...) {
    return Error{"internal error: out of memory"};  // even the message above could not be made
  }
}

}  // namespace

Organization::Organization(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Organization::Organization(Organization&&) noexcept = default;
Organization& Organization::operator=(Organization&&) noexcept = default;
Organization::~Organization() = default;

Result<Organization> Organization::open(const std::string& path, const OpenOptions& options) {
  try {
    auto impl = std::make_unique<Impl>();
    if (path.size() > 5 && path.substr(path.size() - 5) == ".orgb") {
      auto bytes = bundle::read_file(path);
      if (!bytes) return Error{"cannot read the bundle `" + path + "`"};
      // A bundle file carries native code: it is loaded only if sealed with this machine's bundle key.
      auto key = bundle::load_or_create_key(bundle::default_key_path());
      if (auto* e = std::get_if<std::string>(&key)) return Error{*e};
      auto loaded = bundle::open_sealed(*bytes, std::get<bundle::Key>(key));
      if (auto* e = std::get_if<bundle::LoadError>(&loaded)) return Error{e->message};
      impl->bundle = std::move(std::get<bundle::Bundle>(loaded));
    } else {
      driver::BuildOptions bo;
      bo.check.inputs = {path};
      bo.check.stdlib_dir = options.stdlib;
      bo.make_object = codegen::bundle_object_maker();
      auto r = driver::build_or_load(bo);
      if (auto* f = std::get_if<driver::BuildFailure>(&r)) {
        if (f->compilation)
          return Error{diag::render_all_text(f->compilation->sources, f->compilation->diags)};
        return Error{f->message};
      }
      impl->bundle = std::move(std::get<driver::Built>(r).bundle);
    }
    // Opening the store reads all of its state: what fails from here on is about that file, and says so.
    try {
      impl->store = std::make_unique<store::Store>(options.store);
      Impl* raw = impl.get();
      workflow::EngineOptions eo;
      eo.start_time = options.start_time;
      eo.project = workflow::project_name(path);  // a store of another project is refused here
      eo.trace = [raw](const std::string& line) {
        for (auto& l : raw->listeners) l(line);
      };
      impl->engine = std::make_unique<workflow::Engine>(impl->bundle, *impl->store, eo);
    } catch (const std::exception& e) {
      return Error{store_error(options.store, e)};
    }
    return Organization(std::move(impl));
  } catch (const std::exception& e) {
    return Error{e.what()};
  } catch (...) {
    return Error{"internal error: unknown exception (not a std::exception) while opening `" + path + "`"};
  }
}

Status Organization::post_event(const std::string& event, const std::string& payload_json,
                                const std::string& actor, const std::string& key) {
  return guarded(impl_.get(), [&]() -> Status {
    std::string err;
    auto payload = parse_json(payload_json, "the payload", err);
    if (!err.empty()) return Error{err};
    return from(impl_->engine->post_event(event, payload, actor, key_or_fresh(key)));
  });
}

Result<int64_t> Organization::start(const std::string& process, const std::string& args_json,
                                    const std::string& actor, const std::string& key) {
  return guarded(impl_.get(), [&]() -> Result<int64_t> {
    std::string err;
    auto args = parse_json(args_json, "the arguments", err);
    if (!err.empty()) return Error{err};
    auto o = impl_->engine->start(process, args, actor, key_or_fresh(key));
    if (!o.ok) return Error{o.error};
    return o.id;
  });
}

Status Organization::complete_task(int64_t task, const std::string& actor, const std::string& outcome,
                                   const std::string& data_json, const std::string& key) {
  return guarded(impl_.get(), [&]() -> Status {
    std::string err;
    auto data = parse_json(data_json, "the task data", err);
    if (!err.empty()) return Error{err};
    return from(impl_->engine->complete_task(task, actor, outcome, data, key_or_fresh(key)));
  });
}

Status Organization::decide(int64_t task, const std::string& actor, bool approve, const std::string& key) {
  return guarded(impl_.get(), [&]() -> Status {
    return from(impl_->engine->decide(task, actor, approve, key_or_fresh(key)));
  });
}

Status Organization::advance_to(int64_t time, const std::string& key) {
  return guarded(impl_.get(),
                 [&]() -> Status { return from(impl_->engine->advance_to(time, key_or_fresh(key))); });
}

Status Organization::play(const std::string& scenario_path) {
  return guarded(impl_.get(), [&]() -> Status {
    auto r = scenario::run(scenario_path, *impl_->engine);
    if (r.ok) return Done{};
    std::string msg;
    for (auto& f : r.failures) msg += f + "\n";
    return Error{msg};
  });
}

// The queries below read the engine's memory (the store was read at open), so nothing but memory can fail
// in them; a moved-from Organization answers them empty.
int64_t Organization::now() const {
  if (!impl_) return 0;
  std::lock_guard<std::recursive_mutex> hold(impl_->lock);
  return impl_->engine->now();
}

std::vector<Task> Organization::tasks(bool open_only) const {
  std::vector<Task> out;
  if (!impl_) return out;
  std::lock_guard<std::recursive_mutex> hold(impl_->lock);
  for (auto& t : impl_->engine->tasks(open_only))
    out.push_back({t.id, t.instance, t.process, t.name, t.role, t.unit, t.status, t.claimed_by, t.approval,
                   t.outcomes, t.due});
  return out;
}

std::vector<Instance> Organization::instances() const {
  std::vector<Instance> out;
  if (!impl_) return out;
  std::lock_guard<std::recursive_mutex> hold(impl_->lock);
  for (auto& i : impl_->engine->instances())
    out.push_back({i.id, i.process, i.status, i.error, i.started_at, i.ended_at});
  return out;
}

// Metrics read the stored events on first use: a damaged event row is this call's error. They are the
// engine's KPIs, thresholds judged, as the server answers them.
Result<std::vector<Metric>> Organization::metrics() {
  return guarded(impl_.get(), [&]() -> Result<std::vector<Metric>> {
    std::vector<Metric> out;
    for (auto& k : impl_->engine->kpis())
      out.push_back({k.name, k.value, k.target, k.verdict, k.warn, k.alert});
    return out;
  });
}

void Organization::subscribe(std::function<void(const std::string&)> listener) {
  if (!impl_) return;
  std::lock_guard<std::recursive_mutex> hold(impl_->lock);
  impl_->listeners.push_back(std::move(listener));
}

}  // namespace orgos
