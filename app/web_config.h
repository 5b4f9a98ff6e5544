// The web configuration file of the metrics endpoint (metrics.web_config_file), in the format of
// the Prometheus exporter-toolkit (node_exporter's --web.config.file): `tls_server_config` turns
// the listener into HTTPS, `basic_auth_users` (user: bcrypt hash) makes every path, /healthz and
// /readyz included as in exporter-toolkit, answer 401 without a valid user and password.
// https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md
//
// Read once by Service::Create (so check-config reports its problems) and handed to
// MetricsEndpoint::Start; the certificates are loaded when the listener starts.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline {

// exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType).
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

struct WebTlsConfig {
  // PEM files; relative paths are relative to the web configuration file's directory.
  std::string cert_file;
  std::string key_file;
  ClientAuth client_auth_type = ClientAuth::kNoClientCert;
  std::string client_ca_file;
  int min_version = 0x0303;  // TLS12, exporter-toolkit's default (OpenSSL's TLS1_2_VERSION)
  int max_version = 0x0304;  // TLS13
};

struct WebConfig {
  bool tls = false;  // tls_server_config given
  WebTlsConfig tls_server_config;
  // {user, bcrypt hash} in file order.
  std::vector<std::pair<std::string, std::string>> basic_auth_users;
};

// Every problem of `yaml`, one per line: "FILE:LINE:COLUMN: key.path: what is wrong". Relative
// file names resolve against `dir`; each named file must be readable.
absl::StatusOr<WebConfig> ParseWebConfig(std::string_view yaml, std::string_view file,
                                         std::string_view dir);
// kInvalidArgument (every problem, prefixed by `metrics.web_config_file`) or kNotFound.
absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path);

// True when `password` hashes to `hash` (bcrypt $2a$/$2b$/$2y$, through libcrypt's crypt_rn);
// the comparison runs in constant time.
bool BcryptMatches(const std::string& password, const std::string& hash);

}  // namespace faultline
