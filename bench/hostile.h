// Hostile messages made from real documents, for the tests that mix them into a stream
// (tests/hostile_stream_test.cc) and for bench/loadgen --hostile (tests/reliability/): cut
// anywhere, wrong types, deep nesting, invalid UTF-8, binary noise, JSON that is not an object,
// huge strings, broken XML and inner documents, numbers out of range, invalid times. Every one
// is a message faultline must reject (none parses into an event), whatever document it came
// from, so a test can count them exactly.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace faultline::testing {

class HostileGenerator {
 public:
  // `huge_bytes`: the size of the huge strings, one in 20,000 messages (Kafka's default limit
  // on a message is 1 MB; a file or a test's pipeline takes more).
  explicit HostileGenerator(uint64_t seed, size_t huge_bytes)
      : rng_(seed), huge_bytes_(huge_bytes) {}

  // The i-th hostile message, made from `doc`, a real JSON document (an object).
  std::string Next(uint64_t i, std::string_view doc) {
    switch (i % 12) {
      case 0:  // cut anywhere: an object without its closing brace
        return std::string(doc.substr(0, 1 + rng_() % (doc.size() - 1)));
      case 1:  // every field of the wrong type
        return R"({"@timestamp":123,"winlog":{"event_id":{"x":1},"computer_name":["a"],)"
               R"("record_id":"x","event_data":[1,2]},"message":17})";
      case 2: {  // nesting deeper than any parser should follow, balanced or not
        const size_t depth = 500 + rng_() % 3000;
        return "{\"winlog\":" + std::string(depth, '[') +
               std::string(i % 24 == 2 ? depth : 3, ']') + "}";
      }
      case 3: {  // invalid UTF-8 inside the first key
        std::string bad(doc);
        bad[2] = static_cast<char>(0xC0 | (rng_() % 2));
        return bad;
      }
      case 4: {  // binary noise, NULs included, no line breaks (files are read by lines)
        std::string noise(1 + rng_() % 2000, '\0');
        for (char& c : noise) {
          c = static_cast<char>(rng_());
          if (c == '\n') c = '\r';
        }
        return noise;
      }
      case 5:  // valid JSON that is not an object
        return i % 24 == 5 ? "[{\"winlog\":{}}]" : "\"a string\"";
      case 6:  // huge strings: a few of them
        if (i % 20000 == 6) {
          return "{\"@timestamp\":\"2026-03-10T09:14:02Z\",\"message\":\"" +
                 std::string(huge_bytes_, 'x') + "\"}";
        }
        return "{}";
      case 7:  // XML that is not a whole Windows event
        return "<Event><System><EventID>5011</EventID><Computer>EXCH01</Comp";
      case 8:  // whitespace only
        return "   \t ";
      case 9:  // numbers out of every range
        return R"({"@timestamp":"2026-03-10T09:14:02Z","winlog":{"event_id":1e400,)"
               R"("computer_name":"h","record_id":184467440737095516150}})";
      case 10:  // a wrapped inner document that is itself broken
        return R"({"@version":"1","message":"{\"winlog\":{\"event_id\":5011,"})";
      default:  // the real event with every date in it made invalid (month 13)
        return InvalidDates(doc);
    }
  }

 private:
  // `doc` with the month of every YYYY-MM-DD in it made 13; cut in two when it has no date.
  std::string InvalidDates(std::string_view doc) {
    std::string bad(doc);
    bool found = false;
    auto digit = [&bad](size_t k) { return bad[k] >= '0' && bad[k] <= '9'; };
    for (size_t k = 0; k + 10 <= bad.size(); ++k) {
      if (digit(k) && digit(k + 1) && digit(k + 2) && digit(k + 3) && bad[k + 4] == '-' &&
          digit(k + 5) && digit(k + 6) && bad[k + 7] == '-' && digit(k + 8) && digit(k + 9)) {
        bad[k + 5] = '1';
        bad[k + 6] = '3';
        found = true;
        k += 9;
      }
    }
    return found ? bad : bad.substr(0, bad.size() / 2);
  }

  std::mt19937_64 rng_;
  size_t huge_bytes_;
};

}  // namespace faultline::testing
