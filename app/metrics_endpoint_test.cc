#include "app/metrics_endpoint.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "core/testing/child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "sinks/testing/http_receiver.h"
#include "sinks/testing/peer_process.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::HttpGet;
using testing::PrometheusQuery;

class OneCounter final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily f =
        Family("faultline_test_total", "A counter for the test.", prometheus::MetricType::Counter);
    AddSample(&f, 42, {{"kind", "x"}});
    prometheus::MetricFamily h = Family("faultline_test_seconds", "A histogram for the test.",
                                        prometheus::MetricType::Histogram);
    AddHistogram(&h, {0.1, 1}, {1, 3, 4}, 7.5);
    return {f, h};
  }
};

TEST(MetricsEndpointTest, ServesMetricsAndBothHealthChecksOnOneListener) {
  std::atomic<bool> ready{false};
  auto endpoint = MetricsEndpoint::Start(
      "127.0.0.1:0", std::make_shared<OneCounter>(), [](std::string*) { return true; },
      [&](std::string* why) {
        if (!ready.load()) *why = "not in the consumer group yet";
        return ready.load();
      });
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_GT((*endpoint)->port(), 0) << "port 0 picks a free port and reports it";
  const std::string base = absl::StrCat("http://127.0.0.1:", (*endpoint)->port());

  const auto [status, metrics] = HttpGet(base + "/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_THAT(metrics, HasSubstr("# TYPE faultline_test_total counter\n"
                                 "faultline_test_total{kind=\"x\"} 42\n"));
  EXPECT_THAT(metrics, HasSubstr("faultline_test_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_THAT(metrics, HasSubstr("faultline_test_seconds_sum 7.5\n"));

  EXPECT_EQ(HttpGet(base + "/healthz"), std::make_pair(200L, std::string("ok\n")));
  EXPECT_EQ(HttpGet(base + "/readyz"),
            std::make_pair(503L, std::string("not in the consumer group yet\n")));
  ready.store(true);
  EXPECT_EQ(HttpGet(base + "/readyz"), std::make_pair(200L, std::string("ready\n")));
  EXPECT_EQ(HttpGet(base + "/nothing").first, 404);
}

TEST(MetricsEndpointTest, RefusesAnAddressItCannotBind) {
  auto first = MetricsEndpoint::Start(
      "127.0.0.1:0", std::make_shared<OneCounter>(), [](std::string*) { return true; },
      [](std::string*) { return true; });
  ASSERT_TRUE(first.ok());
  auto second = MetricsEndpoint::Start(
      absl::StrCat("127.0.0.1:", (*first)->port()), std::make_shared<OneCounter>(),
      [](std::string*) { return true; }, [](std::string*) { return true; });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("metrics.listen: cannot listen"));
}

// A self-signed certificate for 127.0.0.1 and its key, made by the openssl CLI in a scratch
// directory; the certificate is also the CA a client trusts.
struct TestCertificate {
  std::string dir, cert, key;
};

TestCertificate MakeCertificate(const std::string& name) {
  TestCertificate c;
  c.dir = ::testing::TempDir() + "/faultline-tls-" + name;
  std::filesystem::remove_all(c.dir);
  std::filesystem::create_directories(c.dir);
  c.cert = c.dir + "/tls.crt";
  c.key = c.dir + "/tls.key";
  testing::ChildProcess openssl(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=faultline-test",
       "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", c.key, "-out", c.cert},
      {}, c.dir + "/openssl.log");
  EXPECT_EQ(openssl.Wait(absl::Seconds(30)), 0) << "see " << c.dir << "/openssl.log";
  return c;
}

std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  auto data = std::make_unique<crypt_data>();
  return crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
}

struct Response {
  long status = 0;  // 0: no HTTP answer (refused, TLS failed)
  std::string headers, body;
};

// GET `url`, trusting `ca_file` (https), with `user_password` ("user:password") when set.
Response Get(const std::string& url, const std::string& ca_file,
             const std::string& user_password = "") {
  Response r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  if (!user_password.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, user_password.c_str());
  }
  auto append = +[](char* d, size_t s, size_t n, void* u) -> size_t {
    static_cast<std::string*>(u)->append(d, s * n);
    return s * n;
  };
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  }
  curl_easy_cleanup(curl);
  return r;
}

// TLS with `c` as the server's certificate and key.
WebConfig Tls(const TestCertificate& c) {
  WebConfig web;
  web.tls = true;
  web.tls_server_config.cert_file = c.cert;
  web.tls_server_config.key_file = c.key;
  return web;
}

WebConfig TlsAndUser(const TestCertificate& c, const std::string& user,
                     const std::string& password) {
  WebConfig web = Tls(c);
  web.basic_auth_users.emplace_back(user, Bcrypt(password));
  return web;
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartWith(WebConfig web) {
  return MetricsEndpoint::Start(
      "127.0.0.1:0", std::make_shared<OneCounter>(), [](std::string*) { return true; },
      [](std::string*) { return true; }, std::move(web));
}

TEST(MetricsEndpointTest, ServesHttpsOnlyWithTlsServerConfig) {
  const TestCertificate c = MakeCertificate("https");
  WebConfig web = Tls(c);
  auto endpoint = StartWith(web);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_STREQ((*endpoint)->scheme(), "https");
  const std::string port = absl::StrCat((*endpoint)->port());

  const Response metrics = Get("https://127.0.0.1:" + port + "/metrics", c.cert);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("faultline_test_total{kind=\"x\"} 42\n"));
  EXPECT_EQ(Get("https://127.0.0.1:" + port + "/healthz", c.cert).status, 200);
  EXPECT_EQ(Get("http://127.0.0.1:" + port + "/metrics", "").status, 0)
      << "plain HTTP to the TLS port gets no HTTP answer";
  EXPECT_EQ(
      Get("https://127.0.0.1:" + port + "/metrics", "/etc/ssl/certs/ca-certificates.crt").status, 0)
      << "a client that does not trust the certificate";
}

// The loopback ports this process listens on (from /proc), but `except`.
std::vector<int> OwnLoopbackListeners(int except) {
  std::set<std::string> inodes;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && absl::StartsWith(target, "socket:[")) {
      inodes.insert(target.substr(8, target.size() - 9));
    }
  }
  std::vector<int> ports;
  std::ifstream tcp("/proc/self/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f.size() < 10 || f[3] != "0A" || !inodes.count(f[9])) continue;
    if (!absl::StartsWith(f[1], "0100007F:")) continue;
    const int port = std::stoi(f[1].substr(9), nullptr, 16);
    if (port != except) ports.push_back(port);
  }
  return ports;
}

TEST(MetricsEndpointTest, TheLoopbackListenerBehindTlsAnswersOnlyTheTlsFront) {
  const TestCertificate c = MakeCertificate("bypass");
  WebConfig web = Tls(c);
  auto endpoint = StartWith(web);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const std::vector<int> behind = OwnLoopbackListeners((*endpoint)->port());
  ASSERT_EQ(behind.size(), 1u) << "civetweb's plain listener";
  const Response direct = Get(absl::StrCat("http://127.0.0.1:", behind[0], "/metrics"), "");
  EXPECT_EQ(direct.status, 403);
  EXPECT_THAT(direct.body, ::testing::Not(HasSubstr("faultline_test_total")));
  EXPECT_EQ(Get(absl::StrCat("https://127.0.0.1:", (*endpoint)->port(), "/metrics"), c.cert).status,
            200);
}

TEST(MetricsEndpointTest, AHandshakeTricklingInIsCutOffAtItsDeadline) {
  // A byte of a ClientHello every second: each read is quick, the handshake never ends. The
  // front closes it after 10 s; without a deadline 16 of these would hold every slot for ever.
  const TestCertificate c = MakeCertificate("trickle");
  auto endpoint = StartWith(Tls(c));
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>((*endpoint)->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
  bool closed = false;
  for (size_t i = 0; i < 30 && !closed; ++i) {
    if (send(fd, hello + (i % (sizeof(hello) - 1)), 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    char byte;
    if (poll(&p, 1, 1000) == 1 && recv(fd, &byte, 1, 0) <= 0) closed = true;
  }
  close(fd);
  EXPECT_TRUE(closed) << "still open after 30 s of a handshake that never ends";
}

TEST(MetricsEndpointTest, HonoursMinVersion) {
  const TestCertificate c = MakeCertificate("tls13");
  WebConfig web = Tls(c);
  web.tls_server_config.min_version = 0x0304;
  auto endpoint = StartWith(web);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const std::string url = absl::StrCat("https://127.0.0.1:", (*endpoint)->port(), "/metrics");
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, c.cert.c_str());
  curl_easy_setopt(
      curl, CURLOPT_SSLVERSION,
      static_cast<long>(CURL_SSLVERSION_TLSv1_2) | static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2));
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION,
      +[](char*, size_t s, size_t n, void*) -> size_t { return s * n; });
  EXPECT_NE(curl_easy_perform(curl), CURLE_OK) << "a TLS 1.2 client is refused";
  curl_easy_cleanup(curl);
  EXPECT_EQ(Get(url, c.cert).status, 200) << "TLS 1.3 is served";
}

TEST(MetricsEndpointTest, AsksEveryPathForABasicAuthUserAndCountsFailures) {
  const TestCertificate c = MakeCertificate("auth");
  auto endpoint = StartWith(TlsAndUser(c, "prometheus", "right horse"));
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const std::string base = absl::StrCat("https://127.0.0.1:", (*endpoint)->port());

  for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
    const Response missing = Get(base + path, c.cert);
    EXPECT_EQ(missing.status, 401) << path;
    EXPECT_THAT(missing.headers, HasSubstr("WWW-Authenticate: Basic")) << path;
  }
  EXPECT_EQ(Get(base + "/metrics", c.cert, "prometheus:wrong horse").status, 401);
  EXPECT_EQ(Get(base + "/metrics", c.cert, "nobody:right horse").status, 401);
  EXPECT_EQ(Get(base + "/healthz", c.cert, "prometheus:right horse").status, 200);
  EXPECT_EQ(Get(base + "/readyz", c.cert, "prometheus:right horse").status, 200);

  const Response metrics = Get(base + "/metrics", c.cert, "prometheus:right horse");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("faultline_test_total{kind=\"x\"} 42\n"));
  EXPECT_THAT(metrics.body,
              HasSubstr("faultline_metrics_auth_failures_total{reason=\"missing\"} 3\n"));
  EXPECT_THAT(metrics.body,
              HasSubstr("faultline_metrics_auth_failures_total{reason=\"wrong\"} 2\n"));
}

TEST(MetricsEndpointTest, BasicAuthWorksOverPlainHttpToo) {
  WebConfig web;
  web.basic_auth_users.emplace_back("prometheus", Bcrypt("pw"));
  auto endpoint = StartWith(web);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const std::string url = absl::StrCat("http://127.0.0.1:", (*endpoint)->port(), "/metrics");
  EXPECT_EQ(Get(url, "").status, 401);
  EXPECT_EQ(Get(url, "", "prometheus:pw").status, 200);
}

TEST(MetricsEndpointTest, RefusesToStartWithAKeyThatDoesNotLoad) {
  const TestCertificate c = MakeCertificate("badkey");
  std::ofstream(c.dir + "/garbage.key") << "not a key\n";
  WebConfig web = Tls(c);
  web.tls_server_config.key_file = c.dir + "/garbage.key";
  auto endpoint = StartWith(web);
  ASSERT_FALSE(endpoint.ok());
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(endpoint.status().message()),
              HasSubstr("tls_server_config.key_file: cannot load " + c.dir + "/garbage.key"));
}

TEST(MetricsEndpointTest, RequireAndVerifyClientCertRefusesClientsWithoutOne) {
  const TestCertificate server = MakeCertificate("mtls-server");
  const TestCertificate client = MakeCertificate("mtls-client");
  const TestCertificate stranger = MakeCertificate("mtls-stranger");
  WebConfig web = Tls(server);
  web.tls_server_config.client_auth_type = ClientAuth::kRequireAndVerifyClientCert;
  web.tls_server_config.client_ca_file = client.cert;  // self-signed: its own CA
  auto endpoint = StartWith(web);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const std::string url = absl::StrCat("https://127.0.0.1:", (*endpoint)->port(), "/metrics");
  auto get_with = [&](const TestCertificate* c) {
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, server.cert.c_str());
    if (c != nullptr) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key.c_str());
    }
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION,
        +[](char*, size_t s, size_t n, void*) -> size_t { return s * n; });
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(curl);
    return status;
  };
  EXPECT_EQ(get_with(&client), 200);
  EXPECT_EQ(get_with(nullptr), 0) << "no client certificate";
  EXPECT_EQ(get_with(&stranger), 0) << "a certificate client_ca_file did not sign";
}

TEST(MetricsEndpointTest, TheRealPrometheusScrapesOverTlsWithBasicAuth) {
  FAULTLINE_REQUIRE_BINARY(testing::kPrometheusBinary);
  const TestCertificate c = MakeCertificate("prometheus");
  auto endpoint = StartWith(TlsAndUser(c, "prometheus", "scrape me"));
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();

  const std::string dir = testing::PeerDir("metrics-tls");
  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
         "scrape_configs:\n  - job_name: faultline\n    scheme: https\n"
         "    tls_config:\n      ca_file: '"
      << c.cert
      << "'\n    basic_auth:\n      username: prometheus\n      password: 'scrape me'\n"
         "    static_configs:\n      - targets: ['127.0.0.1:"
      << (*endpoint)->port() << "']\n";
  const int port = testing::FreePort();
  const std::string url = absl::StrCat("http://127.0.0.1:", port);
  auto prometheus = testing::PeerProcess::Start(
      {testing::kPrometheusBinary, "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/data",
       absl::StrCat("--web.listen-address=127.0.0.1:", port), "--log.level=warn"},
      url + "/-/ready", dir + "/prometheus.log", absl::Seconds(60));
  ASSERT_NE(prometheus, nullptr) << "Prometheus did not become ready; see " << dir
                                 << "/prometheus.log";
  const absl::Time deadline = RealClock::Get().TimeNow() + absl::Seconds(30);
  while (PrometheusQuery(url, "faultline_test_total") != "42" &&
         RealClock::Get().TimeNow() < deadline) {
    RealClock::Get().SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(PrometheusQuery(url, "faultline_test_total"), "42")
      << "Prometheus did not scrape over TLS with basic auth; see " << dir << "/prometheus.log";
  EXPECT_EQ(PrometheusQuery(url, "up%7Bjob%3D%22faultline%22%7D"), "1");
  EXPECT_EQ(PrometheusQuery(url, "faultline_metrics_auth_failures_total%7Breason%3D%22wrong%22%7D"),
            "0");
}

}  // namespace
}  // namespace faultline
