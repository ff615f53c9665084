// Wall-clock time as the API writes it, durations as flags and config files give them, and elapsed time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsdsr {

// Milliseconds since the Unix epoch now (the wall clock: for times that outlive the process).
std::int64_t UnixMillisNow();

// Milliseconds from `start` to now on the steady clock (for timings within the process).
double MillisSince(std::chrono::steady_clock::time_point start);

// "2026-12-02T15:18:27.123Z" (UTC, ISO 8601 with milliseconds); without them when `millis` is false.
std::string FormatUtc(std::int64_t unix_ms, bool millis = true);

// A duration such as "90", "90s", "15m", "24h", "7d" or "250ms" (a whole number and an optional unit; plain
// numbers are seconds) in milliseconds. InvalidArgument naming the accepted forms otherwise (negative, fraction,
// unknown unit, overflow).
Result<std::int64_t> ParseDurationMillis(std::string_view text);

// The shortest exact spelling of `ms` in ParseDurationMillis's units: 86400000 -> "1d", 1500 -> "1500ms".
std::string FormatDuration(std::int64_t ms);

}  // namespace tsdsr
