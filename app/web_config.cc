#include "app/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/settings.h"
#include "core/strings.h"

namespace faultline {
namespace {

using settings::Kind;
using settings::Problems;
using settings::Seen;

const settings::Schema<WebTlsConfig>& TlsSchema() {
  static const auto* schema = [] {
    const std::vector<std::pair<std::string, int>> versions = {
        {"TLS10", 0x0301}, {"TLS11", 0x0302}, {"TLS12", 0x0303}, {"TLS13", 0x0304}};
    auto* s = new settings::Schema<WebTlsConfig>("HTTPS for the metrics endpoint.");
    s->String("cert_file", &WebTlsConfig::cert_file,
              "The server certificate (PEM, the chain after it).", /*required=*/true)
        .String("key_file", &WebTlsConfig::key_file, "Its private key (PEM).", /*required=*/true)
        .Choice("client_auth_type", &WebTlsConfig::client_auth_type,
                std::vector<std::pair<std::string, ClientAuth>>{
                    {"NoClientCert", ClientAuth::kNoClientCert},
                    {"RequestClientCert", ClientAuth::kRequestClientCert},
                    {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
                    {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
                    {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert}},
                "Whether clients must show a certificate, and whether it is verified.")
        .String("client_ca_file", &WebTlsConfig::client_ca_file,
                "The CAs client certificates are verified against (PEM).")
        .Choice("min_version", &WebTlsConfig::min_version, versions,
                "The oldest TLS version accepted.")
        .Choice("max_version", &WebTlsConfig::max_version, versions,
                "The newest TLS version accepted.")
        .Check([](const WebTlsConfig& t, settings::Checker& check) {
          const bool verifies = t.client_auth_type == ClientAuth::kVerifyClientCertIfGiven ||
                                t.client_auth_type == ClientAuth::kRequireAndVerifyClientCert;
          if (verifies && t.client_ca_file.empty()) {
            check.Error("client_auth_type", "verifying client certificates needs client_ca_file");
          }
          if (!verifies && !t.client_ca_file.empty()) {
            check.Error("client_ca_file",
                        "is only used with client_auth_type VerifyClientCertIfGiven or "
                        "RequireAndVerifyClientCert");
          }
          if (t.max_version < t.min_version) {
            check.Error("max_version", "must not be older than min_version");
          }
        });
    return s;
  }();
  return *schema;
}

bool LooksLikeBcrypt(const std::string& hash) {
  return hash.size() == 60 && (absl::StartsWith(hash, "$2a$") || absl::StartsWith(hash, "$2b$") ||
                               absl::StartsWith(hash, "$2y$"));
}

const settings::Schema<WebConfig>& WebConfigSchema() {
  static const auto* schema = [] {
    auto* s = new settings::Schema<WebConfig>("The metrics endpoint's web configuration file.");
    const settings::SchemaBase& tls = TlsSchema();
    s->Add({.key = "tls_server_config",
            .kind = Kind::kSection,
            .type = "section",
            .description = tls.description(),
            .nested = &tls},
           [&tls](WebConfig& c, const YAML::Node& node, const std::string& path, Seen&,
                  Problems& problems) {
             c.tls = true;
             if (!node.IsMap()) {
               problems.Add(node, path, "must be a mapping with cert_file and key_file");
               return;
             }
             settings::ReadMapping(node, path, {{&tls, &c.tls_server_config}}, problems);
           })
        .Add({.key = "basic_auth_users",
              .kind = Kind::kMap,
              .type = "mapping of user to bcrypt hash",
              .description = "Users and the bcrypt hashes of their passwords."},
             [](WebConfig& c, const YAML::Node& node, const std::string& path, Seen&,
                Problems& problems) {
               if (node.IsNull()) return;
               settings::ReadStringMap(
                   node, path, problems, [&](std::string user, std::string hash) {
                     const YAML::Node at = node[user];
                     const std::string where = settings::Join(path, user);
                     if (user.empty() || absl::StrContains(user, ':')) {
                       problems.Add(at, where, "a user name must not be empty nor contain ':'");
                     } else if (!LooksLikeBcrypt(hash)) {
                       // The value is not echoed: it may be a password pasted by mistake.
                       problems.Add(at, where,
                                    "must be a bcrypt hash ($2y$..., 60 characters), such as "
                                    "`htpasswd -nbBC 10 \"\" PASSWORD | tr -d ':\\n'` prints");
                     } else {
                       c.basic_auth_users.emplace_back(std::move(user), std::move(hash));
                     }
                   });
             });
    return s;
  }();
  return *schema;
}

// Relative to the web configuration file, as exporter-toolkit resolves them; each must be a
// readable file, reported at its key.
void ResolveFile(const YAML::Node& root, std::string_view dir, const char* key, std::string* file,
                 Problems& problems) {
  if (file->empty()) return;
  if ((*file)[0] != '/' && !dir.empty()) *file = absl::StrCat(ToAbsl(dir), "/", *file);
  std::ifstream in(*file);
  struct stat st;
  if (!in || ::stat(file->c_str(), &st) != 0 || S_ISDIR(st.st_mode)) {
    problems.Add(root["tls_server_config"][key], settings::Join("tls_server_config", key),
                 absl::StrCat("cannot read ", *file));
  }
}

}  // namespace

absl::StatusOr<WebConfig> ParseWebConfig(std::string_view yaml, std::string_view file,
                                         std::string_view dir) {
  Problems problems;
  YAML::Node root = settings::LoadYaml(yaml, problems);
  WebConfig config;
  if (problems.empty()) {
    try {
      settings::ReadMapping(root, "", {{&WebConfigSchema(), &config}}, problems);
    } catch (const YAML::Exception& e) {
      problems.Add(settings::Problem{
          .line = e.mark.line + 1, .column = e.mark.column + 1, .message = e.what()});
    }
  }
  if (problems.empty() && config.tls) {
    WebTlsConfig& t = config.tls_server_config;
    ResolveFile(root, dir, "cert_file", &t.cert_file, problems);
    ResolveFile(root, dir, "key_file", &t.key_file, problems);
    ResolveFile(root, dir, "client_ca_file", &t.client_ca_file, problems);
  }
  if (absl::Status s = problems.ToStatus(file); !s.ok()) return s;
  return config;
}

absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path) {
  struct stat st;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || ::stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat("metrics.web_config_file: cannot read the web configuration file ", path));
  }
  const size_t slash = path.rfind('/');
  absl::StatusOr<WebConfig> config = ParseWebConfig(
      text.str(), path, slash == std::string::npos ? "." : std::string_view(path).substr(0, slash));
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics.web_config_file: ", config.status().message()));
  }
  return config;
}

bool BcryptMatches(const std::string& password, const std::string& hash) {
  // crypt() stops at a NUL: "secret\0anything" would pass for "secret".
  if (absl::StrContains(ToAbsl(password), absl::string_view("\0", 1))) return false;
  // crypt_data is 32 KiB: too much for a civetweb thread's stack.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') return false;
  const std::string computed(out);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return computed.size() == hash.size() &&
         CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

}  // namespace faultline
