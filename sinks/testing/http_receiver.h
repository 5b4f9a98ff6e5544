// Drives sinks/testing/webhook_receiver.py, a real HTTP/1.1 server (Python's http.server) that
// records webhook deliveries and answers as scripted: the peer of the webhook, PagerDuty and
// Slack transport tests.
#pragma once

#include <curl/curl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/testing/child_process.h"
#include "simdjson.h"

namespace faultline::testing {

struct ReceivedRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int64_t client_port = 0;
  int64_t status = 0;  // what the receiver answered
  double time = 0;     // when it arrived, Unix seconds
};

// A plain HTTP exchange for tests (GET when `body` is empty and `post` false).
inline std::pair<long, std::string> HttpExchange(const std::string& url, const std::string& body,
                                                 bool post, const std::string& content_type = "") {
  CURL* curl = curl_easy_init();
  std::string out;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_slist* headers = nullptr;
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    if (!content_type.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    }
  }
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) -> size_t {
        static_cast<std::string*>(u)->append(d, s * n);
        return s * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return {status, out};
}

inline std::pair<long, std::string> HttpGet(const std::string& url) {
  return HttpExchange(url, "", false);
}

class WebhookReceiver {
 public:
  // Starts the receiver on `port` (0: a free one), answering by `script` from the start (see
  // webhook_receiver.py). Null if it did not come up in 10 s.
  static std::unique_ptr<WebhookReceiver> Start(int port = 0, const std::string& log = "",
                                                const std::string& script = "") {
    std::vector<std::string> argv = {
        "/usr/bin/python3",
        std::string(FAULTLINE_SOURCE_DIR) + "/sinks/testing/webhook_receiver.py", "--port",
        std::to_string(port)};
    if (!log.empty()) argv.insert(argv.end(), {"--log", log});
    if (!script.empty()) argv.insert(argv.end(), {"--script", script});
    std::unique_ptr<WebhookReceiver> r(new WebhookReceiver(argv));
    const std::string out = r->child_.ReadLines(1, absl::Seconds(10));
    if (out.rfind("PORT ", 0) != 0 ||
        !absl::SimpleAtoi(out.substr(5, out.find('\n') - 5), &r->port_)) {
      return nullptr;
    }
    return r;
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  // Replaces the answer script (see webhook_receiver.py).
  void Script(const std::string& json) { HttpExchange(url("/_script"), json, true); }

  std::vector<ReceivedRequest> Requests() const {
    std::vector<ReceivedRequest> out;
    const auto [status, body] = HttpGet(url("/_requests"));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (status != 200 || parser.parse(body).get(doc) != simdjson::SUCCESS) return out;
    simdjson::dom::array items;
    if (doc.get_array().get(items) != simdjson::SUCCESS) return out;
    for (simdjson::dom::element item : items) {
      ReceivedRequest r;
      std::string_view s;
      if (item["path"].get_string().get(s) == simdjson::SUCCESS) r.path = s;
      if (item["body"].get_string().get(s) == simdjson::SUCCESS) r.body = s;
      if (item["client_port"].get_int64().get(r.client_port) != simdjson::SUCCESS) continue;
      if (item["status"].get_int64().get(r.status) != simdjson::SUCCESS) continue;
      if (item["time"].get_double().get(r.time) != simdjson::SUCCESS) continue;
      simdjson::dom::object headers;
      if (item["headers"].get_object().get(headers) == simdjson::SUCCESS) {
        for (auto field : headers) {
          std::string_view v;
          if (field.value.get_string().get(v) == simdjson::SUCCESS) {
            r.headers[std::string(field.key)] = std::string(v);
          }
        }
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  explicit WebhookReceiver(const std::vector<std::string>& argv) : child_(argv) {}
  ChildProcess child_;
  int port_ = 0;
};

}  // namespace faultline::testing
