#include "dispatcher/jobs/result_retention.h"

#include <spdlog/spdlog.h>

namespace tsdsr::dispatcher {
namespace {

constexpr int kBatch = 200;        // records read at once
constexpr int kMaxPerPass = 2000;  // removals in one pass, so one pass stays short

}  // namespace

RetentionPass ResultRetention::Run(std::int64_t now_ms) {
  RetentionPass pass;
  pass.expired = Expire(now_ms);
  pass.evicted = Evict();
  if (options_.history_ms > 0) {
    auto purged = store_.PurgeFinishedBefore(now_ms - options_.history_ms, kMaxPerPass);
    if (purged.ok()) {
      pass.purged = *purged;
    } else {
      spdlog::error("cannot delete old job records: {}", purged.status().message());
    }
  }
  return pass;
}

bool ResultRetention::Remove(JobRecord record, ResultState why) {
  dir_.Remove(StoredFile::kResult, record.id);
  record.result = why;
  record.result_bytes = 0;
  Status updated = store_.Update(record);
  if (!updated.ok())
    spdlog::error("cannot mark the output of job {} {}: {}", record.id, ResultStateName(why), updated.message());
  return updated.ok();
}

int ResultRetention::Expire(std::int64_t now_ms) {
  if (options_.result_ttl_ms <= 0) return 0;
  int removed = 0;
  while (removed < kMaxPerPass) {
    auto due = store_.OldestStoredResults(kBatch, now_ms - options_.result_ttl_ms);
    if (!due.ok()) {
      spdlog::error("cannot list expired outputs: {}", due.status().message());
      break;
    }
    for (auto& record : *due) {
      if (!Remove(std::move(record), ResultState::kExpired)) return removed;
      ++removed;
    }
    if (due->size() < static_cast<size_t>(kBatch)) break;
  }
  return removed;
}

int ResultRetention::Evict() {
  if (options_.max_result_bytes <= 0) return 0;
  auto totals = store_.Totals();
  if (!totals.ok()) {
    spdlog::error("cannot measure the result store: {}", totals.status().message());
    return 0;
  }
  std::int64_t bytes = totals->result_bytes;
  int removed = 0;
  while (bytes > options_.max_result_bytes && removed < kMaxPerPass) {
    auto oldest = store_.OldestStoredResults(kBatch);
    if (!oldest.ok() || oldest->empty()) break;
    for (auto& record : *oldest) {
      if (bytes <= options_.max_result_bytes) break;
      const std::int64_t size = record.result_bytes;
      if (!Remove(std::move(record), ResultState::kEvicted)) return removed;
      bytes -= size;
      ++removed;
    }
  }
  return removed;
}

}  // namespace tsdsr::dispatcher
