#include "runtime/net/client.h"

#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include <future>
#include <memory>
#include <thread>

namespace orgos::net {

namespace {
std::string failure(const std::string& what, const std::string& url, int rv) {
  return "cannot " + what + " `" + url + "`: " + nng_strerror(rv);
}
}  // namespace

namespace {
// nng 1.5.2 (Debian's) sometimes never returns from nng_close: the close waits for the socket's pipe list to
// empty and the reaper never removes the last pipe (upstream #648, #1813). Seen about once in twenty closes
// of a subscriber that has read events, and on a REQ socket whose connection the server dropped while it
// redialled and resent (a request over the hard limit: the test suite hung there in CI once in many runs). A
// client must not hang its host on the way out, so the close runs on its own thread and is given up on after
// a bound; the stuck socket (a few kilobytes) is then left to the end of the process, which does not wait for
// it.
void close_bounded(nng_socket sock) {
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> done = closed->get_future();
  std::thread([sock, closed] {
    nng_close(sock);
    closed->set_value();
  }).detach();
  done.wait_for(std::chrono::seconds(2));
}

}  // namespace

Client::Client(const std::string& url, std::string token, std::chrono::milliseconds timeout,
               const TlsClientOptions& tls)
    : url_(url), token_(std::move(token)) {
  if (is_tls_url(url)) {
    try {
      tls_ = client_tls(url, tls);
    } catch (const TlsError& e) {
      throw ClientError(e.what());
    }
  }
  int rv = nng_req0_open(&sock_);
  if (rv != 0) throw ClientError(std::string("cannot open a REQ socket: ") + nng_strerror(rv));
  nng_socket_set_ms(sock_, NNG_OPT_RECVTIMEO, static_cast<nng_duration>(timeout.count()));
  nng_socket_set_ms(sock_, NNG_OPT_SENDTIMEO, static_cast<nng_duration>(timeout.count()));
  nng_dialer d;
  if ((rv = nng_dialer_create(&d, sock_, url.c_str())) != 0) {
    nng_close(sock_);
    throw ClientError(failure("connect to", url, rv) +
                      " (an address is tcp://HOST:PORT or tls+tcp://HOST:PORT)");
  }
  if (tls_ && (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls_.get())) != 0) {
    nng_close(sock_);
    throw ClientError(failure("use TLS with", url, rv));
  }
  // A synchronous dial: a missing server, or one that fails the TLS check, is reported here, not as a
  // timeout later.
  if ((rv = nng_dialer_start(d, 0)) != 0) {
    nng_close(sock_);
    std::string why = " (is `orgctl serve` running there?)";
    if (rv == NNG_EPEERAUTH || rv == NNG_ECRYPTO)
      why =
          " (the server's certificate is not signed by the CA given with --tls-ca, or is not for this "
          "host)";
    throw ClientError(failure("connect to", url, rv) + why);
  }
}

Client::~Client() {
  close_bounded(sock_);
}

std::string Client::call_raw(const std::string& bytes) {
  int rv = nng_send(sock_, const_cast<char*>(bytes.data()), bytes.size(), 0);
  if (rv != 0) throw ClientError(failure("send to", url_, rv));
  char* buf = nullptr;
  size_t n = 0;
  if ((rv = nng_recv(sock_, &buf, &n, NNG_FLAG_ALLOC)) != 0)
    throw ClientError(
        failure("receive a reply from", url_, rv) +
        (rv == NNG_ETIMEDOUT ? " (the server is busy or stopped; retry with the same key)" : ""));
  std::string reply(buf, n);
  nng_free(buf, n);
  return reply;
}

json Client::call(json request) {
  if (!token_.empty() && !request.contains("token")) request["token"] = token_;
  json r = json::parse(call_raw(request.dump()), nullptr, false);
  if (r.is_discarded() || !r.is_object())
    throw ClientError("the server at `" + url_ + "` sent a reply that is not JSON");
  return r;
}

Subscriber::Subscriber(const std::string& url, std::chrono::milliseconds timeout) {
  int rv = nng_sub0_open(&sock_);
  if (rv != 0) throw ClientError(std::string("cannot open a SUB socket: ") + nng_strerror(rv));
  nng_socket_set(sock_, NNG_OPT_SUB_SUBSCRIBE, "", 0);
  nng_socket_set_ms(sock_, NNG_OPT_RECVTIMEO, static_cast<nng_duration>(timeout.count()));
  if ((rv = nng_dial(sock_, url.c_str(), nullptr, 0)) != 0) {
    nng_close(sock_);
    throw ClientError(failure("subscribe to", url, rv) + " (is `orgctl serve` running with --events there?)");
  }
}

Subscriber::~Subscriber() {
  close_bounded(sock_);
}

std::optional<json> Subscriber::next() {
  char* buf = nullptr;
  size_t n = 0;
  int rv = nng_recv(sock_, &buf, &n, NNG_FLAG_ALLOC);
  if (rv == NNG_ETIMEDOUT) return std::nullopt;
  if (rv != 0) throw ClientError(std::string("the event stream failed: ") + nng_strerror(rv));
  json j = json::parse(std::string(buf, n), nullptr, false);
  nng_free(buf, n);
  if (j.is_discarded()) return json{{"line", "(a message that is not JSON)"}};
  return j;
}

}  // namespace orgos::net
