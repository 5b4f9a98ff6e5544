// Debian 12's Abseil (20220623) has no ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define FAULTLINE_RETURN_IF_ERROR(expr)         \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (0)

#define FAULTLINE_CONCAT_INNER_(a, b) a##b
#define FAULTLINE_CONCAT_(a, b) FAULTLINE_CONCAT_INNER_(a, b)

#define FAULTLINE_ASSIGN_OR_RETURN(lhs, expr) \
  FAULTLINE_ASSIGN_OR_RETURN_IMPL_(FAULTLINE_CONCAT_(_statusor_, __LINE__), lhs, expr)

#define FAULTLINE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()
