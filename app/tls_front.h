// The TLS side of the metrics endpoint (metrics.web_config_file's tls_server_config): listens on
// metrics.listen, completes the TLS handshake with faultline's own OpenSSL context and relays
// each connection's bytes to the civetweb listener on a loopback port.
//
// Why not civetweb's TLS: Debian 12's libcivetweb 1.15 dlopen()s libssl and looks up
// SSL_get_peer_certificate, which OpenSSL 3 has only as a macro; the pointer stays null and
// every accepted HTTPS connection crashes the process (it also needs libssl-dev's unversioned
// libssl.so at run time). Owned by MetricsEndpoint; one accept thread and one thread per
// connection (at most kMaxConnections): a handshake must end within 10 s, a connection with no
// byte either way for 60 s or older than 5 minutes is closed, and the destructor waits for them all
// (each notices the stop within 200 ms).
#pragma once

#include <openssl/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "app/web_config.h"

namespace faultline {

class TlsFront {
 public:
  static constexpr int kMaxConnections = 16;

  // Binds `listen` ("host:port") and relays to 127.0.0.1:`backend_port`. kUnavailable when the
  // address cannot be bound or a certificate, key or CA file does not load.
  static absl::StatusOr<std::unique_ptr<TlsFront>> Start(const std::string& listen,
                                                         const WebTlsConfig& tls, int backend_port);
  ~TlsFront();

  int port() const { return port_; }
  // True when `local_port` is the local end of one of this front's connections to the backend:
  // the backend refuses requests that bypass TLS.
  bool Relays(int local_port) const;

 private:
  TlsFront() = default;
  void AcceptLoop();
  void Relay(int client);

  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  int backend_port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  absl::flat_hash_set<int> relay_ports_;  // guarded by mu_
};

// Loads the certificate, key, client CAs and versions of `tls` into `ctx`; what went wrong, or
// "" on success.
std::string ConfigureTls(SSL_CTX* ctx, const WebTlsConfig& tls);

}  // namespace faultline
