#pragma once
// Result<T>: a value or a non-ok Status (stout's Try<T>). Accessing the value of a failed Result
// is a broken invariant and aborts.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "common/status.h"

namespace berth {

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;  // as std::optional, so generic code can name what a Result holds
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.isOk()) {
      std::fputs("berth: Result constructed from an ok Status without a value\n", stderr);
      std::abort();
    }
  }

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }

  T& value() & { check(); return *value_; }
  const T& value() const& { check(); return *value_; }
  T&& value() && { check(); return std::move(*value_); }
  T* operator->() { check(); return &*value_; }
  const T* operator->() const { check(); return &*value_; }
  T& operator*() & { check(); return *value_; }
  const T& operator*() const& { check(); return *value_; }

 private:
  void check() const {
    if (!value_) {
      std::fprintf(stderr, "berth: value() of a failed Result: %s\n", status_.toString().c_str());
      std::abort();
    }
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace berth

#define BERTH_CONCAT_INNER(a, b) a##b
#define BERTH_CONCAT(a, b) BERTH_CONCAT_INNER(a, b)

// BERTH_ASSIGN_OR_RETURN(auto x, makeX()); returns the Status if makeX() failed.
// It expands to several statements (it must declare `x` in the caller's scope): brace it
// when it is the body of an if.
#define BERTH_ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL(BERTH_CONCAT(berth_result_, __LINE__), lhs, expr)
#define BERTH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.isOk()) return tmp.status();             \
  lhs = std::move(tmp).value()
