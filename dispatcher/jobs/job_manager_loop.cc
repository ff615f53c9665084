// JobManager's thread: applies what the pool reports, stores outputs, feeds the pool, keeps the store in bounds.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/time_text.h"
#include "dispatcher/jobs/job_manager.h"
#include "dispatcher/jobs/job_manager_internal.h"

namespace tsdsr::dispatcher {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMinInPool = 2;   // jobs the manager keeps in the pool even when it knows no slots
constexpr int kInPoolPerSlot = 2;  // and per free-or-busy slot of the usable workers: one computing, one waiting
constexpr auto kFeedRetry = std::chrono::milliseconds(100);  // while jobs wait for a worker or for room

void MarkFinished(JobRecord& record, const Status& status) {
  record.finished_ms = UnixMillisNow();
  if (status.ok()) {
    record.state = JobState::kSucceeded;
    record.error.clear();
    record.error_code.clear();
    return;
  }
  record.state = status.code() == StatusCode::kCancelled ? JobState::kCancelled : JobState::kFailed;
  record.error = status.message();
  record.error_code = std::string(StatusCodeName(status.code()));
}

}  // namespace

void JobManager::Post(Event event) {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_.push_back(std::move(event));
  }
  wake_.notify_one();
}

void JobManager::Poke() {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    poked_ = true;
  }
  wake_.notify_one();
}

void JobManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    stop_requested_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  finisher_.Stop();  // a video being joined ends; what it posts is never applied, and a restart joins it again
}

std::chrono::milliseconds JobManager::Sleep() const {
  const auto now = SteadyClock::now();
  auto wake = next_housekeeping_;
  const bool waiting = !waiting_batch_.empty() || (feeding_ && !waiting_async_.empty());
  if (waiting) wake = std::min(wake, std::max(feed_after_, now + kFeedRetry));
  if (report_stale_) wake = std::min(wake, next_report_);
  return std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(wake - now));
}

void JobManager::Run() {
  while (true) {
    std::chrono::milliseconds sleep;
    {
      std::lock_guard<std::mutex> lock(mu_);
      sleep = Sleep();
    }
    std::deque<Event> events;
    bool stop = false;
    {
      std::unique_lock<std::mutex> lock(inbox_mu_);
      wake_.wait_for(lock, sleep, [this] { return !inbox_.empty() || poked_ || stop_requested_; });
      events.swap(inbox_);
      poked_ = false;
      stop = stop_requested_;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (Event& event : events) Apply(std::move(event));
    if (stop) return FinishStop();
    if (SteadyClock::now() >= next_housekeeping_) Housekeep(UnixMillisNow());
    KeepListenersAlive();
    Feed();
    if (report_stale_ && SteadyClock::now() >= next_report_) RefreshReport();
  }
}

void JobManager::FinishStop() {
  stopping_ = true;
  std::vector<std::string> batch_files;
  for (const auto& [key, active] : active_) {
    if (active->batch != nullptr) batch_files.push_back(key);
  }
  for (const std::string& key : batch_files) Resolve(key, Status::Unavailable("dispatcher is shutting down"), nullptr);
  // Async jobs stay queued or running in the store: the next dispatcher on this data dir runs them.
}

void JobManager::Apply(Event event) {
  const auto [id, chunk] = SplitKey(event.key);
  auto it = active_.find(id);
  if (it == active_.end()) return;
  Active& active = *it->second;
  if (event.kind == Event::Kind::kStarted) {
    if (active.cancelled) return;
    const bool first_start = active.record.state != JobState::kRunning;
    active.record.state = JobState::kRunning;
    if (active.record.started_ms == 0) active.record.started_ms = UnixMillisNow();
    active.record.attempts += 1;
    active.record.worker = event.worker;
    if (active.batch == nullptr && (first_start || chunk < 0)) {
      Persist(active.record);
      Notify(ViewOf(active));
    }
    return;
  }
  if (event.kind == Event::Kind::kProgress) {
    if (active.cancelled) return;
    if (active.video) {
      active.video->OnProgress(chunk, event.done);
    } else {
      active.done = event.done;
      active.total = event.total;
    }
    if (active.batch == nullptr) Notify(ViewOf(active));
    return;
  }
  if (event.kind == Event::Kind::kVideoJoined) return ApplyJoined(active, event);
  if (chunk >= 0) return ApplyChunk(active, chunk, event);
  in_pool_ -= 1;
  active.pool_id = 0;
  if (active.cancelled) {  // answered when it was cancelled
    active_.erase(it);
    return;
  }
  Status status = event.outcome.status;
  if (status.code() == StatusCode::kUnavailable && !stopping_ && (feeding_ || active.batch != nullptr)) {
    // The pool could not take it now (no worker yet, queue full): back in line, untouched.
    active.record.state = JobState::kQueued;
    Admit(active);
    feed_after_ = SteadyClock::now() + options_.refused_backoff;
    return;
  }
  if (status.code() == StatusCode::kUnavailable && active.batch == nullptr) {
    CountUnfinished(active.record.spec, -1);
    active_.erase(it);  // the dispatcher is stopping: the job stays queued in the store for the next one
    return;
  }
  Resolve(event.key, std::move(status), &event.outcome);
}

void JobManager::Feed() {
  if (stopping_ || SteadyClock::now() < feed_after_) return;
  if (waiting_batch_.empty() && (!feeding_ || waiting_async_.empty())) return;
  const PoolSnapshot pool = sink_.Snapshot();
  size_t slots = 0;
  for (const auto& worker : pool.workers) {
    if (worker.description.status == "ok") slots += static_cast<size_t>(std::max(0, worker.description.slots));
  }
  if (pool.usable_workers() == 0) return;  // they wait for a worker, accepted and stored
  const size_t room = std::max(kMinInPool, slots * kInPoolPerSlot);
  while (in_pool_ < room) {
    const std::optional<std::string> key = NextToFeed();
    if (!key) break;
    const auto [id, chunk] = SplitKey(*key);
    auto it = active_.find(id);
    if (it == active_.end()) continue;  // a chunk of a job that ended meanwhile
    Active& active = *it->second;
    JobPtr job = chunk >= 0 ? BuildChunkJob(active, chunk) : BuildJob(active);
    if (job == nullptr) continue;  // BuildJob answered it
    if (!HoldInMemory(*job, active)) {  // back in line until the pool's answers free some memory
      QueueOf(active).PushAhead({*key, active.record.spec.priority, active.order, active.record.spec.client});
      feed_after_ = SteadyClock::now() + options_.refused_backoff;
      break;
    }
    (chunk >= 0 ? active.chunk_pool[chunk] : active.pool_id) = job->id;
    ++in_pool_;
    sink_.Submit(std::move(job));
  }
}

bool JobManager::HoldInMemory(Job& job, const Active& active) {
  if (!options_.budget || active.batch != nullptr) return true;  // a batch's files are counted with its request
  auto lease = options_.budget->TryReserve(static_cast<std::int64_t>(job.image.size()));
  if (!lease) return false;
  job.memory = std::move(*lease);
  return true;
}

JobPtr JobManager::BuildJob(Active& active) {
  const JobRecord& r = active.record;
  std::int64_t left_ms = -1;
  if (r.spec.timeout_ms > 0) {
    left_ms = r.created_ms + r.spec.timeout_ms - UnixMillisNow();
    if (left_ms <= 0) {
      Resolve(r.id, Status::DeadlineExceeded("the job's timeout_ms passed while it waited for a worker"), nullptr);
      return nullptr;
    }
  }
  auto job = std::make_unique<Job>();
  if (active.batch != nullptr) {
    job->image = active.input;  // a copy: the pool may refuse the job and hand nothing back
  } else {
    auto input = dir_->Read(StoredFile::kInput, r.id);
    if (!input.ok()) {
      Resolve(r.id, Status::Internal("the stored upload of this job cannot be read: " + input.status().message()),
              nullptr);
      return nullptr;
    }
    job->image = std::move(*input);
  }
  job->id = sink_.NewJobId();
  job->params = JobParams{r.spec.scale, r.spec.process_size, r.spec.format, r.spec.input_width, r.spec.input_height, {}};
  job->priority = r.spec.priority;
  job->client = r.spec.client;
  job->stored = active.batch == nullptr;  // a batch's files wait in the pool as its request's
  job->submitted = Clock::now();
  if (left_ms > 0) job->deadline = job->submitted + std::chrono::milliseconds(left_ms);
  Wire(*job, r.id);
  return job;
}

void JobManager::Wire(Job& job, const std::string& key) {
  job.done = [this, key](JobOutcome outcome) {
    Post(Event{Event::Kind::kFinished, key, "", 0, 0, std::move(outcome), "", ""});
  };
  job.on_started = [this, key](const std::string& worker) {
    Post(Event{Event::Kind::kStarted, key, worker, 0, 0, JobOutcome{}, "", ""});
  };
  job.on_progress = [this, key](int done, int total) {
    Post(Event{Event::Kind::kProgress, key, "", done, total, JobOutcome{}, "", ""});
  };
}

void JobManager::Resolve(const std::string& key, Status status, JobOutcome* outcome) {
  auto it = active_.find(key);
  if (it == active_.end()) return;
  Active& active = *it->second;
  if (status.ok() && outcome != nullptr) StoreOutput(active, *outcome, &status);
  if (active.batch != nullptr) {
    FinishBatchFile(active, std::move(status));
  } else {
    Finish(active, status);
  }
  active_.erase(it);
}

void JobManager::StoreOutput(Active& active, const JobOutcome& outcome, Status* status) {
  JobRecord& r = active.record;
  if (Status written = dir_->Write(StoredFile::kResult, r.id, outcome.image); !written.ok()) {
    spdlog::error("job {}: {}", r.id, written.message());
    *status = std::move(written);
    return;
  }
  r.output_width = outcome.result.output_width;
  r.output_height = outcome.result.output_height;
  r.result_type = outcome.result.content_type;
  r.result_bytes = static_cast<std::int64_t>(outcome.image.size());
  r.result = ResultState::kStored;
  r.worker = outcome.worker_id.empty() ? r.worker : outcome.worker_id;
}

void JobManager::Finish(Active& active, const Status& status) {
  MarkFinished(active.record, status);
  dir_->Remove(StoredFile::kInput, active.record.id);
  active.record.input_bytes = 0;
  Persist(active.record);
  CountUnfinished(active.record.spec, -1);
  Notify(ViewOf(active));
}

void JobManager::FinishBatchFile(Active& active, Status status) {
  MarkFinished(active.record, status);
  if (status.ok()) {
    if (Status inserted = store_->Insert(active.record); !inserted.ok()) {
      dir_->Remove(StoredFile::kResult, active.record.id);
      status = Status(inserted.code(), "cannot record the stored output: " + inserted.message());
    }
  }
  report_stale_ = true;
  Batch& batch = *active.batch;
  batch.outcomes[active.batch_index] = BatchFileOutcome{std::move(status), active.record};
  if (--batch.remaining == 0) {
    std::shared_ptr<Batch> keep = active.batch;  // batches_ held the last other reference
    batches_.erase(batch.id);
    keep->done(std::move(keep->outcomes));
  }
}

void JobManager::Persist(const JobRecord& record) {
  report_stale_ = true;
  if (Status updated = store_->Update(record); !updated.ok()) {
    spdlog::error("cannot store the state of job {} ({}): {}", record.id, JobStateName(record.state),
                  updated.message());
  }
}

void JobManager::Notify(const JobView& view) {
  const bool final = IsFinished(view.record.state);
  auto [first, last] = listeners_.equal_range(view.record.id);
  for (auto it = first; it != last;) {
    const bool keep = it->second.second(&view) && !final;
    it = keep ? std::next(it) : listeners_.erase(it);
  }
}

void JobManager::KeepListenersAlive() {
  const auto now = SteadyClock::now();
  if (now < next_keepalive_) return;
  next_keepalive_ = now + options_.keepalive_interval;
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    it = it->second.second(nullptr) ? std::next(it) : listeners_.erase(it);
  }
}

void JobManager::Housekeep(std::int64_t now_ms) {
  next_housekeeping_ = SteadyClock::now() + options_.housekeeping_interval;
  const RetentionPass pass = retention_.Run(now_ms);
  if (pass.expired > 0) metrics_.CountResultsRemoved("expired", pass.expired);
  if (pass.evicted > 0) {
    metrics_.CountResultsRemoved("evicted", pass.evicted);
    spdlog::info("evicted {} stored output(s) to keep the result store under its size cap", pass.evicted);
  }
  RefreshReport();
}

void JobManager::RefreshReport() {
  report_stale_ = false;
  next_report_ = SteadyClock::now() + kReportDelay;
  auto totals = store_->Totals();
  if (!totals.ok()) return spdlog::error("cannot count stored jobs: {}", totals.status().message());
  report_.by_state.clear();
  for (const auto& [state, count] : totals->jobs) report_.by_state[std::string(JobStateName(state))] = count;
  report_.stored_results = totals->stored_results;
  report_.result_bytes = totals->result_bytes;
  report_.input_bytes = totals->input_bytes;
  report_.max_result_bytes = retention_.options().max_result_bytes;
  report_.result_ttl_ms = retention_.options().result_ttl_ms;
  report_.data_dir = dir_->path();
  report_.available_bytes = dir_->AvailableBytes();
  report_.waiting = static_cast<std::int64_t>(waiting_async_.size() + waiting_batch_.size());
  report_.in_pool = static_cast<std::int64_t>(in_pool_);
  metrics_.SetJobStore(report_);
}

}  // namespace tsdsr::dispatcher
