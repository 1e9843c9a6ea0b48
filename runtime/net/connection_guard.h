// The server's defence against peers that hold resources without using them: it counts the connections
// (nng pipes) of the request socket, refuses those over a total and a per-address cap, bounds the
// requests one connection may have in flight, stops answering a connection that does not read, and
// closes connections idle past a limit. Its callbacks run on nng's threads; idle connections are closed
// on a thread of its own.
#pragma once
#include <nng/nng.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace orgos::net {

struct ConnectionLimits {
  int max_connections = 1024;  // over this, a new connection is closed at once
  int max_per_peer = 128;      // connections from one IP address (all local transports count as one)
  int max_pending = 8;         // requests of one connection being worked on or answered at once
  std::chrono::milliseconds idle{120000};  // no request for this long and nothing pending: closed; 0: never
};

class ConnectionGuard {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ConnectionGuard(ConnectionLimits limits);
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // Watches `sock`'s connections; call before it listens. Starts the idle sweep.
  void attach(nng_socket sock);
  // Stops the idle sweep (before the socket is closed).
  void stop();

  // A request arrived on `pipe`. False when the caller is to drop it unanswered: the connection already
  // has max_pending requests in flight, or did not take a reply in time (it is not reading). Such a
  // connection is not closed while it sends: closing a pipe that is receiving hangs nng 1.5.2's reaper
  // now and then (and every later close with it). Once it is quiet, the idle sweep closes it.
  bool admit(nng_pipe pipe);
  // A request of `pipe_id` was answered, or its answer was given up.
  void answered(uint32_t pipe_id);
  // The peer did not take a reply within the send timeout: from now on its requests are dropped, so it
  // holds no context again.
  void stuck(nng_pipe pipe);

  // Connections open now, and how many were refused or closed by the limits since the start.
  int open() const;
  int64_t refused() const;

 private:
  static void on_pipe_event(nng_pipe pipe, nng_pipe_ev ev, void* arg);
  void added(nng_pipe pipe);
  void removed(nng_pipe pipe);
  void sweep_loop();

  struct Connection {
    std::string peer;
    Clock::time_point last_request;
    int pending = 0;
    bool deaf = false;  // a reply to it timed out: it does not read, so it is not answered any more
  };

  ConnectionLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<uint32_t, Connection> connections_;  // by pipe id
  std::unordered_map<std::string, int> per_peer_;
  int64_t refused_ = 0;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace orgos::net
