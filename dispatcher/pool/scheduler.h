// The job queue and the worker registry: which job goes to which worker, and what happens to jobs when a
// worker goes away. Jobs are served by priority, then in turns between clients (FairOrder), each to a worker that
// can take it (a video chunk needs its encoder). Pure state: no sockets, no threads, no clock of its own (times
// are passed in), so every decision is unit-testable. Not thread-safe: the broker thread owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/protocol.h"
#include "dispatcher/pool/fair_order.h"
#include "dispatcher/pool/job.h"

namespace tsdsr::dispatcher {

struct SchedulerOptions {
  size_t max_queue = 256;  // queued (not yet sent) jobs
  int max_attempts = 3;    // sends of one job before it is failed
};

struct WorkerState {
  std::string identity;  // ZeroMQ routing id
  proto::WorkerDescription description;
  proto::WorkerLiveStats live;
  Clock::time_point registered{};
  Clock::time_point last_seen{};
  Clock::time_point last_assigned{};
  std::map<std::uint64_t, JobPtr> in_flight;  // owned here while the worker holds them
  std::int64_t jobs_done = 0;

  // A worker whose model loaded; workers that reported a load error are kept only to show why.
  bool usable() const { return description.status == "ok"; }
  int free_slots() const { return description.slots - static_cast<int>(in_flight.size()); }
  // True when the worker is usable and can do `job` (a video chunk: it has the chunk's encoder) on top of what it
  // holds (its memory budget).
  bool Accepts(const Job& job) const;
  // True when it could do `job` once idle.
  bool CouldEverAccept(const Job& job) const;
  std::int64_t held_bytes() const;  // worker_bytes of its in-flight jobs
};

// What `job` holds on a worker while it runs (WorkerJobBytes of its payload and sizes).
std::int64_t WorkerBytesOf(const Job& job);

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options) : options_(options) {}

  // Queues `job` behind its client's jobs of its priority and returns true, taking ownership; returns false and
  // leaves `job` with the caller when the queue is full.
  bool Enqueue(JobPtr& job);

  // OK when some usable worker, busy or not, can do `job`; otherwise why none can: Unavailable for a missing
  // encoder, TooLarge when the job needs more than every worker's memory budget.
  Status CheckServable(const Job& job) const;
  bool CanEverServe(const Job& job) const { return CheckServable(job).ok(); }

  // Removes a queued job and returns it; nullptr when `job_id` is not queued (in flight or unknown).
  JobPtr TakeQueued(std::uint64_t job_id);

  // Removes a job from the worker holding it and returns it with that worker's identity (to cancel there);
  // a null job when no worker holds `job_id`.
  std::pair<JobPtr, std::string> TakeInFlight(std::uint64_t job_id);

  // The earliest deadline of any queued or in-flight job; time_point::max() when none has one.
  Clock::time_point NextDeadline() const;

  // Slots of usable workers, busy or free.
  int TotalSlots() const;

  // Adds a worker (READY). A READY from a known identity means the worker restarted: the jobs it held are
  // lost, and are handled as by RemoveWorker (requeued, or returned when out of attempts).
  std::vector<JobPtr> RegisterWorker(const std::string& identity, proto::WorkerDescription description,
                                     Clock::time_point now);

  // Records that a worker was heard from. False for an unknown identity.
  bool Touch(const std::string& identity, Clock::time_point now);
  void UpdateLiveStats(const std::string& identity, const proto::WorkerLiveStats& live);

  // Forgets a worker. Its in-flight jobs go back ahead of their priority's queue in submission order when they
  // have attempts left; the others are returned for the caller to fail.
  std::vector<JobPtr> RemoveWorker(const std::string& identity);

  // Identities of workers not heard from since `now - timeout`.
  std::vector<std::string> SilentWorkers(Clock::time_point now, Clock::duration timeout) const;

  struct Assignment {
    Job* job;  // owned by the worker's in-flight set until Complete/RemoveWorker
    const WorkerState* worker;
  };
  // Picks the first queued job, in serving order, that a worker with a free slot accepts, and of those workers
  // the one with the most free slots (least recently assigned first); moves the job into that worker's in-flight
  // set and counts the attempt. nullopt when no queued job can be placed now.
  std::optional<Assignment> Next(Clock::time_point now);

  // The job `job_id` while worker `identity` holds it (owned by the scheduler); nullptr otherwise.
  Job* FindInFlight(const std::string& identity, std::uint64_t job_id);

  // Takes a finished job back from its worker; nullptr when that worker does not hold `job_id`.
  JobPtr Complete(const std::string& identity, std::uint64_t job_id);

  struct Expired {
    JobPtr job;
    std::string worker;  // the worker that held it (to be told to cancel), empty when it was still queued
  };
  // Removes and returns the jobs, queued or in flight, whose deadline is at or before `now`.
  std::vector<Expired> TakeExpired(Clock::time_point now);

  // Removes and returns every queued job (shutdown).
  std::vector<JobPtr> TakeAllQueued();

  const WorkerState* FindWorker(const std::string& identity) const;
  const std::map<std::string, WorkerState>& workers() const { return workers_; }
  size_t queue_depth() const { return order_.size(); }
  // Queued jobs per client, those the job manager counts itself (Job::stored) left out.
  const std::map<std::string, size_t>& QueueDepthByClient() const { return direct_by_client_; }
  size_t in_flight() const;
  bool HasUsableWorker() const;

 private:
  // Requeues a lost worker's jobs; returns the ones out of attempts.
  std::vector<JobPtr> Reclaim(WorkerState& worker);
  // The worker with a free slot that should take `job`; nullptr when none accepts it.
  WorkerState* PickWorker(const Job& job);
  void Queue(JobPtr job);                // puts a job in queued_ (its order entry is made already)
  JobPtr Unqueue(std::uint64_t job_id);  // takes a job out of queued_ (its order entry is already gone)

  SchedulerOptions options_;
  FairOrder<std::uint64_t> order_;              // of the queued jobs
  std::map<std::uint64_t, JobPtr> queued_;      // by id
  std::map<std::string, size_t> direct_by_client_;  // of queued_, the jobs not Job::stored, by client
  std::int64_t arrivals_ = 0;                   // Enqueue's count: arrival order within a round
  std::map<std::string, WorkerState> workers_;
};

}  // namespace tsdsr::dispatcher
