#include "common/status.h"

#include <array>

namespace tsdsr {
namespace {

struct CodeName {
  StatusCode code;
  std::string_view name;
};

constexpr std::array<CodeName, 17> kCodeNames = {{
    {StatusCode::kOk, "ok"},
    {StatusCode::kInvalidArgument, "invalid_argument"},
    {StatusCode::kNotFound, "not_found"},
    {StatusCode::kTooLarge, "too_large"},
    {StatusCode::kUnsupportedType, "unsupported_type"},
    {StatusCode::kUnavailable, "unavailable"},
    {StatusCode::kDeadlineExceeded, "deadline_exceeded"},
    {StatusCode::kCancelled, "cancelled"},
    {StatusCode::kResourceExhausted, "resource_exhausted"},
    {StatusCode::kFailedPrecondition, "failed_precondition"},
    {StatusCode::kAborted, "aborted"},
    {StatusCode::kUnauthenticated, "unauthenticated"},
    {StatusCode::kConflict, "conflict"},
    {StatusCode::kGone, "gone"},
    {StatusCode::kInsufficientStorage, "insufficient_storage"},
    {StatusCode::kTooManyRequests, "too_many_requests"},
    {StatusCode::kInternal, "internal"},
}};

}  // namespace

std::string_view StatusCodeName(StatusCode code) {
  for (const auto& entry : kCodeNames) {
    if (entry.code == code) return entry.name;
  }
  return "internal";
}

std::optional<StatusCode> StatusCodeFromName(std::string_view name) {
  for (const auto& entry : kCodeNames) {
    if (entry.name == name) return entry.code;
  }
  return std::nullopt;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace tsdsr
