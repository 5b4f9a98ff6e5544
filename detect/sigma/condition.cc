#include "detect/sigma/condition.h"

#include <cctype>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/strings.h"
#include "detect/sigma/pattern.h"

namespace faultline::sigma {
namespace {

struct Token {
  enum class Kind : uint8_t { kWord, kOpen, kClose, kPipe, kEnd };
  Kind kind;
  std::string_view text;
};

bool WordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '*' || c == '-' ||
         c == '.' || c == '?';
}

class Parser {
 public:
  Parser(std::string_view text, const std::vector<std::string>& names)
      : text_(text), names_(names) {}

  absl::StatusOr<Condition> Parse() {
    if (absl::Status s = Tokenize(); !s.ok()) return s;
    absl::StatusOr<int> root = Or();
    if (!root.ok()) return root.status();
    if (Peek().kind == Token::Kind::kPipe) {
      return absl::InvalidArgumentError(
          "the condition has an aggregation ('|'), Sigma 1's form: write a correlation rule");
    }
    if (Peek().kind != Token::Kind::kEnd) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected '", ToAbsl(Peek().text), "' in the condition"));
    }
    out_.root = *root;
    return std::move(out_);
  }

 private:
  absl::Status Tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c)) != 0) {
        ++i;
      } else if (c == '|') {
        tokens_.push_back({Token::Kind::kPipe, text_.substr(i, 1)});
        break;  // an aggregation follows: refused whole, whatever it says
      } else if (c == '(' || c == ')') {
        tokens_.push_back(
            {c == '(' ? Token::Kind::kOpen : Token::Kind::kClose, text_.substr(i, 1)});
        ++i;
      } else if (WordChar(c)) {
        const size_t start = i;
        while (i < text_.size() && WordChar(text_[i])) ++i;
        tokens_.push_back({Token::Kind::kWord, text_.substr(start, i - start)});
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected character '", ToAbsl(text_.substr(i, 1)), "' in the condition"));
      }
    }
    tokens_.push_back({Token::Kind::kEnd, ""});
    return absl::OkStatus();
  }

  const Token& Peek() const { return tokens_[pos_]; }
  bool PeekWord(std::string_view word) const {
    return Peek().kind == Token::Kind::kWord && EqualsIgnoreCase(Peek().text, word);
  }

  int Add(ConditionNode node) {
    out_.nodes.push_back(std::move(node));
    return static_cast<int>(out_.nodes.size()) - 1;
  }

  absl::StatusOr<int> Or() {
    absl::StatusOr<int> first = And();
    if (!first.ok() || !PeekWord("or")) return first;
    ConditionNode node{.kind = ConditionNode::Kind::kOr};
    node.children.push_back(*first);
    while (PeekWord("or")) {
      ++pos_;
      absl::StatusOr<int> next = And();
      if (!next.ok()) return next;
      node.children.push_back(*next);
    }
    return Add(std::move(node));
  }

  absl::StatusOr<int> And() {
    absl::StatusOr<int> first = Not();
    if (!first.ok() || !PeekWord("and")) return first;
    ConditionNode node{.kind = ConditionNode::Kind::kAnd};
    node.children.push_back(*first);
    while (PeekWord("and")) {
      ++pos_;
      absl::StatusOr<int> next = Not();
      if (!next.ok()) return next;
      node.children.push_back(*next);
    }
    return Add(std::move(node));
  }

  absl::StatusOr<int> Not() {
    // Every level of nesting passes here: bounded, so no rule file can exhaust the stack (the
    // evaluation and the prefilter recurse over the same tree).
    if (++depth_ > kMaxDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat("the condition nests deeper than ", kMaxDepth, " levels"));
    }
    absl::StatusOr<int> result = NotBody();
    --depth_;
    return result;
  }

  absl::StatusOr<int> NotBody() {
    if (!PeekWord("not")) return Primary();
    ++pos_;
    absl::StatusOr<int> inner = Not();
    if (!inner.ok()) return inner;
    ConditionNode node{.kind = ConditionNode::Kind::kNot};
    node.children.push_back(*inner);
    return Add(std::move(node));
  }

  absl::StatusOr<int> Primary() {
    const Token t = Peek();
    if (t.kind == Token::Kind::kOpen) {
      ++pos_;
      absl::StatusOr<int> inner = Or();
      if (!inner.ok()) return inner;
      if (Peek().kind != Token::Kind::kClose) {
        return absl::InvalidArgumentError("a '(' in the condition is not closed");
      }
      ++pos_;
      return inner;
    }
    if (t.kind != Token::Kind::kWord) {
      return absl::InvalidArgumentError(
          t.kind == Token::Kind::kEnd
              ? std::string("the condition ends where a search identifier was expected")
              : absl::StrCat("unexpected '", ToAbsl(t.text), "' in the condition"));
    }
    ++pos_;
    // "1 of x*", "all of them", "any of x" (an alias some rules use for "1 of").
    if (PeekWord("of")) {
      ++pos_;
      int at_least = 1;
      const bool all = EqualsIgnoreCase(t.text, "all");
      if (!all && !EqualsIgnoreCase(t.text, "any") &&
          (!absl::SimpleAtoi(ToAbsl(t.text), &at_least) || at_least < 1)) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", ToAbsl(t.text), " of' is not a quantifier (1, all, or a count)"));
      }
      if (Peek().kind != Token::Kind::kWord) {
        return absl::InvalidArgumentError("'of' must be followed by a pattern or 'them'");
      }
      const std::string_view pattern = Peek().text;
      ++pos_;
      const bool them = EqualsIgnoreCase(pattern, "them");
      ConditionNode node{.kind = all ? ConditionNode::Kind::kAnd : ConditionNode::Kind::kAtLeast,
                         .at_least = at_least};
      for (size_t i = 0; i < names_.size(); ++i) {
        // "them" leaves out identifiers that start with '_' (as pySigma does).
        const bool pick =
            them ? !names_[i].empty() && names_[i][0] != '_' : GlobMatchCased(pattern, names_[i]);
        if (pick) {
          node.children.push_back(
              Add({.kind = ConditionNode::Kind::kSelection, .selection = static_cast<int>(i)}));
        }
      }
      if (node.children.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", ToAbsl(pattern), "' names no search identifier"));
      }
      return Add(std::move(node));
    }
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == t.text) {
        return Add({.kind = ConditionNode::Kind::kSelection, .selection = static_cast<int>(i)});
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("the condition names '", ToAbsl(t.text), "', which the detection lacks"));
  }

  // Identifier patterns: '*' any run, '?' one character, case-sensitive as identifiers are.
  static bool GlobMatchCased(std::string_view pattern, std::string_view name) {
    std::string wild(pattern.size(), '\0');
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i] == '*' || pattern[i] == '?') wild[i] = pattern[i];
    }
    return GlobMatch(pattern, wild, name);
  }

  std::string_view text_;
  const std::vector<std::string>& names_;
  static constexpr int kMaxDepth = 200;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  Condition out_;
};

}  // namespace

absl::StatusOr<Condition> ParseCondition(std::string_view text,
                                         const std::vector<std::string>& names) {
  return Parser(text, names).Parse();
}

}  // namespace faultline::sigma
