#include "runtime/net/server.h"

#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include <sys/resource.h>

#include <algorithm>
#include <ctime>
#include <iostream>

namespace orgos::net {

// Why one engine thread: the engine and its SQLite connection are single-threaded by design (inputs are
// applied in log order, deterministically). So the nng side is asynchronous — many REP contexts receive
// and send at once on nng's own threads — and every received request is queued for the one thread that
// owns the engine. That thread takes what has piled up, applies it under one store transaction (group
// commit: one fsync for the lot), and only then sends the replies, so nothing is acknowledged before it
// is durable.
//
// No peer may hold a context for good: a reply waits at most send_timeout for its peer to take it (then
// the peer's later requests are dropped unanswered), and one connection may have only
// max_pending_per_connection requests in flight; more are dropped (ConnectionGuard). A context waiting to
// receive waits without a timeout: it holds nothing of any peer, and idle connections are closed by the guard
// instead.
struct Server::Slot {
  Server* server = nullptr;
  nng_ctx ctx = NNG_CTX_INITIALIZER;
  nng_aio* aio = nullptr;
  enum { Receiving, Sending } state = Receiving;
  nng_pipe pipe = NNG_PIPE_INITIALIZER;  // the connection the request came on
  std::string request, reply;
};

namespace {

void slot_callback(void* arg);

void receive(Server::Slot* s) {
  s->state = Server::Slot::Receiving;
  nng_aio_set_timeout(s->aio, NNG_DURATION_INFINITE);
  nng_ctx_recv(s->ctx, s->aio);
}

// The connection cap, lowered when the process may not open that many descriptors (each connection is
// one, and SQLite, nng and the listener need some): running out makes accept() fail over and over.
int connection_cap(int wanted) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return wanted;
  int room = static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 30)) - 64;
  if (room >= wanted) return wanted;
  std::cerr << "warning: the process may open " << rl.rlim_cur << " files, so at most " << std::max(room, 1)
            << " connections are accepted (raise `ulimit -n` for more)\n";
  return std::max(room, 1);
}

ConnectionLimits limits_of(const ServerOptions& o) {
  ConnectionLimits l;
  l.max_connections = connection_cap(o.max_connections);
  l.max_per_peer = o.max_connections_per_peer;
  l.max_pending = o.max_pending_per_connection;
  l.idle = o.idle_timeout;
  return l;
}

std::string nng_failure(const std::string& what, const std::string& url, int rv) {
  return "cannot " + what + " `" + url + "`: " + nng_strerror(rv);
}

// `tcp://host:0` with the port the listener got, so callers can connect to it.
std::string bound_url(const std::string& url, nng_listener l) {
  if ((url.rfind("tcp://", 0) != 0 && url.rfind("tls+tcp://", 0) != 0) || url.size() < 2 ||
      url.substr(url.size() - 2) != ":0")
    return url;
  int port = 0;
  if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) != 0) return url;
  return url.substr(0, url.size() - 1) + std::to_string(port);
}

}  // namespace

Server::Server(workflow::Engine& engine, store::Store& store, ServerOptions opts)
    : engine_(engine),
      store_(store),
      dispatcher_(engine),
      tokens_(store),
      opts_(std::move(opts)),
      guard_(limits_of(opts_)),
      ring_(opts_.event_ring) {
  listen_requests();
  int rv = 0;
  nng_listener l;
  if (!opts_.events.empty()) {
    if ((rv = nng_pub0_open(&pub_)) != 0) {
      nng_close(rep_);
      throw ServerError(std::string("cannot open a PUB socket: ") + nng_strerror(rv));
    }
    pub_open_ = true;
    if ((rv = nng_listen(pub_, opts_.events.c_str(), &l, 0)) != 0) {
      nng_close(rep_);
      nng_close(pub_);
      throw ServerError(nng_failure("publish events at", opts_.events, rv) +
                        " (choose another --events address)");
    }
    events_url_ = bound_url(opts_.events, l);
  }
  for (int i = 0; i < opts_.contexts; ++i) {
    auto s = std::make_unique<Slot>();
    s->server = this;
    if ((rv = nng_ctx_open(&s->ctx, rep_)) != 0 || (rv = nng_aio_alloc(&s->aio, slot_callback, s.get())) != 0)
      throw ServerError(std::string("cannot set up a REP context: ") + nng_strerror(rv));
    slots_.push_back(std::move(s));
  }
  engine_thread_ = std::thread([this] { engine_loop(); });
  for (auto& s : slots_) receive(s.get());
}

// The REP socket with its limits, listening (over TLS for a tls+tcp:// address).
void Server::listen_requests() {
  int rv = nng_rep0_open(&rep_);
  if (rv != 0) throw ServerError(std::string("cannot open a REP socket: ") + nng_strerror(rv));
  nng_socket_set_size(rep_, NNG_OPT_RECVMAXSZ, kHardLimitBytes);
  guard_.attach(rep_);
  nng_listener l;
  if ((rv = nng_listener_create(&l, rep_, opts_.listen.c_str())) != 0) {
    nng_close(rep_);
    throw ServerError(nng_failure("listen at", opts_.listen, rv) +
                      " (an address is tcp://HOST:PORT or tls+tcp://HOST:PORT)");
  }
  if (is_tls_url(opts_.listen)) {
    try {
      tls_ = server_tls(opts_.tls_cert, opts_.tls_key);
    } catch (const TlsError& e) {
      nng_close(rep_);
      throw ServerError(e.what());
    }
    if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls_.get())) != 0) {
      nng_close(rep_);
      throw ServerError(nng_failure("use TLS at", opts_.listen, rv));
    }
  } else if (!opts_.tls_cert.empty() || !opts_.tls_key.empty()) {
    nng_close(rep_);
    throw ServerError("a certificate was given but `" + opts_.listen +
                      "` is not a TLS address: listen at tls+tcp://HOST:PORT");
  }
  if ((rv = nng_listener_start(l, 0)) != 0) {
    nng_close(rep_);
    throw ServerError(nng_failure("listen at", opts_.listen, rv) +
                      " (is another server there? choose another --listen address)");
  }
  url_ = bound_url(opts_.listen, l);
}

Server::~Server() {
  stop();
}

namespace {
void slot_callback(void* arg) {
  auto* s = static_cast<Server::Slot*>(arg);
  int rv = nng_aio_result(s->aio);
  if (s->state == Server::Slot::Sending) {
    if (rv != 0) nng_msg_free(nng_aio_get_msg(s->aio));  // the reply is dropped
    s->server->guard().answered(static_cast<uint32_t>(nng_pipe_id(s->pipe)));
    // Not taken in time: the peer does not read its replies, and each of them would hold a context.
    if (rv == NNG_ETIMEDOUT) s->server->guard().stuck(s->pipe);
    if (rv == NNG_ECLOSED) return;
    receive(s);
    return;
  }
  if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) return;
  if (rv != 0) {  // e.g. a message over NNG_OPT_RECVMAXSZ: nng dropped it; keep serving
    receive(s);
    return;
  }
  nng_msg* m = nng_aio_get_msg(s->aio);
  s->pipe = nng_msg_get_pipe(m);
  if (!s->server->guard().admit(s->pipe)) {  // too many in flight on that connection: dropped
    nng_msg_free(m);
    receive(s);
    return;
  }
  s->request.assign(static_cast<const char*>(nng_msg_body(m)), nng_msg_len(m));
  nng_msg_free(m);
  s->server->enqueue(s);
}
}  // namespace

void Server::enqueue(Slot* s) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    queue_.push_back(s);
  }
  cv_.notify_one();
}

bool Server::answer(Slot* s) {
  // Authenticated before anything but the envelope is looked at: a sender without a valid token learns
  // nothing about verbs and fields from the replies.
  auto opened = open_envelope(s->request);
  if (auto* e = std::get_if<ProtocolError>(&opened)) {
    s->reply = error_reply(e->id, e->code, e->message).dump();
    return true;
  }
  Envelope& env = std::get<Envelope>(opened);
  if (env.token.empty()) {
    s->reply = error_reply(env.id, Code::Unauthenticated,
                           "the request has no \"token\": create one with `orgctl token add ACTOR --db FILE`")
                   .dump();
    return true;
  }
  std::string why;
  auto actor = tokens_.actor_of(env.token, why);
  if (!actor) {
    s->reply = error_reply(env.id, Code::Unauthenticated,
                           why + ": ask for a new one (`orgctl token add ACTOR --db FILE`)")
                   .dump();
    return true;
  }
  auto parsed = check_request(std::move(env));
  if (auto* e = std::get_if<ProtocolError>(&parsed)) {
    s->reply = error_reply(e->id, e->code, e->message).dump();
    return true;
  }
  const Request& r = std::get<Request>(parsed);
  if (r.verb == "events.read") return read_events(s, r, *actor);
  if (r.verb == "server.info")
    s->reply = ok_reply(r.id, {{"url", url_},
                               {"events", events_url_},
                               {"actor", *actor},
                               {"now", engine_.now()},
                               {"last_event", ring_.last()}})
                   .dump();
  else
    s->reply = dispatcher_.handle(r, *actor).dump();
  return true;
}

// Who reads which line: `system` every line; any other actor the lines about what they may read
// (workflow::Engine::may_read_line: an instance's lines its readers, an event's its poster and who is
// granted `read` on it, a rule firing's who may read both its records and the event it fired on, the clock's
// the organization's members…). Decided here, when the line is read, not when it was written: a line nobody
// reads costs no decision. Lines passed over still move the reader's `next` on.
json Server::events_after(const std::string& actor, int64_t after, int64_t max) {
  std::function<bool(const EventLine&)> visible;
  if (actor != "system") visible = [&](const EventLine& l) { return engine_.may_read_line(actor, l.about); };
  auto read = ring_.after(after, static_cast<size_t>(max), visible);
  json lines = json::array();
  for (auto& l : read.lines) lines.push_back({{"seq", l.seq}, {"at", l.at}, {"line", l.line}});
  // Where the next read starts. With no lines it is the newest seq, which also puts a reader that comes
  // from an earlier server process (whose numbers were higher) back in step.
  int64_t next = read.next;
  return {{"events", std::move(lines)}, {"next", next}, {"missed", read.missed}};
}

bool Server::read_events(Slot* s, const Request& r, const std::string& actor) {
  int64_t after = r.body.contains("after") ? r.body["after"].get<int64_t>() : ring_.last();
  int64_t max = r.body.value("max", int64_t{100});
  int64_t wait_ms = r.body.value("wait_ms", int64_t{0});
  if (after < 0 || max < 1 || max > 1000 || wait_ms < 0) {
    s->reply = error_reply(r.id, Code::BadRequest,
                           "`events.read` takes \"after\" >= 0 (a seq, 0 for the oldest kept), \"max\" 1 to "
                           "1000 and \"wait_ms\" >= 0")
                   .dump();
    return true;
  }
  wait_ms = std::min<int64_t>(wait_ms, opts_.max_event_wait.count());
  json got = events_after(actor, after, max);
  if (!got["events"].empty() || wait_ms == 0 || !may_wait(actor)) {
    s->reply = ok_reply(r.id, std::move(got)).dump();
    return true;
  }
  // Nothing this actor may read yet: wait from where the read got to.
  readers_.push_back({s, r.id, actor, r.token, got["next"].get<int64_t>(), max,
                      std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms)});
  return false;
}

// Room for one more waiting read of `actor`: half the contexts wait at most (the others answer
// requests), and one actor takes at most its share of them, so that a token's long polls, parked over and
// over, leave the others a place to wait in.
bool Server::may_wait(const std::string& actor) const {
  if (readers_.size() >= slots_.size() / 2) return false;
  auto mine =
      std::count_if(readers_.begin(), readers_.end(), [&](const Reader& w) { return w.actor == actor; });
  return mine < opts_.max_event_waits_per_actor;
}

void Server::wake_readers(bool all) {
  auto now = std::chrono::steady_clock::now();
  std::vector<Reader> still;
  for (Reader& w : readers_) {
    if (!all && ring_.last() <= w.after && now < w.until) {
      still.push_back(w);
      continue;
    }
    json got = events_after(w.actor, w.after, w.max);
    if (!all && got["events"].empty() && now < w.until) {  // new lines, none of them this reader's
      w.after = got["next"].get<int64_t>();
      still.push_back(w);
      continue;
    }
    // A token revoked while its read waited (`orgctl token revoke` beside the server) reads nothing written
    // since: the revocation holds from the next request on, and lines given now would be read after it.
    std::string why;
    if (!got["events"].empty() && tokens_.actor_of(w.token, why) != w.actor)
      w.slot->reply = error_reply(w.id, Code::Unauthenticated,
                                  (why.empty() ? "the token names another actor now" : why) +
                                      ": ask for a new one (`orgctl token add ACTOR --db FILE`)")
                          .dump();
    else
      w.slot->reply = ok_reply(w.id, std::move(got)).dump();
    send(w.slot);
  }
  readers_ = std::move(still);
}

void Server::send(Slot* s) {
  nng_msg* m = nullptr;
  nng_msg_alloc(&m, 0);
  nng_msg_append(m, s->reply.data(), s->reply.size());
  s->state = Slot::Sending;
  nng_aio_set_msg(s->aio, m);
  nng_aio_set_timeout(s->aio, static_cast<nng_duration>(opts_.send_timeout.count()));
  nng_ctx_send(s->ctx, s->aio);
}

void Server::tick() {
  int64_t t = opts_.now ? opts_.now() : static_cast<int64_t>(std::time(nullptr));
  if (t <= engine_.now()) return;
  try {
    auto o = engine_.advance_to(t, "tick:" + std::to_string(t));
    if (!o.ok) std::cerr << "warning: the clock could not advance to " << t << ": " << o.error << "\n";
  } catch (const std::exception& e) {
    // Only the tick's own savepoint was undone; the next tick tries again.
    std::cerr << "warning: the clock could not advance to " << t << ": " << e.what() << "\n";
  }
}

void Server::engine_loop() {
  using Clock = std::chrono::steady_clock;
  bool ticking = opts_.tick.count() > 0;
  auto next_tick = Clock::now() + opts_.tick;
  for (;;) {
    std::vector<Slot*> batch;
    {
      std::unique_lock<std::mutex> lk(mu_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      // Wake for the next tick and for the first parked reader whose wait ends.
      auto wake = Clock::time_point::max();
      if (ticking) wake = next_tick;
      for (auto& w : readers_) wake = std::min(wake, w.until);
      if (wake == Clock::time_point::max())
        cv_.wait(lk, ready);
      else
        cv_.wait_until(lk, wake, ready);
      if (stopping_) return;
      while (!queue_.empty() && batch.size() < static_cast<size_t>(opts_.max_batch)) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    bool tick_due = ticking && Clock::now() >= next_tick;
    if (tick_due) next_tick = Clock::now() + opts_.tick;
    if (batch.empty() && !tick_due) {
      wake_readers(false);
      continue;
    }
    std::vector<Slot*> answered;  // all but the readers parked to wait for lines
    size_t reached = 0;           // requests of the batch taken up before a failure
    try {
      engine_.begin_group();
      if (tick_due) tick();
      for (Slot* s : batch) {
        ++reached;
        try {
          if (answer(s)) answered.push_back(s);
        } catch (const std::exception& e) {
          // The engine rolled back this input alone (its savepoint); the others in the group stand.
          s->reply =
              error_reply(nullptr, Code::Internal, std::string("the request failed: ") + e.what()).dump();
          answered.push_back(s);
        }
      }
      engine_.commit_group();
    } catch (const std::exception& e) {
      // The group did not commit: none of it is durable, so nobody is told it succeeded. The engine went
      // back to what the store holds (Engine::commit_group), so the next group starts from the truth.
      pending_lines_.clear();
      for (Slot* s : batch)
        s->reply = error_reply(nullptr, Code::Internal,
                               std::string("the store failed, nothing was kept: ") + e.what() + "; retry")
                       .dump();
      // Those never taken up (the group could not even begin) are answered too, or their clients would
      // wait for good.
      for (size_t i = reached; i < batch.size(); ++i) answered.push_back(batch[i]);
    }
    publish();
    for (Slot* s : answered) send(s);
    wake_readers(false);
  }
}

void Server::publish() {
  for (auto& [line, about] : pending_lines_) {
    int64_t seq = ring_.add(engine_.now(), line, std::move(about));
    if (!pub_open_) continue;
    std::string m = json{{"seq", seq}, {"at", engine_.now()}, {"line", std::move(line)}}.dump();
    nng_send(pub_, m.data(), m.size(), NNG_FLAG_NONBLOCK);  // a slow subscriber loses lines, not us time
  }
  pending_lines_.clear();
}

void Server::stop() {
  if (stopped_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (engine_thread_.joinable()) engine_thread_.join();
  // Parked readers get what there is: their contexts are about to close.
  wake_readers(true);
  guard_.stop();
  nng_close(rep_);
  for (auto& s : slots_) {
    nng_aio_stop(s->aio);
    nng_aio_free(s->aio);
  }
  if (pub_open_) nng_close(pub_);
}

}  // namespace orgos::net
