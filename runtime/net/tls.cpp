#include "runtime/net/tls.h"

#include <fstream>
#include <sstream>

namespace orgos::net {

namespace {

std::string read_pem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TlsError("cannot read the " + what + " `" + path + "`: no such file, or not readable");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.find("-----BEGIN") == std::string::npos)
    throw TlsError("the " + what + " `" + path + "` is not PEM (no -----BEGIN line)");
  return s;
}

TlsConfig alloc(nng_tls_mode mode) {
  nng_tls_config* c = nullptr;
  int rv = nng_tls_config_alloc(&c, mode);
  if (rv != 0) throw TlsError(std::string("TLS is not available in this build of nng: ") + nng_strerror(rv));
  return TlsConfig(c);
}

// The host of `tls+tcp://HOST:PORT` (brackets of an IPv6 literal removed).
std::string host_of(const std::string& url) {
  auto start = url.find("://");
  std::string rest = start == std::string::npos ? url : url.substr(start + 3);
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    return close == std::string::npos ? rest : rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.rfind(':'));
}

}  // namespace

bool is_tls_url(const std::string& url) {
  return url.rfind("tls+", 0) == 0;
}

TlsConfig server_tls(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() || key_file.empty())
    throw TlsError("a tls+tcp:// address needs a certificate and its key (--tls-cert FILE --tls-key FILE)");
  std::string cert = read_pem("certificate", cert_file);
  std::string key = read_pem("key", key_file);
  TlsConfig c = alloc(NNG_TLS_MODE_SERVER);
  int rv = nng_tls_config_own_cert(c.get(), cert.c_str(), key.c_str(), nullptr);
  if (rv != 0)
    throw TlsError("cannot use the certificate `" + cert_file + "` with the key `" + key_file +
                   "`: " + nng_strerror(rv) + " (are they PEM, unencrypted, and a pair?)");
  return c;
}

TlsConfig client_tls(const std::string& url, const TlsClientOptions& o) {
  TlsConfig c = alloc(NNG_TLS_MODE_CLIENT);
  if (o.ca_file.empty()) {
    if (!o.insecure)
      throw TlsError("`" + url +
                     "` is a TLS address but no CA was given to check the server with: pass --tls-ca FILE "
                     "(the CA or the server's own certificate), or --tls-insecure to talk to it unverified");
    nng_tls_config_auth_mode(c.get(), NNG_TLS_AUTH_MODE_NONE);
    return c;
  }
  std::string ca = read_pem("CA", o.ca_file);
  int rv = nng_tls_config_ca_chain(c.get(), ca.c_str(), nullptr);
  if (rv != 0) throw TlsError("cannot use the CA `" + o.ca_file + "`: " + nng_strerror(rv));
  nng_tls_config_auth_mode(c.get(), NNG_TLS_AUTH_MODE_REQUIRED);
  std::string name = o.server_name.empty() ? host_of(url) : o.server_name;
  if ((rv = nng_tls_config_server_name(c.get(), name.c_str())) != 0)
    throw TlsError("cannot check the server as `" + name + "`: " + nng_strerror(rv));
  return c;
}

}  // namespace orgos::net
