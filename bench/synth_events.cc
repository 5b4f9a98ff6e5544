// Writes synthetic Winlogbeat 8 events as JSON lines to stdout, for replay at scale:
//   synth_events EVENTS KEYS FAILURE_EVERY STEP_US
// KEYS (host, pool) pairs (KEYS/10 hosts x 10 pools); one event in FAILURE_EVERY is a WAS 5011
// worker failure of the next key in a scrambled order, the rest are Service Control Manager
// 7036 state changes no detector wants; event time advances STEP_US microseconds per event.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: synth_events EVENTS KEYS FAILURE_EVERY STEP_US\n");
    return 2;
  }
  const uint64_t events = std::strtoull(argv[1], nullptr, 10);
  const uint64_t keys = std::strtoull(argv[2], nullptr, 10);
  const uint64_t failure_every = std::strtoull(argv[3], nullptr, 10);
  const uint64_t step_us = std::strtoull(argv[4], nullptr, 10);
  if (events == 0 || keys < 10 || failure_every == 0) return 2;
  const int64_t t0_us = 1'773'100'800LL * 1'000'000;  // 2026-03-10T00:00:00Z
  static char buffer[1 << 20];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof(buffer));
  uint64_t failure = 0;
  for (uint64_t i = 0; i < events; ++i) {
    const int64_t t = t0_us + static_cast<int64_t>(i * step_us);
    const time_t secs = static_cast<time_t>(t / 1'000'000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[96];
    std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t % 1'000'000);
    if (i % failure_every == 0) {
      const uint64_t key = (failure++ * 7919) % keys;  // 7919: prime, so every key comes round
      std::printf(
          "{\"@timestamp\":\"%s\",\"event\":{\"code\":\"5011\",\"kind\":\"event\"},"
          "\"log\":{\"level\":\"warning\"},\"message\":\"A process serving application pool "
          "'pool%" PRIu64
          "' suffered a fatal communication error with the Windows Process "
          "Activation "
          "Service.\",\"winlog\":{\"channel\":\"System\",\"computer_name\":\"web%05" PRIu64
          ".contoso.local\",\"event_data\":{\"AppPoolID\":\"pool%" PRIu64
          "\",\"ProcessID\":\"%" PRIu64
          "\",\"Binary\":\"6D000780\"},\"event_id\":\"5011\",\"provider_name\":"
          "\"Microsoft-Windows-WAS\",\"record_id\":%" PRIu64 "}}\n",
          ts, key % 10, key / 10, key % 10, 1000 + i % 60000, i + 1);
    } else {
      std::printf(
          "{\"@timestamp\":\"%s\",\"event\":{\"code\":\"7036\",\"kind\":\"event\"},"
          "\"log\":{\"level\":\"information\"},\"message\":\"The Windows Update service entered "
          "the running "
          "state.\",\"winlog\":{\"channel\":\"System\",\"computer_name\":\"web%05" PRIu64
          ".contoso.local\",\"event_data\":{\"param1\":\"Windows Update\",\"param2\":\"running\","
          "\"Binary\":\"770075006100750073006500720076002F0034000000\"},\"event_id\":\"7036\","
          "\"provider_name\":\"Service Control Manager\",\"record_id\":%" PRIu64 "}}\n",
          ts, i % (keys / 10), i + 1);
    }
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
