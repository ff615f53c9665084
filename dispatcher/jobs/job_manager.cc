// JobManager's public side: start-up and recovery, and what the HTTP threads call. Its thread is in
// job_manager_loop.cc.
#include "dispatcher/jobs/job_manager.h"

#include <spdlog/spdlog.h>

#include "common/time_text.h"
#include "dispatcher/jobs/job_ids.h"
#include "dispatcher/jobs/job_manager_internal.h"

namespace tsdsr::dispatcher {
namespace {

constexpr std::int64_t kFreeSpaceReserve = 1LL << 20;  // an upload is refused when less would be left

// FNV-1a, 64 bits: stable across processes and versions (std::hash is neither), enough to tell requests apart.
class Fnv64 {
 public:
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) hash_ = (hash_ ^ c) * 0x100000001b3ULL;
    hash_ = (hash_ ^ 0xff) * 0x100000001b3ULL;  // a separator, so "ab"+"c" differs from "a"+"bc"
  }
  void Add(std::int64_t number) { Add(std::to_string(number)); }
  std::string Hex() const {
    char text[17];
    std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::string Fingerprint(const JobSpec& spec, std::string_view input) {
  Fnv64 h;
  h.Add(spec.scale);
  h.Add(spec.process_size);
  h.Add(spec.format);
  h.Add(spec.priority);
  h.Add(spec.timeout_ms);
  if (!spec.codec.empty()) {  // a video's encode settings (an image's fingerprint is as it always was)
    h.Add(spec.codec);
    h.Add(spec.encoder);
    h.Add(spec.crf);
    h.Add(spec.preset);
  }
  h.Add(input);
  return h.Hex();
}

std::string Gigabytes(std::int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g GB", static_cast<double>(bytes) / 1e9);
  return text;
}

}  // namespace

JobManager::JobManager(JobsOptions options, std::unique_ptr<DataDir> dir, std::unique_ptr<JobStore> store,
                       JobSink& sink, Metrics& metrics)
    : options_(options),
      dir_(std::move(dir)),
      store_(std::move(store)),
      sink_(sink),
      metrics_(metrics),
      retention_(options.retention, *store_, *dir_) {}

Result<std::unique_ptr<JobManager>> JobManager::Start(JobsOptions options, std::unique_ptr<DataDir> dir,
                                                      std::unique_ptr<JobStore> store, JobSink& sink,
                                                      Metrics& metrics) {
  std::unique_ptr<JobManager> manager(new JobManager(options, std::move(dir), std::move(store), sink, metrics));
  {
    std::lock_guard<std::mutex> lock(manager->mu_);
    TSDSR_RETURN_IF_ERROR(manager->Recover());
    manager->RemoveOrphanFiles();
    manager->Housekeep(UnixMillisNow());
  }
  manager->thread_ = std::thread([m = manager.get()] { m->Run(); });
  return manager;
}

JobManager::~JobManager() { Stop(); }

Status JobManager::Recover() {
  TSDSR_ASSIGN_OR_RETURN(std::vector<JobRecord> unfinished, store_->Unfinished());
  for (JobRecord& record : unfinished) {
    if (record.state == JobState::kRunning) {  // its worker's answer was lost with the last dispatcher
      record.state = JobState::kQueued;
      record.started_ms = 0;
      record.worker.clear();
      TSDSR_RETURN_IF_ERROR(store_->Update(record));
    }
    auto active = std::make_unique<Active>();
    active->order = next_order_++;
    active->record = std::move(record);
    CountUnfinished(active->record.spec, +1);
    if (active->record.kind != JobKind::kVideo) {
      Admit(*active);
    } else if (Status resumed = RecoverVideo(*active); !resumed.ok()) {
      Finish(*active, resumed);  // its upload no longer reads as it did: failed, with why
      continue;
    }
    active_.emplace(active->record.id, std::move(active));
  }
  if (!unfinished.empty()) spdlog::info("{} job(s) from before the restart queued again", unfinished.size());
  return Status::Ok();
}

void JobManager::RemoveOrphanFiles() {
  int removed = 0;
  for (const std::string& id : dir_->List(StoredFile::kInput)) {
    if (active_.count(id) == 0) {
      dir_->Remove(StoredFile::kInput, id);
      ++removed;
    }
  }
  for (const std::string& id : dir_->List(StoredFile::kResult)) {
    auto record = store_->Get(id);
    if (record.ok() && (!record->has_value() || (*record)->result != ResultState::kStored)) {
      dir_->Remove(StoredFile::kResult, id);  // e.g. written just before a kill, its record never updated
      ++removed;
    }
  }
  for (const std::string& name : dir_->List(StoredFile::kChunk)) {
    const auto parsed = ParseChunkFileName(name);
    auto it = parsed ? active_.find(parsed->first) : active_.end();
    const bool kept = it != active_.end() && it->second->video &&
                      parsed->second < static_cast<int>(it->second->video->chunks().size()) &&
                      it->second->video->chunks()[static_cast<size_t>(parsed->second)].done;
    if (!kept) {
      dir_->Remove(StoredFile::kChunk, name);
      ++removed;
    }
  }
  if (removed > 0) spdlog::info("removed {} stored file(s) no job refers to", removed);
}

Result<Submitted> JobManager::Replay(const JobRecord& existing, const std::string& fingerprint) {
  if (existing.fingerprint != fingerprint) {
    return Status::Conflict("this Idempotency-Key was already used for a different request (job " + existing.id +
                            "); use a new key for a new request");
  }
  TSDSR_ASSIGN_OR_RETURN(JobView view, Get(existing.id));
  return Submitted{std::move(view), /*replayed=*/true};
}

Result<JobRecord> JobManager::StoreNewJob(const NewJob& job, const std::string& fingerprint,
                                         std::unique_ptr<VideoJob>* video) {
  JobRecord record;
  record.id = NewJobId();
  record.spec = job.spec;
  record.idempotency_key = job.idempotency_key;
  record.fingerprint = fingerprint;
  record.input_bytes = static_cast<std::int64_t>(job.input.size());
  record.created_ms = UnixMillisNow();
  const PoolSnapshot pool = sink_.Snapshot();
  if (job.video) {
    TSDSR_ASSIGN_OR_RETURN(record.spec.encoder, ChooseEncoder(job.spec, pool.workers));
  }
  TSDSR_RETURN_IF_ERROR(dir_->Write(StoredFile::kInput, record.id, job.input));
  Status stored;
  if (job.video) {
    auto planned =
        VideoJob::Plan(dir_->PathOf(StoredFile::kInput, record.id), record.spec, options_.video, pool.usable_workers());
    if (planned.ok()) {
      *video = std::move(*planned);
      record.kind = JobKind::kVideo;
      record.spec.input_width = (*video)->source().video.width;
      record.spec.input_height = (*video)->source().video.height;
      record.details = (*video)->Summary().dump();
    }
    stored = planned.status();
  }
  if (stored.ok()) stored = store_->Insert(record);
  if (stored.ok() && *video) {
    stored = store_->SaveChunks(record.id, (*video)->chunks());
    if (!stored.ok()) (void)store_->Delete(record.id);
  }
  if (!stored.ok()) {
    dir_->Remove(StoredFile::kInput, record.id);
    return stored;
  }
  return record;
}

Result<Submitted> JobManager::Submit(const NewJob& job) {
  const std::string fingerprint = Fingerprint(job.spec, job.input);
  if (!job.idempotency_key.empty()) {
    TSDSR_ASSIGN_OR_RETURN(auto existing, store_->FindByIdempotencyKey(job.idempotency_key));
    if (existing) return Replay(*existing, fingerprint);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (unfinished_async_ >= options_.max_unfinished) {
      return Status::Unavailable(std::to_string(unfinished_async_) + " jobs are waiting already; retry later");
    }
  }
  const std::int64_t available = dir_->AvailableBytes();
  if (available >= 0 && available < static_cast<std::int64_t>(job.input.size()) + kFreeSpaceReserve) {
    return Status::InsufficientStorage("the data dir " + dir_->path() + " has only " + std::to_string(available) +
                                       " bytes free; no job is accepted until space is freed");
  }
  std::unique_ptr<VideoJob> video;
  auto record = StoreNewJob(job, fingerprint, &video);
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kConflict && !job.idempotency_key.empty()) {
      TSDSR_ASSIGN_OR_RETURN(auto existing, store_->FindByIdempotencyKey(job.idempotency_key));
      if (existing) return Replay(*existing, fingerprint);  // the same key, submitted at the same moment
    }
    return record.status();
  }
  Submitted submitted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto active = std::make_unique<Active>();
    active->order = next_order_++;
    active->record = std::move(*record);
    active->video = std::move(video);
    active->video ? AdmitChunks(*active) : Admit(*active);
    CountUnfinished(active->record.spec, +1);
    report_stale_ = true;
    submitted.view = ViewOf(*active);
    active_.emplace(active->record.id, std::move(active));
  }
  Poke();
  return submitted;
}

JobView JobManager::ViewOf(const Active& active) const {
  JobView view;
  view.record = active.record;
  view.done = active.done;
  view.total = active.total;
  std::string first_key = active.record.id;
  if (active.video) {
    view.done = active.video->frames_done();
    view.total = active.video->total_frames();
    view.frames_per_second = active.video->frames_per_second();
    view.eta_seconds = active.video->eta_seconds();
    view.chunks = static_cast<int>(active.video->chunks().size());
    view.chunks_stored = view.chunks - static_cast<int>(active.video->Pending().size());
    const std::vector<int> pending = active.video->Pending();
    if (!pending.empty()) first_key = ChunkKey(active.record.id, pending.front());
  }
  if (active.record.state == JobState::kQueued) {
    view.position = active.in_pool() ? std::optional<size_t>(0) : waiting_async_.Position(first_key);
  }
  return view;
}

Result<JobView> JobManager::Get(std::string_view id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(std::string(id));
    if (it != active_.end() && it->second->batch == nullptr) return ViewOf(*it->second);
  }
  TSDSR_ASSIGN_OR_RETURN(auto record, store_->Get(id));
  if (!record) return Status::NotFound("no job " + std::string(id));
  return JobView{std::move(*record), 0, 0, std::nullopt};
}

Result<std::vector<JobView>> JobManager::List(const JobQuery& query) {
  TSDSR_ASSIGN_OR_RETURN(std::vector<JobRecord> records, store_->List(query));
  std::vector<JobView> views;
  std::lock_guard<std::mutex> lock(mu_);
  for (JobRecord& record : records) {
    auto it = active_.find(record.id);
    views.push_back(it != active_.end() ? ViewOf(*it->second) : JobView{std::move(record), 0, 0, std::nullopt});
  }
  return views;
}

Result<JobView> JobManager::Cancel(std::string_view id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = active_.find(std::string(id));
  if (it == active_.end() || it->second->batch != nullptr || it->second->cancelled) {
    lock.unlock();
    TSDSR_ASSIGN_OR_RETURN(JobView view, Get(id));
    return Status::Conflict("job " + std::string(id) + " is " + std::string(JobStateName(view.record.state)) +
                            " already");
  }
  Active& active = *it->second;
  waiting_async_.Remove(active.record.id);
  if (active.video) ForgetChunks(active);
  const std::string why = "cancelled: DELETE /jobs/" + active.record.id;
  if (active.pool_id != 0) sink_.Cancel(active.pool_id, why);
  for (const auto& [chunk, pool_id] : active.chunk_pool) sink_.Cancel(pool_id, why);
  active.cancelled = active.in_pool();  // the pool's answers for it are dropped when they come
  Finish(active, Status::Cancelled("cancelled by the client"));
  JobView view = ViewOf(active);
  if (!active.cancelled) active_.erase(it);
  return view;
}

Result<StoredOutput> JobManager::ReadOutput(std::string_view id) {
  TSDSR_ASSIGN_OR_RETURN(JobView view, Get(id));
  const JobRecord& r = view.record;
  if (r.state != JobState::kSucceeded) {
    std::string message = "job " + r.id + " is " + std::string(JobStateName(r.state));
    if (!r.error.empty()) message += ": " + r.error;
    return Status::Conflict(message);
  }
  if (r.result == ResultState::kExpired) {
    return Status::Gone("the output of job " + r.id + " expired (outputs are kept for " +
                        FormatDuration(retention().result_ttl_ms) + ")");
  }
  if (r.result != ResultState::kStored) {
    return Status::Gone("the output of job " + r.id + " was removed to keep the result store under " +
                        Gigabytes(retention().max_result_bytes));
  }
  auto bytes = dir_->Read(StoredFile::kResult, r.id);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound)
      return Status::Gone("the output file of job " + r.id + " is gone");
    return bytes.status();
  }
  return StoredOutput{r, std::move(*bytes)};
}

Result<JobView> JobManager::Subscribe(std::string_view id, JobListener listener, std::uint64_t* token) {
  *token = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(std::string(id));
    if (it != active_.end() && it->second->batch == nullptr && !it->second->cancelled) {
      *token = next_token_++;
      listeners_.emplace(std::string(id), std::make_pair(*token, std::move(listener)));
      return ViewOf(*it->second);
    }
  }
  return Get(id);
}

void JobManager::Unsubscribe(std::uint64_t token) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if (it->second.first == token) {
      listeners_.erase(it);
      return;
    }
  }
}

std::uint64_t JobManager::RunBatch(std::vector<BatchFile> files,
                                   std::function<void(std::vector<BatchFileOutcome>)> done) {
  std::lock_guard<std::mutex> lock(mu_);
  auto batch = std::make_shared<Batch>();
  batch->id = next_batch_++;
  batch->outcomes.resize(files.size());
  batch->remaining = files.size();
  batch->done = std::move(done);
  const std::int64_t now_ms = UnixMillisNow();
  for (size_t i = 0; i < files.size(); ++i) {
    auto active = std::make_unique<Active>();
    active->record.id = NewJobId();
    active->record.kind = JobKind::kBatch;
    active->record.spec = std::move(files[i].spec);
    active->record.created_ms = now_ms;
    active->input = std::move(files[i].input);
    active->batch = batch;
    active->batch_index = i;
    active->order = next_order_++;
    Admit(*active);
    active_.emplace(active->record.id, std::move(active));
  }
  if (files.empty()) {
    batch->done({});
  } else {
    batches_.emplace(batch->id, batch);
  }
  Poke();
  return batch->id;
}

void JobManager::CancelBatch(std::uint64_t batch_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (batches_.count(batch_id) == 0) return;
  std::vector<std::string> keys;
  for (const auto& [key, active] : active_) {
    if (active->batch != nullptr && active->batch->id == batch_id) keys.push_back(key);
  }
  for (const std::string& key : keys) {
    Active& active = *active_.at(key);
    if (waiting_batch_.Remove(key)) {
      Resolve(key, Status::Cancelled("cancelled: the client went away"), nullptr);
    } else if (active.pool_id != 0) {
      sink_.Cancel(active.pool_id, "cancelled: the client went away");
    }
  }
}

JobsReport JobManager::Report() const {
  std::lock_guard<std::mutex> lock(mu_);
  JobsReport report = report_;
  report.waiting = static_cast<std::int64_t>(waiting_async_.size() + waiting_batch_.size());
  report.in_pool = static_cast<std::int64_t>(in_pool_);
  report.unfinished_by_client = unfinished_by_client_;
  return report;
}

void JobManager::CountUnfinished(const JobSpec& spec, int delta) {
  unfinished_async_ += delta;
  auto& count = unfinished_by_client_[spec.client];
  count += delta;
  if (count <= 0) unfinished_by_client_.erase(spec.client);
}

void JobManager::StopFeeding() {
  std::lock_guard<std::mutex> lock(mu_);
  feeding_ = false;
}

bool JobManager::AnsweringBatches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !batches_.empty();
}

AdmissionQueue& JobManager::QueueOf(const Active& active) {
  return active.batch != nullptr ? waiting_batch_ : waiting_async_;
}

void JobManager::Admit(const Active& active) {
  QueueOf(active).Push({active.record.id, active.record.spec.priority, active.order, active.record.spec.client});
}

std::optional<std::string> JobManager::NextToFeed() {
  auto batch = waiting_batch_.Front();
  auto async = feeding_ ? waiting_async_.Front() : std::nullopt;
  if (!batch && !async) return std::nullopt;
  const bool take_batch = batch && (!async || AdmissionQueue::Before(*batch, *async));
  return take_batch ? waiting_batch_.Pop()->key : waiting_async_.Pop()->key;
}

}  // namespace tsdsr::dispatcher
