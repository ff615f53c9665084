#include "common/time_text.h"

#include <array>
#include <charconv>
#include <chrono>
#include <ctime>
#include <limits>
#include <utility>

namespace tsdsr {
namespace {

constexpr std::array<std::pair<std::string_view, std::int64_t>, 5> kUnits = {
    {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

}  // namespace

std::int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string FormatUtc(std::int64_t unix_ms, bool millis) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(text, n);
  if (millis) {
    char fraction[8];
    std::snprintf(fraction, sizeof(fraction), ".%03d", static_cast<int>(unix_ms % 1000));
    out += fraction;
  }
  return out + "Z";
}

Result<std::int64_t> ParseDurationMillis(std::string_view text) {
  const auto invalid = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration: give a whole number with an optional unit ms, s, m, h or d "
                                   "(e.g. 90s, 15m, 24h, 7d; a plain number is seconds)");
  };
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data() || value < 0) return invalid();
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  std::int64_t scale = unit.empty() ? 1000 : 0;
  for (const auto& [name, ms] : kUnits) {
    if (unit == name) scale = ms;
  }
  if (scale == 0 || value > std::numeric_limits<std::int64_t>::max() / scale) return invalid();
  return value * scale;
}

std::string FormatDuration(std::int64_t ms) {
  for (const auto& [name, unit_ms] : kUnits) {
    if (ms != 0 && ms % unit_ms == 0) return std::to_string(ms / unit_ms) + std::string(name);
  }
  return "0s";
}

}  // namespace tsdsr
