#include "dispatcher/pool/scheduler.h"

#include <algorithm>

#include "video/encoders.h"

namespace tsdsr::dispatcher {

bool WorkerState::Accepts(const Job& job) const {
  const std::int64_t budget = description.memory_budget;
  return CouldEverAccept(job) && (budget <= 0 || held_bytes() + job.worker_bytes <= budget);
}

std::int64_t WorkerState::held_bytes() const {
  std::int64_t held = 0;
  for (const auto& [id, job] : in_flight) held += job->worker_bytes;
  return held;
}

bool WorkerState::CouldEverAccept(const Job& job) const {
  if (!usable()) return false;
  if (description.memory_budget > 0 && job.worker_bytes > description.memory_budget) return false;
  const proto::JobHeader& chunk = job.params.chunk;
  if (chunk.kind != proto::kVideoChunkJob) return true;
  auto family = video::EncoderFamilyFromName(chunk.encoder);
  const video::EncoderSpec* encoder = family ? video::FindEncoder(chunk.codec, *family) : nullptr;
  return encoder != nullptr && video::HasEncoder(description.encoders, encoder->ffmpeg);
}

bool Scheduler::Enqueue(JobPtr& job) {
  if (order_.size() >= options_.max_queue) return false;
  if (job->worker_bytes == 0) job->worker_bytes = WorkerBytesOf(*job);
  order_.Push({job->id, job->client, job->priority, ++arrivals_});
  Queue(std::move(job));
  return true;
}

void Scheduler::Queue(JobPtr job) {
  if (!job->stored) direct_by_client_[job->client] += 1;
  const std::uint64_t id = job->id;
  queued_[id] = std::move(job);
}

std::int64_t WorkerBytesOf(const Job& job) {
  return WorkerJobBytes(static_cast<std::int64_t>(job.image.size()), job.params.input_width, job.params.input_height,
                        job.params.scale);
}

Status Scheduler::CheckServable(const Job& job) const {
  std::int64_t largest_budget = 0;
  bool unbounded = false;
  for (const auto& [identity, worker] : workers_) {
    if (worker.CouldEverAccept(job)) return Status::Ok();
    if (!worker.usable()) continue;
    unbounded = unbounded || worker.description.memory_budget <= 0;
    largest_budget = std::max(largest_budget, worker.description.memory_budget);
  }
  const proto::JobHeader& chunk = job.params.chunk;
  if (!unbounded && largest_budget > 0 && job.worker_bytes > largest_budget) {
    return Status::TooLarge("the job needs about " + std::to_string(job.worker_bytes >> 20) +
                            " MiB on a worker; the largest worker memory budget is " +
                            std::to_string(largest_budget >> 20) + " MiB");
  }
  return Status::Unavailable("no ready worker has the " + chunk.encoder + " " + chunk.codec +
                             " encoder this video's chunks are made with");
}

JobPtr Scheduler::Unqueue(std::uint64_t job_id) {
  auto it = queued_.find(job_id);
  JobPtr job = std::move(it->second);
  queued_.erase(it);
  if (!job->stored) {
    auto count = direct_by_client_.find(job->client);
    if (--count->second == 0) direct_by_client_.erase(count);
  }
  return job;
}

JobPtr Scheduler::TakeQueued(std::uint64_t job_id) {
  return order_.Remove(job_id) ? Unqueue(job_id) : nullptr;
}

std::pair<JobPtr, std::string> Scheduler::TakeInFlight(std::uint64_t job_id) {
  for (auto& [identity, worker] : workers_) {
    auto it = worker.in_flight.find(job_id);
    if (it == worker.in_flight.end()) continue;
    JobPtr job = std::move(it->second);
    worker.in_flight.erase(it);
    job->worker.clear();
    return {std::move(job), identity};
  }
  return {nullptr, ""};
}

Clock::time_point Scheduler::NextDeadline() const {
  Clock::time_point next = Clock::time_point::max();
  for (const auto& [id, job] : queued_) next = std::min(next, job->deadline);
  for (const auto& [identity, worker] : workers_) {
    for (const auto& [id, job] : worker.in_flight) next = std::min(next, job->deadline);
  }
  return next;
}

int Scheduler::TotalSlots() const {
  int slots = 0;
  for (const auto& [identity, worker] : workers_) slots += worker.usable() ? worker.description.slots : 0;
  return slots;
}

std::vector<JobPtr> Scheduler::RegisterWorker(const std::string& identity, proto::WorkerDescription description,
                                              Clock::time_point now) {
  std::vector<JobPtr> failed;
  auto it = workers_.find(identity);
  if (it != workers_.end()) failed = Reclaim(it->second);
  WorkerState& worker = workers_[identity];
  worker.identity = identity;
  worker.description = std::move(description);
  worker.live = proto::WorkerLiveStats{};
  worker.registered = now;
  worker.last_seen = now;
  worker.last_assigned = Clock::time_point{};
  return failed;
}

bool Scheduler::Touch(const std::string& identity, Clock::time_point now) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) return false;
  it->second.last_seen = now;
  return true;
}

void Scheduler::UpdateLiveStats(const std::string& identity, const proto::WorkerLiveStats& live) {
  auto it = workers_.find(identity);
  if (it != workers_.end()) it->second.live = live;
}

std::vector<JobPtr> Scheduler::RemoveWorker(const std::string& identity) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) return {};
  std::vector<JobPtr> failed = Reclaim(it->second);
  workers_.erase(it);
  return failed;
}

std::vector<JobPtr> Scheduler::Reclaim(WorkerState& worker) {
  std::vector<JobPtr> lost;
  for (auto& entry : worker.in_flight) lost.push_back(std::move(entry.second));
  worker.in_flight.clear();
  // Oldest first ahead of the queue (each goes ahead of the last): they have waited longest.
  std::sort(lost.begin(), lost.end(), [](const JobPtr& a, const JobPtr& b) { return a->submitted > b->submitted; });
  std::vector<JobPtr> failed;
  for (auto& job : lost) {
    job->worker.clear();
    if (job->attempts >= options_.max_attempts) {
      failed.push_back(std::move(job));
    } else {
      order_.PushAhead({job->id, job->client, job->priority, ++arrivals_});
      Queue(std::move(job));
    }
  }
  return failed;
}

std::vector<std::string> Scheduler::SilentWorkers(Clock::time_point now, Clock::duration timeout) const {
  std::vector<std::string> silent;
  for (const auto& [identity, worker] : workers_) {
    if (now - worker.last_seen > timeout) silent.push_back(identity);
  }
  return silent;
}

WorkerState* Scheduler::PickWorker(const Job& job) {
  WorkerState* best = nullptr;
  for (auto& [identity, worker] : workers_) {
    if (worker.free_slots() <= 0 || !worker.Accepts(job)) continue;
    if (best == nullptr || worker.free_slots() > best->free_slots() ||
        (worker.free_slots() == best->free_slots() && worker.last_assigned < best->last_assigned)) {
      best = &worker;
    }
  }
  return best;
}

std::optional<Scheduler::Assignment> Scheduler::Next(Clock::time_point now) {
  const bool room = std::any_of(workers_.begin(), workers_.end(),
                                [](const auto& w) { return w.second.usable() && w.second.free_slots() > 0; });
  if (order_.empty() || !room) return std::nullopt;
  WorkerState* worker = nullptr;
  auto entry = order_.TakeFirst([&](std::uint64_t id) { return (worker = PickWorker(*queued_.at(id))) != nullptr; });
  if (!entry) return std::nullopt;
  JobPtr job = Unqueue(entry->key);
  job->attempts += 1;
  job->worker = worker->identity;
  if (job->attempts == 1) job->first_sent = now;
  job->last_sent = now;
  worker->last_assigned = now;
  Job* raw = job.get();
  worker->in_flight.emplace(raw->id, std::move(job));
  return Assignment{raw, worker};
}

Job* Scheduler::FindInFlight(const std::string& identity, std::uint64_t job_id) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) return nullptr;
  auto job_it = it->second.in_flight.find(job_id);
  return job_it == it->second.in_flight.end() ? nullptr : job_it->second.get();
}

JobPtr Scheduler::Complete(const std::string& identity, std::uint64_t job_id) {
  auto it = workers_.find(identity);
  if (it == workers_.end()) return nullptr;
  auto job_it = it->second.in_flight.find(job_id);
  if (job_it == it->second.in_flight.end()) return nullptr;
  JobPtr job = std::move(job_it->second);
  it->second.in_flight.erase(job_it);
  it->second.jobs_done += 1;
  job->worker.clear();
  return job;
}

std::vector<Scheduler::Expired> Scheduler::TakeExpired(Clock::time_point now) {
  std::vector<Expired> expired;
  std::vector<std::uint64_t> due;
  for (const auto& [id, job] : queued_) {
    if (job->deadline <= now) due.push_back(id);
  }
  for (std::uint64_t id : due) expired.push_back({TakeQueued(id), ""});
  for (auto& [identity, worker] : workers_) {
    for (auto it = worker.in_flight.begin(); it != worker.in_flight.end();) {
      if (it->second->deadline <= now) {
        it->second->worker.clear();
        expired.push_back({std::move(it->second), identity});
        it = worker.in_flight.erase(it);
      } else {
        ++it;
      }
    }
  }
  return expired;
}

std::vector<JobPtr> Scheduler::TakeAllQueued() {
  std::vector<JobPtr> all;
  while (auto entry = order_.Pop()) all.push_back(Unqueue(entry->key));
  return all;
}

const WorkerState* Scheduler::FindWorker(const std::string& identity) const {
  auto it = workers_.find(identity);
  return it == workers_.end() ? nullptr : &it->second;
}

size_t Scheduler::in_flight() const {
  size_t n = 0;
  for (const auto& [identity, worker] : workers_) n += worker.in_flight.size();
  return n;
}

bool Scheduler::HasUsableWorker() const {
  return std::any_of(workers_.begin(), workers_.end(), [](const auto& entry) { return entry.second.usable(); });
}

}  // namespace tsdsr::dispatcher
