#include "app/tls_front.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/clock.h"

namespace faultline {
namespace {

// Bounds a stalled peer's read or write; a scrape is far quicker.
constexpr int kIoTimeoutSeconds = 10;
// The whole TLS handshake, however the peer trickles its bytes in.
constexpr absl::Duration kHandshakeDeadline = absl::Seconds(10);
// A connection with no byte either way for this long is closed (Prometheus reconnects): neither
// an idle keep-alive nor a silent peer holds one of the kMaxConnections slots for ever.
constexpr int kIdleMillis = 60'000;
// And any connection after this long, however busy: a peer trickling bytes holds a slot no
// longer.
constexpr absl::Duration kMaxLifetime = absl::Minutes(5);
// How often the relay and accept loops look at stop_.
constexpr int kPollMillis = 200;

std::string OpenSslError() {
  std::string out;
  while (const uint64_t e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&out, out.empty() ? "" : "; ", buf);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

void SetTimeouts(int fd) {
  timeval tv{.tv_sec = kIoTimeoutSeconds, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int LocalPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

// The TLS handshake of `ssl` on `fd`, within kHandshakeDeadline of the clock's now and given up
// once `stop` is set: the socket is non-blocking meanwhile, blocking again afterwards.
bool Handshake(SSL* ssl, int fd, const std::atomic<bool>& stop) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return false;
  const absl::Time deadline = RealClock::Get().TimeNow() + kHandshakeDeadline;
  bool done = false;
  while (!stop.load()) {
    const int r = SSL_accept(ssl);
    if (r == 1) {
      done = true;
      break;
    }
    const int error = SSL_get_error(ssl, r);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) break;
    const absl::Duration left = deadline - RealClock::Get().TimeNow();
    if (left <= absl::ZeroDuration()) break;
    pollfd p{.fd = fd,
             .events = static_cast<int16_t>(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT),
             .revents = 0};
    const int64_t wait = std::min<int64_t>(kPollMillis, absl::ToInt64Milliseconds(left) + 1);
    if (poll(&p, 1, static_cast<int>(wait)) < 0 && errno != EINTR) break;
  }
  return fcntl(fd, F_SETFL, flags) == 0 && done;
}

// Go's RequestClientCert and RequireAnyClientCert take any certificate, unverified.
int AcceptAnyCertificate(int /*preverified*/, X509_STORE_CTX* /*store*/) { return 1; }

std::mutex g_wait_mu;
std::condition_variable g_wait_cv;

}  // namespace

std::string ConfigureTls(SSL_CTX* ctx, const WebTlsConfig& tls) {
  auto fail = [](const std::string& what) { return absl::StrCat(what, ": ", OpenSslError()); };
  if (SSL_CTX_set_min_proto_version(ctx, tls.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, tls.max_version) != 1) {
    return fail("tls_server_config: cannot set the TLS versions");
  }
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // A client resuming a session (curl does) needs a context id once certificates are verified.
  static constexpr unsigned char kSessionContext[] = "faultline-metrics";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    return fail(absl::StrCat("tls_server_config.cert_file: cannot load ", tls.cert_file));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(absl::StrCat("tls_server_config.key_file: cannot load ", tls.key_file));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail("tls_server_config: key_file does not match cert_file");
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      return fail(
          absl::StrCat("tls_server_config.client_ca_file: cannot load ", tls.client_ca_file));
    }
    SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(tls.client_ca_file.c_str()));
  }
  switch (tls.client_auth_type) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         &AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return "";
}

absl::StatusOr<std::unique_ptr<TlsFront>> TlsFront::Start(const std::string& listen,
                                                          const WebTlsConfig& tls,
                                                          int backend_port) {
  std::unique_ptr<TlsFront> f(new TlsFront());
  f->backend_port_ = backend_port;
  f->ctx_ = SSL_CTX_new(TLS_server_method());
  if (f->ctx_ == nullptr) return absl::UnavailableError("cannot create a TLS context");
  if (std::string why = ConfigureTls(f->ctx_, tls); !why.empty()) {
    return absl::UnavailableError(absl::StrCat("metrics.web_config_file: ", why));
  }

  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics.listen: cannot resolve ", listen, ": ", gai_strerror(rc)));
  }
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      f->listen_fd_ = fd;
      break;
    }
    error = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  if (f->listen_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics.listen: cannot listen on ", listen, ": ", error));
  }
  f->port_ = LocalPort(f->listen_fd_);
  f->acceptor_ = std::thread([self = f.get()] { self->AcceptLoop(); });
  return f;
}

TlsFront::~TlsFront() {
  stop_.store(true);
  if (acceptor_.joinable()) acceptor_.join();
  {
    // Each relay notices stop_ within kPollMillis (or its I/O timeout) and counts itself out.
    std::unique_lock<std::mutex> lock(g_wait_mu);
    g_wait_cv.wait(lock, [this] { return active_.load() == 0; });
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

bool TlsFront::Relays(int local_port) const {
  std::lock_guard<std::mutex> lock(mu_);
  return relay_ports_.contains(local_port);
}

void TlsFront::AcceptLoop() {
  while (!stop_.load()) {
    pollfd p{.fd = listen_fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, kPollMillis) <= 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      // Out of descriptors: the pending connection stays readable; wait instead of spinning.
      if (errno == EMFILE || errno == ENFILE) poll(nullptr, 0, kPollMillis);
      continue;
    }
    if (active_.load() >= kMaxConnections) {
      close(client);
      continue;
    }
    active_.fetch_add(1);
    std::thread([this, client] {
      Relay(client);
      {
        std::lock_guard<std::mutex> lock(g_wait_mu);
        active_.fetch_sub(1);
      }
      g_wait_cv.notify_all();
    }).detach();
  }
}

void TlsFront::Relay(int client) {
  SetTimeouts(client);
  SSL* ssl = SSL_new(ctx_);
  int backend = -1;
  int relay_port = 0;
  if (ssl != nullptr && SSL_set_fd(ssl, client) == 1 && Handshake(ssl, client, stop_)) {
    backend = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(backend_port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (backend >= 0) {
      SetTimeouts(backend);
      // Bound before connecting, so the backend never sees a request from a port not yet known.
      sockaddr_in local{};
      local.sin_family = AF_INET;
      local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (bind(backend, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0) {
        relay_port = LocalPort(backend);
        std::lock_guard<std::mutex> lock(mu_);
        relay_ports_.insert(relay_port);
      }
      if (relay_port == 0 ||
          connect(backend, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(backend);
        backend = -1;
      }
    }
  }
  char buf[16384];
  int idle_millis = 0;  // polls that saw nothing, in milliseconds
  const absl::Time end = RealClock::Get().TimeNow() + kMaxLifetime;
  while (backend >= 0 && !stop_.load() && idle_millis < kIdleMillis &&
         RealClock::Get().TimeNow() < end) {
    pollfd p[2] = {{.fd = client, .events = POLLIN, .revents = 0},
                   {.fd = backend, .events = POLLIN, .revents = 0}};
    if (SSL_pending(ssl) == 0) {
      const int n = poll(p, 2, kPollMillis);
      if (n < 0 && errno != EINTR) break;
      if (n <= 0) {
        idle_millis += kPollMillis;
        continue;
      }
    }
    idle_millis = 0;
    if (SSL_pending(ssl) > 0 || p[0].revents != 0) {
      const int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0) {
        if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ) continue;
        break;
      }
      if (!SendAll(backend, buf, static_cast<size_t>(n))) break;
    }
    if (p[1].revents != 0) {
      const ssize_t n = recv(backend, buf, sizeof(buf), 0);
      if (n <= 0) break;
      if (SSL_write(ssl, buf, static_cast<int>(n)) <= 0) break;
    }
  }
  if (ssl != nullptr) {
    if (backend >= 0) SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  if (relay_port != 0) {  // before the port is closed, and free for another socket to take
    std::lock_guard<std::mutex> lock(mu_);
    relay_ports_.erase(relay_port);
  }
  if (backend >= 0) close(backend);
  close(client);
}

}  // namespace faultline
