#include "dispatcher/pool/scheduler.h"

#include <algorithm>

namespace tsdsr::dispatcher {

bool Scheduler::Enqueue(JobPtr& job) {
  if (queued_ >= options_.max_queue) return false;
  queues_[job->priority].push_back(std::move(job));
  ++queued_;
  return true;
}

JobPtr Scheduler::TakeQueued(std::uint64_t job_id) {
  for (auto& [priority, queue] : queues_) {
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if ((*it)->id != job_id) continue;
      JobPtr job = std::move(*it);
      queue.erase(it);
      --queued_;
      return job;
    }
  }
  return nullptr;
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
  for (const auto& [priority, queue] : queues_) {
    for (const auto& job : queue) next = std::min(next, job->deadline);
  }
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
  // Oldest first at the head of the queue: they have waited longest.
  std::sort(lost.begin(), lost.end(), [](const JobPtr& a, const JobPtr& b) { return a->submitted > b->submitted; });
  std::vector<JobPtr> failed;
  for (auto& job : lost) {
    job->worker.clear();
    if (job->attempts >= options_.max_attempts) {
      failed.push_back(std::move(job));
    } else {
      queues_[job->priority].push_front(std::move(job));
      ++queued_;
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

WorkerState* Scheduler::PickWorker() {
  WorkerState* best = nullptr;
  for (auto& [identity, worker] : workers_) {
    if (!worker.usable() || worker.free_slots() <= 0) continue;
    if (best == nullptr || worker.free_slots() > best->free_slots() ||
        (worker.free_slots() == best->free_slots() && worker.last_assigned < best->last_assigned)) {
      best = &worker;
    }
  }
  return best;
}

std::optional<Scheduler::Assignment> Scheduler::Next(Clock::time_point now) {
  if (queued_ == 0) return std::nullopt;
  WorkerState* worker = PickWorker();
  if (worker == nullptr) return std::nullopt;
  auto level = queues_.begin();
  while (level->second.empty()) ++level;  // queued_ > 0, so some level has a job
  JobPtr job = std::move(level->second.front());
  level->second.pop_front();
  --queued_;
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
  for (auto& [priority, queue] : queues_) {
    for (auto it = queue.begin(); it != queue.end();) {
      if ((*it)->deadline <= now) {
        expired.push_back({std::move(*it), ""});
        it = queue.erase(it);
        --queued_;
      } else {
        ++it;
      }
    }
  }
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
  for (auto& [priority, queue] : queues_) {
    for (auto& job : queue) all.push_back(std::move(job));
  }
  queues_.clear();
  queued_ = 0;
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
