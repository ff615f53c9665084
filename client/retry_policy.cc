#include "client/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace tsdsr::client {

AttemptClass ClassifyAttempt(long http_status) {
  switch (http_status) {
    case 429:
    case 503:
      return AttemptClass::kBusy;
    case 0:
    case 502:
    case 504:
    case 507:
      return AttemptClass::kTransient;
    default:
      return AttemptClass::kFinal;
  }
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  constexpr std::size_t kMaxDigits = 9;  // about 31 years; more is nonsense and could overflow
  if (value.empty() || value.size() > kMaxDigits) return std::nullopt;
  long long seconds = 0;
  for (char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

std::chrono::milliseconds RetryPolicy::Backoff(int retry) const {
  std::chrono::milliseconds wait = settings_.backoff_base;
  for (int i = 0; i < retry && wait < settings_.backoff_cap; ++i) wait *= 2;
  return std::min(wait, settings_.backoff_cap);
}

std::optional<std::chrono::milliseconds> RetryPolicy::NextDelay(long http_status, std::string_view retry_after,
                                                                double jitter) {
  switch (ClassifyAttempt(http_status)) {
    case AttemptClass::kFinal:
      transient_in_a_row_ = 0;
      return std::nullopt;
    case AttemptClass::kTransient:
      if (transient_in_a_row_ >= settings_.max_retries) return std::nullopt;
      return Backoff(transient_in_a_row_++);
    case AttemptClass::kBusy:
      break;
  }
  transient_in_a_row_ = 0;
  std::optional<std::chrono::seconds> hint = ParseRetryAfter(retry_after);
  std::chrono::milliseconds wait = hint ? std::chrono::milliseconds(*hint) : Backoff(busy_without_hint_++);
  wait = std::min(wait, settings_.retry_after_cap);
  wait += std::chrono::milliseconds(static_cast<long long>(wait.count() * 0.2 * std::clamp(jitter, 0.0, 1.0)));
  if (busy_waited_ + wait > settings_.busy_budget) return std::nullopt;
  busy_waited_ += wait;
  return wait;
}

}  // namespace tsdsr::client
