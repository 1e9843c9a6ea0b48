// The client side of the server protocol (protocol.h): a REQ socket for requests, a SUB socket for the
// event stream. Used by `orgctl --connect`, the tests and bench/server_driver.
#pragma once
#include <nng/nng.h>

#include <chrono>
#include <optional>
#include <string>

#include "runtime/net/protocol.h"
#include "runtime/net/tls.h"

namespace orgos::net {

class ClientError : public std::exception {
 public:
  explicit ClientError(std::string m) : msg_(std::move(m)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};

class Client {
 public:
  // Connects at once; throws ClientError (with what to check) when the server is not there, or, for a
  // tls+tcp:// address, when the server cannot be verified with `tls` (or no CA is given and `tls` does
  // not say insecure).
  Client(const std::string& url, std::string token,
         std::chrono::milliseconds timeout = std::chrono::seconds(30), const TlsClientOptions& tls = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends `request` with the token added and returns the reply object (ok or error).
  json call(json request);
  // Sends bytes as they are and returns the reply text: for tests of malformed requests.
  std::string call_raw(const std::string& bytes);

 private:
  std::string url_, token_;
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
  TlsConfig tls_;
};

// Close a subscriber once its stream is quiet (next() timed out): nng 1.5.2 can hang closing a SUB
// socket while a message arrives, and then every later close in the process waits behind it. The
// destructor gives such a close up after two seconds rather than hang its host.
class Subscriber {
 public:
  Subscriber(const std::string& url, std::chrono::milliseconds timeout);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  // The next message, or nullopt when none came within the timeout.
  std::optional<json> next();

 private:
  nng_socket sock_ = NNG_SOCKET_INITIALIZER;
};

}  // namespace orgos::net
