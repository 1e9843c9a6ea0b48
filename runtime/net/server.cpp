#include "runtime/net/server.h"

#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include <ctime>
#include <iostream>

namespace orgos::net {

// Why one engine thread: the engine and its SQLite connection are single-threaded by design (inputs are
// applied in log order, deterministically). So the nng side is asynchronous — many REP contexts receive
// and send at once on nng's own threads — and every received request is queued for the one thread that
// owns the engine. That thread takes what has piled up, applies it under one store transaction (group
// commit: one fsync for the lot), and only then sends the replies, so nothing is acknowledged before it
// is durable.
struct Server::Slot {
  Server* server = nullptr;
  nng_ctx ctx = NNG_CTX_INITIALIZER;
  nng_aio* aio = nullptr;
  enum { Receiving, Sending } state = Receiving;
  std::string request, reply;
};

namespace {

void slot_callback(void* arg);

void receive(Server::Slot* s) {
  s->state = Server::Slot::Receiving;
  nng_ctx_recv(s->ctx, s->aio);
}

std::string nng_failure(const std::string& what, const std::string& url, int rv) {
  return "cannot " + what + " `" + url + "`: " + nng_strerror(rv);
}

// `tcp://host:0` with the port the listener got, so callers can connect to it.
std::string bound_url(const std::string& url, nng_listener l) {
  if (url.rfind("tcp://", 0) != 0 || url.size() < 2 || url.substr(url.size() - 2) != ":0") return url;
  int port = 0;
  if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) != 0) return url;
  return url.substr(0, url.size() - 1) + std::to_string(port);
}

}  // namespace

Server::Server(workflow::Engine& engine, store::Store& store, ServerOptions opts)
    : engine_(engine), store_(store), dispatcher_(engine), tokens_(store), opts_(std::move(opts)) {
  int rv = nng_rep0_open(&rep_);
  if (rv != 0) throw ServerError(std::string("cannot open a REP socket: ") + nng_strerror(rv));
  nng_socket_set_size(rep_, NNG_OPT_RECVMAXSZ, kHardLimitBytes);
  nng_listener l;
  if ((rv = nng_listen(rep_, opts_.listen.c_str(), &l, 0)) != 0) {
    nng_close(rep_);
    throw ServerError(nng_failure("listen at", opts_.listen, rv) +
                      " (is another server there? choose another --listen address)");
  }
  url_ = bound_url(opts_.listen, l);
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

Server::~Server() {
  stop();
}

namespace {
void slot_callback(void* arg) {
  auto* s = static_cast<Server::Slot*>(arg);
  int rv = nng_aio_result(s->aio);
  if (s->state == Server::Slot::Sending) {
    if (rv != 0) nng_msg_free(nng_aio_get_msg(s->aio));  // the peer went away: the reply is dropped
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

std::string Server::answer(const std::string& request) {
  auto parsed = parse_request(request);
  if (auto* e = std::get_if<ProtocolError>(&parsed)) return error_reply(e->id, e->code, e->message).dump();
  const Request& r = std::get<Request>(parsed);
  if (r.token.empty())
    return error_reply(r.id, Code::Unauthenticated,
                       "the request has no \"token\": create one with `orgctl token add ACTOR --db FILE`")
        .dump();
  std::string why;
  auto actor = tokens_.actor_of(r.token, why);
  if (!actor)
    return error_reply(r.id, Code::Unauthenticated,
                       why + ": ask for a new one (`orgctl token add ACTOR --db FILE`)")
        .dump();
  if (r.verb == "server.info")
    return ok_reply(r.id, {{"url", url_}, {"events", events_url_}, {"actor", *actor}, {"now", engine_.now()}})
        .dump();
  return dispatcher_.handle(r, *actor).dump();
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
      if (ticking)
        cv_.wait_until(lk, next_tick, ready);
      else
        cv_.wait(lk, ready);
      if (stopping_) return;
      while (!queue_.empty() && batch.size() < static_cast<size_t>(opts_.max_batch)) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    bool tick_due = ticking && Clock::now() >= next_tick;
    if (tick_due) next_tick = Clock::now() + opts_.tick;
    if (batch.empty() && !tick_due) continue;
    try {
      engine_.begin_group();
      if (tick_due) tick();
      for (Slot* s : batch) {
        try {
          s->reply = answer(s->request);
        } catch (const std::exception& e) {
          // The engine rolled back this input alone (its savepoint); the others in the group stand.
          s->reply =
              error_reply(nullptr, Code::Internal, std::string("the request failed: ") + e.what()).dump();
        }
      }
      engine_.commit_group();
    } catch (const std::exception& e) {
      // The group did not commit: none of it is durable, so nobody is told it succeeded.
      pending_lines_.clear();
      for (Slot* s : batch)
        s->reply = error_reply(nullptr, Code::Internal,
                               std::string("the store failed, nothing was kept: ") + e.what() + "; retry")
                       .dump();
    }
    publish();
    for (Slot* s : batch) {
      nng_msg* m = nullptr;
      nng_msg_alloc(&m, 0);
      nng_msg_append(m, s->reply.data(), s->reply.size());
      s->state = Slot::Sending;
      nng_aio_set_msg(s->aio, m);
      nng_ctx_send(s->ctx, s->aio);
    }
  }
}

void Server::publish() {
  if (!pub_open_) {
    pending_lines_.clear();
    return;
  }
  for (const std::string& line : pending_lines_) {
    std::string m = json{{"seq", ++published_}, {"at", engine_.now()}, {"line", line}}.dump();
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
  nng_close(rep_);
  for (auto& s : slots_) {
    nng_aio_stop(s->aio);
    nng_aio_free(s->aio);
  }
  if (pub_open_) nng_close(pub_);
}

}  // namespace orgos::net
