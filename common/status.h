// Status and Result<T>: the one error type of the project. Library exceptions (c10::Error, cv::Exception,
// zmq::error_t, nlohmann::json::exception) are caught where they happen and turned into a Status.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tsdsr {

// Codes map one-to-one onto HTTP statuses in the dispatcher (see dispatcher/http_errors.cc).
enum class StatusCode {
  kOk,
  kInvalidArgument,     // 400: a bad parameter or an undecodable image
  kNotFound,            // 404
  kTooLarge,            // 413: body or pixel count over a limit
  kUnsupportedType,     // 415
  kUnavailable,         // 503: queue full, no worker alive, draining
  kDeadlineExceeded,    // 504
  kCancelled,           // 499-style: the client went away or cancelled
  kResourceExhausted,   // out of memory on a device
  kFailedPrecondition,  // e.g. a model that failed to load
  kAborted,             // 502: the job was lost with its worker too many times
  kUnauthenticated,     // 401: a missing or wrong API key
  kConflict,            // 409: the request clashes with the resource's state (e.g. a result not ready yet)
  kGone,                // 410: the resource existed and was removed (e.g. an expired result)
  kInsufficientStorage, // 507: the server cannot store what it must (full or unwritable data dir)
  kTooManyRequests,     // 429: a client over its own limit (others are still served)
  kInternal,            // 500: a real fault
};

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
  static Status UnsupportedType(std::string m) { return {StatusCode::kUnsupportedType, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status Gone(std::string m) { return {StatusCode::kGone, std::move(m)}; }
  static Status InsufficientStorage(std::string m) { return {StatusCode::kInsufficientStorage, std::move(m)}; }
  static Status TooManyRequests(std::string m) { return {StatusCode::kTooManyRequests, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: upscale must be 2 or 4"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Stable snake_case name of a code ("invalid_argument"); used on the wire and in JSON errors.
std::string_view StatusCodeName(StatusCode code);
// Inverse of StatusCodeName; nullopt for an unknown name.
std::optional<StatusCode> StatusCodeFromName(std::string_view name);

// Either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error, or OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tsdsr

// Evaluates a Status expression and returns it from the calling function when it is not OK.
#define TSDSR_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::tsdsr::Status tsdsr_status_ = (expr); \
    if (!tsdsr_status_.ok()) return tsdsr_status_; \
  } while (0)

#define TSDSR_CONCAT_INNER_(a, b) a##b
#define TSDSR_CONCAT_(a, b) TSDSR_CONCAT_INNER_(a, b)
// TSDSR_ASSIGN_OR_RETURN(auto x, MakeX()): assigns the value or returns the error from the calling function.
#define TSDSR_ASSIGN_OR_RETURN(lhs, expr) \
  TSDSR_ASSIGN_OR_RETURN_IMPL_(TSDSR_CONCAT_(tsdsr_result_, __LINE__), lhs, expr)
#define TSDSR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
