#include "dispatcher/jobs/job_record.h"

#include <array>
#include <utility>

namespace tsdsr::dispatcher {
namespace {

template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return names.front().second;
}

template <typename Enum, size_t N>
std::optional<Enum> ValueOf(const std::array<std::pair<Enum, std::string_view>, N>& names, std::string_view text) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<JobState, std::string_view>, 5> kStates = {{{JobState::kQueued, "queued"},
                                                                           {JobState::kRunning, "running"},
                                                                           {JobState::kSucceeded, "succeeded"},
                                                                           {JobState::kFailed, "failed"},
                                                                           {JobState::kCancelled, "cancelled"}}};
constexpr std::array<std::pair<JobKind, std::string_view>, 3> kKinds = {
    {{JobKind::kAsync, "async"}, {JobKind::kBatch, "batch"}, {JobKind::kVideo, "video"}}};
constexpr std::array<std::pair<ResultState, std::string_view>, 4> kResults = {{{ResultState::kNone, "none"},
                                                                               {ResultState::kStored, "stored"},
                                                                               {ResultState::kExpired, "expired"},
                                                                               {ResultState::kEvicted, "evicted"}}};

}  // namespace

std::string_view JobStateName(JobState state) { return NameOf(kStates, state); }
std::optional<JobState> JobStateFromName(std::string_view name) { return ValueOf(kStates, name); }
std::string_view JobKindName(JobKind kind) { return NameOf(kKinds, kind); }
std::optional<JobKind> JobKindFromName(std::string_view name) { return ValueOf(kKinds, name); }
std::string_view ResultStateName(ResultState state) { return NameOf(kResults, state); }
std::optional<ResultState> ResultStateFromName(std::string_view name) { return ValueOf(kResults, name); }

}  // namespace tsdsr::dispatcher
