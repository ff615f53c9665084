// JobManager's video jobs: their chunks wait in line one by one, go to the pool as chunk jobs, come back as
// segments stored in the data dir (so a restart redoes only the chunks not stored), and are joined and checked
// once all are in.
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/time_text.h"
#include "dispatcher/jobs/job_manager.h"
#include "dispatcher/jobs/job_manager_internal.h"

namespace tsdsr::dispatcher {

std::string ChunkKey(const std::string& id, int chunk) { return id + "#" + std::to_string(chunk); }

std::pair<std::string, int> SplitKey(const std::string& key) {
  const size_t hash = key.find('#');
  if (hash == std::string::npos) return {key, -1};
  return {key.substr(0, hash), std::stoi(key.substr(hash + 1))};
}

void JobManager::AdmitChunks(const Active& active) {
  for (int chunk : active.video->Pending()) {
    waiting_async_.Push(
        {ChunkKey(active.record.id, chunk), active.record.spec.priority, next_order_++, active.record.spec.client});
  }
}

Status JobManager::RecoverVideo(Active& active) {
  TSDSR_ASSIGN_OR_RETURN(std::vector<ChunkRecord> chunks, store_->Chunks(active.record.id));
  TSDSR_ASSIGN_OR_RETURN(active.video, VideoJob::Resume(dir_->PathOf(StoredFile::kInput, active.record.id),
                                                        active.record.spec, std::move(chunks)));
  for (const ChunkRecord& c : active.video->chunks()) {
    if (c.done &&
        !std::filesystem::exists(dir_->PathOf(StoredFile::kChunk, ChunkFileName(active.record.id, c.index)))) {
      return Status::Internal("the stored segment of chunk " + std::to_string(c.index) + " is missing");
    }
  }
  AdmitChunks(active);
  if (active.video->AllStored()) FinishVideo(active);  // killed between the last segment and the join
  return Status::Ok();
}

JobPtr JobManager::BuildChunkJob(Active& active, int chunk) {
  if (active.cancelled || !active.video) return nullptr;
  auto payload = active.video->ChunkPayload(chunk);
  if (!payload.ok()) {
    FailVideo(active, Status(payload.status().code(), "cannot cut chunk " + std::to_string(chunk) +
                                                          " from the upload: " + payload.status().message()));
    return nullptr;
  }
  auto job = std::make_unique<Job>();
  job->id = sink_.NewJobId();
  const JobSpec& spec = active.record.spec;
  job->params = JobParams{spec.scale,       spec.process_size, spec.format,
                          spec.input_width, spec.input_height, active.video->ChunkHeader(chunk)};
  job->priority = spec.priority;
  job->client = spec.client;
  job->stored = true;
  job->image = std::move(*payload);
  job->submitted = Clock::now();
  Wire(*job, ChunkKey(active.record.id, chunk));
  return job;
}

void JobManager::ApplyChunk(Active& active, int chunk, Event& event) {
  in_pool_ -= 1;
  active.chunk_pool.erase(chunk);
  const std::string id = active.record.id;
  if (active.cancelled) {
    if (!active.in_pool()) active_.erase(id);
    return;
  }
  const Status& status = event.outcome.status;
  if (status.code() == StatusCode::kUnavailable) {
    if (!stopping_ && feeding_) {  // the pool could not take it now: back in line
      waiting_async_.Push({ChunkKey(id, chunk), active.record.spec.priority, next_order_++, active.record.spec.client});
      feed_after_ = std::chrono::steady_clock::now() + options_.refused_backoff;
    } else if (!active.in_pool()) {
      CountUnfinished(active.record.spec, -1);
      active_.erase(id);  // stopping: the job stays queued in the store, its stored chunks with it
    }
    return;
  }
  if (!status.ok()) {
    const ChunkRecord& c = active.video->chunks()[static_cast<size_t>(chunk)];
    return FailVideo(
        active, Status(status.code(), "chunk " + std::to_string(chunk) + " (frames " + std::to_string(c.first) + "-" +
                                          std::to_string(c.last) + "): " + status.message()));
  }
  const std::string name = ChunkFileName(id, chunk);
  Status stored = dir_->Write(StoredFile::kChunk, name, event.outcome.image);
  if (stored.ok()) stored = store_->MarkChunkDone(id, chunk, static_cast<std::int64_t>(event.outcome.image.size()));
  if (!stored.ok()) return FailVideo(active, stored);
  active.video->OnStored(chunk, static_cast<std::int64_t>(event.outcome.image.size()), event.outcome.result);
  if (!event.outcome.worker_id.empty()) active.record.worker = event.outcome.worker_id;
  if (active.video->AllStored()) return FinishVideo(active);
  Notify(ViewOf(active));
}

void JobManager::FinishVideo(Active& active) {
  if (active.finishing) return;
  active.finishing = true;
  const std::string id = active.record.id;
  std::vector<std::string> segments;
  for (const ChunkRecord& c : active.video->chunks())
    segments.push_back(dir_->PathOf(StoredFile::kChunk, ChunkFileName(id, c.index)));
  // The VideoJob stays in active_ (in_pool() holds it) and nothing changes it while finishing is set.
  const VideoJob* video = active.video.get();
  const bool posted = finisher_.Post([this, id, video, segments = std::move(segments)] {
    Event event;
    event.kind = Event::Kind::kVideoJoined;
    event.key = id;
    event.output = dir_->TemporaryPath(id);
    nlohmann::json details;
    event.outcome.status = video->Finish(segments, event.output, &details);
    event.details = details.dump();
    Post(std::move(event));
  });
  if (!posted) active.finishing = false;  // stopping: the job stays running in the store, joined at the next start
}

void JobManager::ApplyJoined(Active& active, Event& event) {
  active.finishing = false;
  const std::string id = active.record.id;
  std::error_code error;
  if (active.cancelled) {
    std::filesystem::remove(event.output, error);
    active_.erase(id);
    return;
  }
  active.record.details = event.details;
  Status finished = event.outcome.status;
  const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(event.output, error));
  if (finished.ok()) finished = dir_->Publish(event.output, StoredFile::kResult, id);
  std::filesystem::remove(event.output, error);
  if (!finished.ok()) return FailVideo(active, finished);
  JobRecord& r = active.record;
  r.output_width = r.spec.input_width * r.spec.scale;
  r.output_height = r.spec.input_height * r.spec.scale;
  r.result_type = r.spec.format == "matroska" ? "video/x-matroska" : "video/mp4";
  r.result_bytes = bytes;
  r.result = ResultState::kStored;
  ForgetChunks(active);
  Finish(active, Status::Ok());
  active_.erase(id);
}

void JobManager::FailVideo(Active& active, const Status& status) {
  spdlog::warn("video job {} failed: {}", active.record.id, status.message());
  ForgetChunks(active);
  for (const auto& [chunk, pool_id] : active.chunk_pool)
    sink_.Cancel(pool_id, "cancelled: another chunk of its video failed");
  active.cancelled = active.in_pool();
  Finish(active, status);
  if (!active.cancelled) active_.erase(active.record.id);
}

void JobManager::ForgetChunks(const Active& active) {
  if (!active.video) return;
  for (const ChunkRecord& c : active.video->chunks()) {
    waiting_async_.Remove(ChunkKey(active.record.id, c.index));
    dir_->Remove(StoredFile::kChunk, ChunkFileName(active.record.id, c.index));
  }
  (void)store_->DeleteChunks(active.record.id);
}

}  // namespace tsdsr::dispatcher
