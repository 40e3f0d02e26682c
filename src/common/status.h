#pragma once
// Errors as values, after LevelDB's Status and stout's Try: a small closed set of codes plus a
// message that gains context at each level ("Failed to attach disk 'vda' to VM 'web-1': ...").
// Only the API layer maps codes to HTTP statuses.

#include <string>
#include <string_view>
#include <utility>

namespace berth {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kVersionMismatch,     // optimistic concurrency: the If-Match version is stale
  kFailedPrecondition,  // state forbids the action (quota exceeded, object in use)
  kConflict,            // a resource shared by every project is held by someone else (a host port)
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,   // rate limited, too large
  kUnavailable,
  kInternal,
};

// Stable lower_snake name of a code, used in API errors and logs.
std::string_view statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool isOk() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is prefixed: "context: message".
  Status withContext(std::string_view context) const;

  // "not_found: project 'x' does not exist"; "ok" for success.
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status alreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status versionMismatch(std::string m) { return {StatusCode::kVersionMismatch, std::move(m)}; }
inline Status failedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status permissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status resourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status internalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

}  // namespace berth

// Propagates a failed Status (or the Status of a failed Result) to the caller.
#define BERTH_RETURN_IF_ERROR(expr)                  \
  do {                                               \
    ::berth::Status berth_status_ = (expr);          \
    if (!berth_status_.isOk()) return berth_status_; \
  } while (0)
