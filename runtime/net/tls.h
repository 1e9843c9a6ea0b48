// TLS for the request socket (nng's tls+tcp:// transport, mbedTLS underneath in Debian's build): the
// server's certificate and key, and the client's check of the server against a CA. A client that talks
// to a tls+tcp:// address without a CA is refused unless it says it accepts an unverified server.
#pragma once
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace orgos::net {

class TlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a client trusts: the CA that signed the server's certificate, the name to check it for (default:
// the host of the address), or, explicitly, nothing (the connection is encrypted but the server unproven).
struct TlsClientOptions {
  std::string ca_file;
  std::string server_name;
  bool insecure = false;
};

bool is_tls_url(const std::string& url);

struct TlsConfigFree {
  void operator()(nng_tls_config* c) const { nng_tls_config_free(c); }
};
using TlsConfig = std::unique_ptr<nng_tls_config, TlsConfigFree>;

// A server configuration from PEM files; throws TlsError naming the file and what is wrong.
TlsConfig server_tls(const std::string& cert_file, const std::string& key_file);
// A client configuration for `url`; throws TlsError when no CA is given and `insecure` is not set.
TlsConfig client_tls(const std::string& url, const TlsClientOptions& o);

}  // namespace orgos::net
