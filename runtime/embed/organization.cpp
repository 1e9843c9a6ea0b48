// The embedding facade: orgos::Organization over the compiler driver, the store and the workflow engine.
// Every internal exception stops here and becomes an orgos::Error.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "compiler/codegen/jit.h"
#include "compiler/diag/renderer.h"
#include "compiler/driver/build.h"
#include "orgos/orgos.hpp"
#include "runtime/scenario/scenario.h"
#include "runtime/store/store.h"
#include "runtime/workflow/engine.h"

namespace orgos {

struct Organization::Impl {
  bundle::Bundle bundle;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<workflow::Engine> engine;
  std::vector<std::function<void(const std::string&)>> listeners;
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

template <typename F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return Error{std::string("internal error: ") + e.what()};
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
      auto loaded = bundle::deserialize(*bytes);
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
    impl->store = std::make_unique<store::Store>(options.store);
    Impl* raw = impl.get();
    workflow::EngineOptions eo;
    eo.start_time = options.start_time;
    eo.trace = [raw](const std::string& line) {
      for (auto& l : raw->listeners) l(line);
    };
    impl->engine = std::make_unique<workflow::Engine>(impl->bundle, *impl->store, eo);
    return Organization(std::move(impl));
  } catch (const std::exception& e) {
    return Error{e.what()};
  }
}

Status Organization::post_event(const std::string& event, const std::string& payload_json,
                                const std::string& actor, const std::string& key) {
  return guarded([&]() -> Status {
    std::string err;
    auto payload = parse_json(payload_json, "the payload", err);
    if (!err.empty()) return Error{err};
    return from(impl_->engine->post_event(event, payload, actor, key));
  });
}

Result<int64_t> Organization::start(const std::string& process, const std::string& args_json,
                                    const std::string& actor, const std::string& key) {
  return guarded([&]() -> Result<int64_t> {
    std::string err;
    auto args = parse_json(args_json, "the arguments", err);
    if (!err.empty()) return Error{err};
    auto o = impl_->engine->start(process, args, actor, key);
    if (!o.ok) return Error{o.error};
    return o.id;
  });
}

Status Organization::complete_task(int64_t task, const std::string& actor, const std::string& outcome,
                                   const std::string& data_json, const std::string& key) {
  return guarded([&]() -> Status {
    std::string err;
    auto data = parse_json(data_json, "the task data", err);
    if (!err.empty()) return Error{err};
    return from(impl_->engine->complete_task(task, actor, outcome, data, key));
  });
}

Status Organization::decide(int64_t task, const std::string& actor, bool approve, const std::string& key) {
  return guarded([&]() -> Status { return from(impl_->engine->decide(task, actor, approve, key)); });
}

Status Organization::advance_to(int64_t time, const std::string& key) {
  return guarded([&]() -> Status { return from(impl_->engine->advance_to(time, key)); });
}

Status Organization::play(const std::string& scenario_path) {
  return guarded([&]() -> Status {
    auto r = scenario::run(scenario_path, *impl_->engine);
    if (r.ok) return Done{};
    std::string msg;
    for (auto& f : r.failures) msg += f + "\n";
    return Error{msg};
  });
}

int64_t Organization::now() const {
  return impl_->engine->now();
}

std::vector<Task> Organization::tasks(bool open_only) const {
  std::vector<Task> out;
  for (auto& t : impl_->engine->tasks(open_only))
    out.push_back(
        {t.id, t.instance, t.process, t.name, t.role, t.unit, t.status, t.approval, t.outcomes, t.due});
  return out;
}

std::vector<Instance> Organization::instances() const {
  std::vector<Instance> out;
  for (auto& i : impl_->engine->instances())
    out.push_back({i.id, i.process, i.status, i.error, i.started_at, i.ended_at});
  return out;
}

std::vector<Metric> Organization::metrics() {
  std::vector<Metric> out;
  for (auto& [n, v] : impl_->engine->metrics()) out.push_back({n, v});
  return out;
}

void Organization::subscribe(std::function<void(const std::string&)> listener) {
  impl_->listeners.push_back(std::move(listener));
}

}  // namespace orgos
