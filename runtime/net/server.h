// The engine over nng: a REP socket answers JSON requests (protocol.h), among them `events.read`, which
// follows what the engine does (its trace lines) with the request's token; an optional, unauthenticated
// PUB socket streams the same lines to anyone. See docs/server.md.
#pragma once
#include <nng/nng.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/net/connection_guard.h"
#include "runtime/net/dispatcher.h"
#include "runtime/net/event_ring.h"
#include "runtime/net/tls.h"
#include "runtime/net/tokens.h"

namespace orgos::net {

struct ServerOptions {
  std::string listen = "tcp://127.0.0.1:7878";  // tcp://, or tls+tcp:// with tls_cert and tls_key
  std::string tls_cert, tls_key;                // PEM files: the server's certificate (chain) and its key
  std::string events;   // PUB address, unauthenticated (anyone who connects reads every line); "" for none
  int contexts = 64;    // requests in flight at once (one REP context each)
  int max_batch = 256;  // requests applied under one store transaction (one fsync)
  // Every `tick` the engine clock is moved to now() (a logged `tick` input), so timers, deadlines and
  // escalations fire while the server runs. 0: the clock stays where the inputs leave it.
  std::chrono::milliseconds tick{0};
  std::function<int64_t()> now;  // default: the wall clock, seconds since 1970

  // Limits on what one peer can hold (ConnectionGuard), so that slow, idle or flooding peers cannot
  // stop the server answering others.
  int max_connections = 1024;                      // lowered to what the process's descriptor limit allows
  int max_connections_per_peer = 128;              // per IP address
  int max_pending_per_connection = 8;              // requests in flight on one connection; more closes it
  std::chrono::milliseconds idle_timeout{120000};  // a connection without requests for this long is closed
  // A reply the peer has not taken within this is dropped, and so are the peer's later requests: it is
  // not reading, and would otherwise hold REP contexts for good.
  std::chrono::milliseconds send_timeout{5000};

  // events.read: the last lines kept for readers, and the longest a read may wait for a new one.
  size_t event_ring = 10000;
  std::chrono::milliseconds max_event_wait{20000};
  // Reads of one actor waiting at once (of the contexts / 2 that may wait): one token's long polls cannot
  // take every place, which would answer every other reader's wait at once, empty. More are answered at once.
  int max_event_waits_per_actor = 8;
};

class ServerError : public std::exception {
 public:
  explicit ServerError(std::string m) : msg_(std::move(m)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};

class Server {
 public:
  // Listens at once (throws ServerError when an address cannot be bound) and serves until stop().
  Server(workflow::Engine& engine, store::Store& store, ServerOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The addresses actually bound (a tcp port 0 is replaced by the port the system chose).
  const std::string& url() const { return url_; }
  const std::string& events_url() const { return events_url_; }
  // Connections open now, and connections refused or closed by the limits since the start.
  int connections() const { return guard_.open(); }
  int64_t connections_refused() const { return guard_.refused(); }

  // Hand the engine's trace lines here (EngineOptions::trace); they are published once their input is
  // committed, each with what it is about (Engine::trace_subject), so that events.read gives it only to
  // those who may read that. Called on the engine thread only, inside the trace callback.
  void note(const std::string& line) { pending_lines_.push_back({line, engine_.trace_subject()}); }

  void stop();

  struct Slot;  // one REP context with its aio
  // Called by a Slot's receive callback (on an nng thread): hands the request to the engine thread.
  void enqueue(Slot* s);
  ConnectionGuard& guard() { return guard_; }
  std::chrono::milliseconds send_timeout() const { return opts_.send_timeout; }

 private:
  void listen_requests();
  void engine_loop();
  void tick();
  // Sets s->reply, or parks s among the readers waiting for event lines (returns false).
  bool answer(Slot* s);
  bool read_events(Slot* s, const Request& r, const std::string& actor);
  json events_after(const std::string& actor, int64_t after, int64_t max);
  bool may_wait(const std::string& actor) const;
  // Answers the parked readers that have lines now or whose wait is over.
  void wake_readers(bool all);
  void publish();
  void send(Slot* s);

  workflow::Engine& engine_;
  store::Store& store_;
  Dispatcher dispatcher_;
  Tokens tokens_;
  ServerOptions opts_;
  std::string url_, events_url_;
  ConnectionGuard guard_;
  TlsConfig tls_;
  nng_socket rep_ = NNG_SOCKET_INITIALIZER, pub_ = NNG_SOCKET_INITIALIZER;
  bool pub_open_ = false;
  std::vector<std::unique_ptr<Slot>> slots_;

  // Received requests wait here for the engine thread.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Slot*> queue_;
  bool stopping_ = false;
  std::thread engine_thread_;
  std::atomic<bool> stopped_{false};

  std::vector<std::pair<std::string, workflow::TraceSubject>> pending_lines_;  // line, what it is about
  EventRing ring_;
  // events.read requests waiting for a line (engine thread only). Each holds a REP context, so at most
  // half the contexts may wait, and at most max_event_waits_per_actor of them for one actor; a read beyond
  // that is answered at once.
  struct Reader {
    Slot* slot;
    json id;
    std::string actor;
    std::string
        token;  // checked again before lines are given: it may have been revoked while the read waited
    int64_t after, max;
    std::chrono::steady_clock::time_point until;
  };
  std::vector<Reader> readers_;
};

}  // namespace orgos::net
