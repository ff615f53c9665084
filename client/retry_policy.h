// What tsdsr-client retries and how long it waits: pure decisions, no clock, no sleeping, no I/O.
//  - 503 and 429 (busy): wait what Retry-After says (seconds; at most 60 s per wait, plus 0-20 % jitter),
//    for at most kBusyRetryBudget of waiting per file.
//  - no answer (connect failure, lost connection, timeout), 502, 504 and 507: exponential backoff (0.5 s,
//    doubling, at most 30 s per wait), at most `max_retries` times in a row.
//  - anything else (2xx, other 4xx, 500, ...) is final.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tsdsr::client {

// How long a file may spend waiting on 503/429 answers before it is reported failed.
inline constexpr std::chrono::minutes kBusyRetryBudget{10};

struct RetrySettings {
  int max_retries = 5;                                      // --retries: transient failures in a row
  std::chrono::milliseconds backoff_base{500};              // first backoff wait; doubles each time
  std::chrono::milliseconds backoff_cap{30000};             // longest backoff wait
  std::chrono::milliseconds retry_after_cap{60000};         // longest single Retry-After wait
  std::chrono::milliseconds busy_budget{kBusyRetryBudget};  // total busy waiting per file
};

// How an attempt ended, for the policy.
enum class AttemptClass {
  kFinal,      // an answer that is not retried (success or a permanent error)
  kBusy,       // 503 or 429: retried as Retry-After says
  kTransient,  // no answer, 502, 504 or 507: retried with backoff
};

// Classifies an attempt by its HTTP status; 0 means no answer at all (a transport error). Thread-safe.
AttemptClass ClassifyAttempt(long http_status);

// The delay a Retry-After header asks for: delta-seconds only ("0", "12"); nullopt when absent or
// unparseable (HTTP dates are not used by the dispatcher). Thread-safe.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

// The retry state of one file: counts what was used of the budgets. Not thread-safe (one per file).
class RetryPolicy {
 public:
  explicit RetryPolicy(RetrySettings settings) : settings_(settings) {}

  // After an attempt that got `http_status` (0: no answer) and header `retry_after` (may be empty): the
  // wait before the next attempt, or nullopt when the attempt is final or its budget is used up.
  // `jitter` in [0, 1) picks the 0-20 % extra on busy waits. A final answer resets the count of
  // transient failures in a row.
  std::optional<std::chrono::milliseconds> NextDelay(long http_status, std::string_view retry_after, double jitter);

  int transient_failures() const { return transient_in_a_row_; }
  std::chrono::milliseconds busy_waited() const { return busy_waited_; }

 private:
  std::chrono::milliseconds Backoff(int retry) const;

  RetrySettings settings_;
  int transient_in_a_row_ = 0;
  int busy_without_hint_ = 0;  // busy answers without a usable Retry-After so far
  std::chrono::milliseconds busy_waited_{0};
};

}  // namespace tsdsr::client
