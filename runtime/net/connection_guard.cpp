#include "runtime/net/connection_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <vector>

namespace orgos::net {

namespace {

// The peer's IP address, the key of the per-peer cap. Local transports (ipc, inproc) have none that tells
// peers apart, so they share one key.
std::string peer_of(nng_pipe pipe) {
  nng_sockaddr sa{};
  if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) != 0) return "local";
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa.s_family == NNG_AF_INET) {
    inet_ntop(AF_INET, &sa.s_in.sa_addr, buf, sizeof buf);
    return buf;
  }
  if (sa.s_family == NNG_AF_INET6) {
    inet_ntop(AF_INET6, sa.s_in6.sa_addr, buf, sizeof buf);
    return buf;
  }
  return "local";
}

}  // namespace

ConnectionGuard::ConnectionGuard(ConnectionLimits limits) : limits_(limits) {}

ConnectionGuard::~ConnectionGuard() {
  stop();
}

void ConnectionGuard::attach(nng_socket sock) {
  nng_pipe_notify(sock, NNG_PIPE_EV_ADD_PRE, on_pipe_event, this);
  nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_pipe_event, this);
  sweeper_ = std::thread([this] { sweep_loop(); });
}

void ConnectionGuard::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

void ConnectionGuard::on_pipe_event(nng_pipe pipe, nng_pipe_ev ev, void* arg) {
  auto* g = static_cast<ConnectionGuard*>(arg);
  if (ev == NNG_PIPE_EV_ADD_PRE)
    g->added(pipe);
  else if (ev == NNG_PIPE_EV_REM_POST)
    g->removed(pipe);
}

// Runs before nng adds the connection to the socket: closing it here means it never carries a request.
// A connection refused here is not counted, and its later REM_POST finds nothing to remove.
void ConnectionGuard::added(nng_pipe pipe) {
  std::string peer = peer_of(pipe);
  bool refuse = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    int& from_peer = per_peer_[peer];
    refuse = stopping_ || static_cast<int>(connections_.size()) >= limits_.max_connections ||
             from_peer >= limits_.max_per_peer;
    if (refuse) {
      ++refused_;
      if (from_peer == 0) per_peer_.erase(peer);
    } else {
      ++from_peer;
      connections_[static_cast<uint32_t>(nng_pipe_id(pipe))] = Connection{peer, Clock::now(), 0};
    }
  }
  if (refuse) nng_pipe_close(pipe);
}

void ConnectionGuard::removed(nng_pipe pipe) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = connections_.find(static_cast<uint32_t>(nng_pipe_id(pipe)));
  if (it == connections_.end()) return;
  auto p = per_peer_.find(it->second.peer);
  if (p != per_peer_.end() && --p->second <= 0) per_peer_.erase(p);
  connections_.erase(it);
}

bool ConnectionGuard::admit(nng_pipe pipe) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = connections_.find(static_cast<uint32_t>(nng_pipe_id(pipe)));
    // Not (or no longer) counted: its connection is closing; the reply, if any, goes nowhere.
    if (it == connections_.end()) return true;
    Connection& c = it->second;
    c.last_request = Clock::now();
    if (!c.deaf && c.pending < limits_.max_pending) {
      ++c.pending;
      return true;
    }
    ++refused_;
  }
  return false;
}

void ConnectionGuard::answered(uint32_t pipe_id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = connections_.find(pipe_id);
  if (it != connections_.end() && it->second.pending > 0) {
    --it->second.pending;
    it->second.last_request = Clock::now();  // idle counts from the last reply, not from the request
  }
}

void ConnectionGuard::stuck(nng_pipe pipe) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = connections_.find(static_cast<uint32_t>(nng_pipe_id(pipe)));
  if (it != connections_.end() && !it->second.deaf) {
    it->second.deaf = true;
    ++refused_;
  }
}

int ConnectionGuard::open() const {
  std::lock_guard<std::mutex> lk(mu_);
  return static_cast<int>(connections_.size());
}

int64_t ConnectionGuard::refused() const {
  std::lock_guard<std::mutex> lk(mu_);
  return refused_;
}

// A few times per idle period, closes every connection with nothing pending and no request for longer
// than the limit: on a thread of the guard's own, outside its lock (closing runs the pipe callbacks,
// which take it), and only connections that are quiet. nng 1.5.2's reaper hangs now and then (and every
// later close with it) when a pipe is closed while it receives, so a connection that floods is never
// closed by the server: its requests are dropped instead (admit()).
void ConnectionGuard::sweep_loop() {
  bool idling = limits_.idle.count() > 0;
  auto period = idling ? std::max(std::chrono::milliseconds(10),
                                  std::min(limits_.idle / 4, std::chrono::milliseconds(1000)))
                       : std::chrono::milliseconds(1000);
  auto next_sweep = Clock::now() + period;
  std::unique_lock<std::mutex> lk(mu_);
  while (!stopping_) {
    cv_.wait_until(lk, next_sweep, [this] { return stopping_; });
    if (stopping_) return;
    std::vector<uint32_t> closing;
    auto now = Clock::now();
    if (idling && now >= next_sweep) {
      next_sweep = now + period;
      for (auto& [id, c] : connections_)
        if (c.pending == 0 && now - c.last_request >= limits_.idle) closing.push_back(id);
    } else if (!idling) {
      next_sweep = now + period;
    }
    lk.unlock();
    for (uint32_t id : closing) {
      nng_pipe p = NNG_PIPE_INITIALIZER;
      p.id = id;
      nng_pipe_close(p);
    }
    lk.lock();
  }
}

}  // namespace orgos::net
