// One Sigma value test, compiled: what `Field|modifiers: value` becomes once the modifiers have
// been applied (sigma-specification, "Value Modifiers"). Matching allocates nothing: the event's
// values come as views (their ASCII-lowercased copy for case-insensitive tests, made once per
// event by the caller), regexes run on match data made at compile time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline::sigma {

// Sigma plain values are case-insensitive; their wildcards are `*` and `?`, escaped with `\`
// (a backslash before anything else is itself).
enum class MatchKind : uint8_t {
  kEquals,      // the whole value
  kContains,    // *text*
  kStartsWith,  // text*
  kEndsWith,    // *text
  kGlob,        // wildcards inside
  kRegex,       // |re, PCRE2 (Sigma's dialect), case-sensitive unless |re|i
  kCidr,        // |cidr, IPv4 or IPv6 network
  kNumeric,     // |gt |gte |lt |lte, the field read as a number
  kExists,      // |exists: true or false
  kNull,        // `field: null`: absent or empty
  kFieldRef,    // |fieldref: equal to (or contains, starts or ends with) another field's value
};

enum class NumericOp : uint8_t { kGt, kGte, kLt, kLte };

class Regex;  // PCRE2 code and match data

struct Pattern {
  MatchKind kind = MatchKind::kEquals;
  bool cased = false;  // |cased, or a regex: compare the original value, not its lowercase
  // kEquals..kGlob: the literal (ASCII-lowercased unless cased); kGlob: with `wild`, the same
  // length, holding '*' or '?' where the pattern has a wildcard and 0 elsewhere.
  std::string text;
  std::string wild;
  std::shared_ptr<Regex> regex;             // kRegex
  std::array<uint8_t, 16> net{};            // kCidr: the network (IPv4 in the first 4 bytes)
  int prefix = 0;                           // kCidr
  bool v6 = false;                          // kCidr
  NumericOp op = NumericOp::kGt;            // kNumeric
  double number = 0;                        // kNumeric
  bool exists = true;                       // kExists
  MatchKind ref_kind = MatchKind::kEquals;  // kFieldRef: how the other field's value is compared
  uint32_t ref_field = 0;                   // kFieldRef: its field id (FieldIndex)
};

// Glob-aware builders. `value` is the Sigma text (wildcards and escapes as written); `prefix`
// and `suffix` add an unescaped `*` (|contains, |endswith, |startswith).
Pattern PlainPattern(std::string_view value, bool wildcard_before, bool wildcard_after, bool cased);
// A literal (no wildcard interpretation: what |base64 and |utf16 produce) compared by `kind`.
Pattern LiteralPattern(std::string_view bytes, MatchKind kind, bool cased);
absl::StatusOr<Pattern> RegexPattern(std::string_view regex, bool ignore_case, bool multiline,
                                     bool dot_all);
absl::StatusOr<Pattern> CidrPattern(std::string_view network);
absl::StatusOr<Pattern> NumericPattern(std::string_view number, NumericOp op);

// The event's value of one field: the text as sent, and its ASCII-lowercased copy.
struct FieldValue {
  std::string_view text;
  std::string_view lower;
};

// Whether a present value matches (kExists and kNull are decided by the caller from presence;
// kFieldRef gets the other field's value in `ref`).
bool Matches(const Pattern& p, const FieldValue& value, const FieldValue* ref = nullptr);

// Glob over (pattern, wild): where `wild` holds '*' the pattern matches any run, '?' any one
// byte, 0 the pattern's byte itself (Pattern::text and Pattern::wild of a kGlob).
bool GlobMatch(std::string_view pattern, std::string_view wild, std::string_view s);

// ASCII lowercase of `text` appended to `out`.
void AppendLower(std::string_view text, std::string* out);

}  // namespace faultline::sigma
