// The C API: a thin layer over orgos::Organization, which already serializes calls with its own lock. What
// this layer adds: no exception leaves an entry point (each catches everything and answers with a code and a
// message); the message and the JSON text a call returns live in buffers of the calling thread, one set per
// handle, so threads sharing a handle never overwrite each other's answers; and a marker at the start of the
// handle turns away a closed or foreign handle while its memory has not been reused.
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "orgos/orgos.h"
#include "orgos/orgos.hpp"
#include "runtime/workflow/views_json.h"

namespace {
// The marker of an open handle; orgos_close overwrites it before the memory is freed.
constexpr uint64_t kOpen = 0x6f72676f732d6f6bULL;    // "orgos-ok"
constexpr uint64_t kClosed = 0x6f72676f732d7878ULL;  // "orgos-xx"

std::atomic<uint64_t> next_serial{1};
}  // namespace

struct orgos_org {
  orgos_org(uint64_t serial, orgos::Organization organization)
      : serial(serial), org(std::move(organization)) {}
  uint64_t marker = kOpen;  // first: the entry check reads nothing else of a doubtful pointer
  uint64_t serial;          // tells this handle's thread buffers from a closed handle's at the same address
  orgos::Organization org;
};

namespace {

thread_local std::string open_error;

// One thread's answers on one handle.
struct Buffers {
  std::string error, text;
};
// This thread's buffers, by handle serial. A host may still call from its static destructors, after this
// thread's thread_local objects are gone (at exit): `gone` (trivial, so never destroyed) tells.
thread_local bool gone = false;
struct ThreadBuffers {
  std::unordered_map<uint64_t, Buffers> by_serial;
  ~ThreadBuffers() { gone = true; }
};
thread_local ThreadBuffers thread_buffers;

// The serials of the open handles: a thread drops its buffers of handles closed since. Never destroyed, for
// the same reason.
struct OpenSerials {
  std::mutex lock;
  std::unordered_set<uint64_t> serials;
};
OpenSerials& open_serials() {
  static auto* s = new OpenSerials;
  return *s;
}

bool usable(const orgos_org* o) {
  return o && o->marker == kOpen;
}

Buffers& buffers_of(const orgos_org* o) {
  if (gone) throw std::runtime_error("called while its thread is exiting");
  auto& buffers = thread_buffers.by_serial;
  auto [it, added] = buffers.try_emplace(o->serial);
  if (added && buffers.size() > 1) {
    // A handle new to this thread: forget those closed since this thread last used them, so a long-lived
    // thread does not keep the last texts of every handle it ever touched. (The entry just added stays: its
    // handle is open. Erasing other entries leaves `it` valid.)
    std::lock_guard<std::mutex> hold(open_serials().lock);
    for (auto i = buffers.begin(); i != buffers.end();)
      i = open_serials().serials.count(i->first) ? std::next(i) : buffers.erase(i);
  }
  return it->second;
}

std::string str(const char* s) {
  return s ? s : "";
}

// A NULL key is an empty one, and the C++ API gives an input with an empty key a fresh key of its own: so
// keyless inputs are each applied, never taken for one another.
std::string key(const char* k) {
  return str(k);
}

std::string unknown(const std::exception* e) {
  return e ? std::string("internal error: ") + e->what() : "internal error: unknown exception";
}

// Runs an entry point that answers with a code: body() returns "" on success, else the error message.
template <typename F>
int run(orgos_org* o, F&& body) {
  if (!usable(o)) return ORGOS_MISUSE;
  try {
    Buffers& b = buffers_of(o);
    try {
      b.error = body();
      return b.error.empty() ? ORGOS_OK : ORGOS_ERROR;
    } catch (const std::exception& e) {
      b.error = unknown(&e);
    } catch (...) {
      b.error = unknown(nullptr);
    }
    return ORGOS_ERROR;
  } catch (...) {
    return ORGOS_ERROR;  // not even the message could be kept: out of memory
  }
}

// Runs an entry point that answers with JSON text: make(error) returns the array, or sets error.
template <typename F>
const char* text(orgos_org* o, F&& make) {
  if (!usable(o)) return nullptr;
  try {
    Buffers& b = buffers_of(o);
    try {
      std::string error;
      nlohmann::json a = make(error);
      if (!error.empty()) {
        b.error = std::move(error);
        return nullptr;
      }
      // Damaged text (bytes that are not UTF-8) would make dump() throw: replaced, the JSON stays valid.
      b.text = a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      b.error.clear();
      return b.text.c_str();
    } catch (const std::exception& e) {
      b.error = unknown(&e);
    } catch (...) {
      b.error = unknown(nullptr);
    }
    return nullptr;
  } catch (...) {
    return nullptr;
  }
}

std::string message(const orgos::Status& s) {
  return s.ok() ? "" : s.error().message;
}

}  // namespace

extern "C" {

orgos_org* orgos_open(const char* path, const char* store) {
  try {
    if (!path) {
      open_error = "no path given: pass a project folder, a .org file or a .orgb bundle";
      return nullptr;
    }
    orgos::OpenOptions opts;
    if (store) opts.store = store;
    auto r = orgos::Organization::open(path, opts);
    if (!r) {
      open_error = r.error().message;
      return nullptr;
    }
    auto* o = new orgos_org(next_serial++, std::move(r.value()));
    try {
      std::lock_guard<std::mutex> hold(open_serials().lock);
      open_serials().serials.insert(o->serial);
    } catch (...) {
      delete o;
      throw;
    }
    open_error.clear();
    return o;
  } catch (const std::exception& e) {
    try {
      open_error = unknown(&e);
    } catch (...) {
    }
  } catch (...) {
    try {
      open_error = unknown(nullptr);
    } catch (...) {
    }
  }
  return nullptr;
}

const char* orgos_open_error(void) {
  return open_error.c_str();
}

void orgos_close(orgos_org* o) {
  if (!usable(o)) return;  // NULL; or closed already, while its memory was not reused
  o->marker = kClosed;
  {
    std::lock_guard<std::mutex> hold(open_serials().lock);
    open_serials().serials.erase(o->serial);
  }
  if (!gone)
    thread_buffers.by_serial.erase(o->serial);  // other threads drop theirs when they meet a new handle
  delete o;
}

int orgos_post_event(orgos_org* o, const char* event, const char* payload, const char* actor, const char* k) {
  return run(o, [&] { return message(o->org.post_event(str(event), str(payload), str(actor), key(k))); });
}

int orgos_start(orgos_org* o, const char* process, const char* args, const char* actor, const char* k,
                int64_t* id) {
  return run(o, [&]() -> std::string {
    auto r = o->org.start(str(process), str(args), str(actor), key(k));
    if (!r) return r.error().message;
    if (id) *id = r.value();
    return "";
  });
}

int orgos_complete_task(orgos_org* o, int64_t task, const char* actor, const char* outcome, const char* data,
                        const char* k) {
  return run(
      o, [&] { return message(o->org.complete_task(task, str(actor), str(outcome), str(data), key(k))); });
}

int orgos_decide(orgos_org* o, int64_t task, const char* actor, int approve, const char* k) {
  return run(o, [&] { return message(o->org.decide(task, str(actor), approve != 0, key(k))); });
}

int orgos_advance_to(orgos_org* o, int64_t time, const char* k) {
  return run(o, [&] { return message(o->org.advance_to(time, key(k))); });
}

// The views in the shape the server and orgctl write (runtime/workflow/views_json.h).
const char* orgos_tasks_json(orgos_org* o) {
  return text(o, [&](std::string&) {
    nlohmann::json a = nlohmann::json::array();
    for (auto& t : o->org.tasks()) a.push_back(orgos::workflow::task_json(t));
    return a;
  });
}

const char* orgos_instances_json(orgos_org* o) {
  return text(o, [&](std::string&) {
    nlohmann::json a = nlohmann::json::array();
    for (auto& i : o->org.instances()) a.push_back(orgos::workflow::instance_json(i));
    return a;
  });
}

const char* orgos_metrics_json(orgos_org* o) {
  return text(o, [&](std::string& error) {
    nlohmann::json a = nlohmann::json::array();
    auto metrics = o->org.metrics();
    if (!metrics) {
      error = metrics.error().message;
      return a;
    }
    for (auto& m : metrics.value()) a.push_back(orgos::workflow::kpi_json(m));
    return a;
  });
}

const char* orgos_last_error(orgos_org* o) {
  if (!o) return "no organization: the handle is NULL (did orgos_open fail?)";
  if (!usable(o)) return "not an open organization: the handle was closed, or is not a handle";
  try {
    return buffers_of(o).error.c_str();
  } catch (...) {
    return "no message: out of memory, or called while the thread is exiting";
  }
}

}  // extern "C"
