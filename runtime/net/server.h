// The engine over nng: a REP socket answers JSON requests (protocol.h) and a PUB socket streams what the
// engine does, one JSON message per trace line. See docs/server.md.
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

#include "runtime/net/dispatcher.h"
#include "runtime/net/tokens.h"

namespace orgos::net {

struct ServerOptions {
  std::string listen = "tcp://127.0.0.1:7878";
  std::string events;   // PUB address; "" for none
  int contexts = 64;    // requests in flight at once (one REP context each)
  int max_batch = 256;  // requests applied under one store transaction (one fsync)
  // Every `tick` the engine clock is moved to now() (a logged `tick` input), so timers, deadlines and
  // escalations fire while the server runs. 0: the clock stays where the inputs leave it.
  std::chrono::milliseconds tick{0};
  std::function<int64_t()> now;  // default: the wall clock, seconds since 1970
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

  // Hand the engine's trace lines here (EngineOptions::trace); they are published once their input is
  // committed. Called on the engine thread only.
  void note(const std::string& line) { pending_lines_.push_back(line); }

  void stop();

  struct Slot;  // one REP context with its aio
  // Called by a Slot's receive callback (on an nng thread): hands the request to the engine thread.
  void enqueue(Slot* s);

 private:
  void engine_loop();
  void tick();
  std::string answer(const std::string& request);
  void publish();

  workflow::Engine& engine_;
  store::Store& store_;
  Dispatcher dispatcher_;
  Tokens tokens_;
  ServerOptions opts_;
  std::string url_, events_url_;
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

  std::vector<std::string> pending_lines_;
  int64_t published_ = 0;
};

}  // namespace orgos::net
