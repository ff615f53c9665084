// The broker: the one thread that owns the dispatcher's ZeroMQ ROUTER socket. HTTP threads hand it jobs
// (Submit) and read the pool's state (Snapshot); it schedules jobs onto workers, heartbeats them, drops the
// silent ones, retries their jobs elsewhere, and answers every job exactly once through its callback.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/protocol.h"
#include "common/status.h"
#include "common/wakeup.h"
#include "dispatcher/pool/job.h"
#include "dispatcher/pool/job_sink.h"
#include "dispatcher/status/metrics.h"
#include "dispatcher/status/pool_snapshot.h"
#include "dispatcher/pool/scheduler.h"

namespace tsdsr::dispatcher {

struct BrokerOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";  // ROUTER bind address; a port of * picks a free one
  SchedulerOptions scheduler;
  std::chrono::milliseconds heartbeat_interval{1000};
  int heartbeat_misses = 3;  // a worker silent for interval × misses is dropped
  std::string curve_secret_key;  // Z85; when set, the ROUTER is a CURVE server (run a ZapAuthenticator first)
};

class Broker final : public JobSink {
 public:
  // Binds the ROUTER socket (so a busy port is reported here) and starts the broker thread. `context` and
  // `metrics` must outlive the broker.
  static Result<std::unique_ptr<Broker>> Create(BrokerOptions options, zmq::context_t& context, Metrics& metrics);
  ~Broker() override;  // Stop()
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  std::uint64_t NewJobId() override { return next_job_id_.fetch_add(1); }

  // Hands `job` over. From here the broker owns it and runs job->done exactly once, on the broker thread:
  // with the result, or with Unavailable (queue full, no worker, stopping), DeadlineExceeded, or the
  // worker's error. job->on_started and job->on_progress run on the broker thread too. Thread-safe, never
  // blocks on the broker.
  void Submit(JobPtr job) override;

  // Cancels a job that is queued (dropped) or on a worker (told to stop); either way its callback runs with
  // Cancelled(`reason`). Unknown or finished ids are ignored. Thread-safe.
  void Cancel(std::uint64_t job_id, std::string reason) override;

  // Jobs submitted and not yet answered. Thread-safe.
  std::int64_t Outstanding() const { return outstanding_.load(); }

  // The state as of the broker's last loop turn (at most a few ms old). Thread-safe.
  PoolSnapshot Snapshot() const override;

  // The bound endpoint with any wildcard port resolved, e.g. "tcp://127.0.0.1:41234".
  const std::string& endpoint() const { return endpoint_; }

  // Answers every queued and in-flight job with Unavailable("dispatcher is shutting down"), tells the
  // workers, and joins the thread. Idempotent.
  void Stop();

 private:
  Broker(BrokerOptions options, zmq::context_t& context, Metrics& metrics);

  void Run();
  void DrainInbox(Clock::time_point now);
  void CancelJob(std::uint64_t job_id, const std::string& reason, Clock::time_point now);
  std::string NoWorkerReason() const;
  int RetryAfterSeconds() const;
  std::chrono::milliseconds PollTimeout(Clock::time_point now) const;
  void ReceiveAll(Clock::time_point now);
  void Handle(const std::string& identity, proto::Message message, Clock::time_point now);
  void HandleReady(const std::string& identity, const proto::Message& message, Clock::time_point now);
  void HandleResult(const std::string& identity, proto::Message message, Clock::time_point now);
  void HandleProgress(const std::string& identity, const proto::Message& message);
  void Housekeep(Clock::time_point now);
  void Dispatch(Clock::time_point now);
  void DropWorker(const std::string& identity, const std::string& why);
  // Drops the registrations of the worker process `description` names (same id, host and pid) on connections
  // other than `identity`: a worker that reconnected after a stall sends READY on a new connection.
  void DropStaleRegistrations(const std::string& identity, const proto::WorkerDescription& description);
  void Finish(JobPtr job, JobOutcome outcome, Clock::time_point now);
  void Fail(JobPtr job, Status status, Clock::time_point now);
  void FailAll(std::vector<JobPtr> jobs, const Status& status, Clock::time_point now);
  void Publish(Clock::time_point now);

  BrokerOptions options_;
  Metrics& metrics_;
  zmq::socket_t router_;  // used only by the broker thread once it runs
  std::string endpoint_;
  Scheduler scheduler_;   // broker thread only
  Clock::time_point next_heartbeat_{};
  std::int64_t jobs_ok_ = 0;
  std::int64_t jobs_failed_ = 0;
  std::int64_t workers_lost_ = 0;
  double mean_job_ms_ = 0;  // moving average of first send → result, over successful jobs
  std::deque<DepartedWorker> departed_;  // newest first, kMaxDeparted at most

  Wakeup wakeup_;
  std::mutex inbox_mu_;
  std::vector<JobPtr> inbox_;                  // guarded by inbox_mu_
  std::vector<std::pair<std::uint64_t, std::string>> cancellations_;  // guarded by inbox_mu_: id, reason

  mutable std::mutex snapshot_mu_;
  PoolSnapshot snapshot_;  // guarded by snapshot_mu_

  std::atomic<std::int64_t> outstanding_{0};
  std::atomic<std::uint64_t> next_job_id_{1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tsdsr::dispatcher
