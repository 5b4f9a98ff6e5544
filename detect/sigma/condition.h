// A Sigma rule's condition, parsed into a small tree over its search identifiers: `and`, `or`,
// `not`, parentheses, `1 of sel*`, `all of sel*`, `N of them` (sigma-specification, "Condition").
// A condition with an aggregation (`| count() > 5`, Sigma 1's form) is refused: that is a
// correlation rule's job now.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline::sigma {

struct ConditionNode {
  enum class Kind : uint8_t { kSelection, kAnd, kOr, kNot, kAtLeast };
  Kind kind = Kind::kSelection;
  int selection = -1;         // kSelection: index into the rule's search identifiers
  int at_least = 1;           // kAtLeast: how many children must hold ("2 of sel*")
  std::vector<int> children;  // node indices
};

struct Condition {
  std::vector<ConditionNode> nodes;
  int root = -1;
};

// Parses `text` over the search identifiers `names` (their index is the selection number).
absl::StatusOr<Condition> ParseCondition(std::string_view text,
                                         const std::vector<std::string>& names);

// Evaluates the tree; `selection(i)` says whether search identifier i matched (called lazily,
// and only for the identifiers the outcome depends on).
template <typename SelectionFn>
bool Evaluate(const Condition& c, int node, SelectionFn&& selection) {
  const ConditionNode& n = c.nodes[static_cast<size_t>(node)];
  switch (n.kind) {
    case ConditionNode::Kind::kSelection:
      return selection(n.selection);
    case ConditionNode::Kind::kNot:
      return !Evaluate(c, n.children[0], selection);
    case ConditionNode::Kind::kAnd:
      for (int child : n.children) {
        if (!Evaluate(c, child, selection)) return false;
      }
      return true;
    case ConditionNode::Kind::kOr:
      for (int child : n.children) {
        if (Evaluate(c, child, selection)) return true;
      }
      return false;
    case ConditionNode::Kind::kAtLeast: {
      int held = 0;
      for (int child : n.children) {
        if (Evaluate(c, child, selection) && ++held >= n.at_least) return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace faultline::sigma
