// The worker's compute thread: runs queued jobs one at a time on the model while the I/O thread keeps
// talking to the dispatcher. Results come back through TakeResults and the running job's progress through
// TakeProgress, both signalled on a Wakeup; progress is published at most every kProgressInterval (and always
// when the last tile is done), so a fast model cannot flood the dispatcher with PROGRESS messages.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.h"
#include "common/wakeup.h"
#include "worker/job_runner.h"
#include "worker/upscaler.h"

namespace tsdsr::worker {

class ComputeThread {
 public:
  static constexpr std::chrono::milliseconds kProgressInterval{100};

  // `upscaler` may be null (model failed to load: every job is answered with `load_error`). `upscaler` and
  // `results_ready` must outlive this object. Starts the thread.
  ComputeThread(Upscaler* upscaler, std::string load_error, std::int64_t max_pixels, Wakeup& results_ready);
  ~ComputeThread();  // Stop()
  ComputeThread(const ComputeThread&) = delete;
  ComputeThread& operator=(const ComputeThread&) = delete;

  // Queues a job. One whose timeout_ms has passed when its turn comes is answered DeadlineExceeded
  // without running. Thread-safe.
  void Push(proto::JobHeader job, std::string image);
  // A queued job is dropped and answered Cancelled; the running one stops at its next tile batch.
  // Unknown ids are ignored. Thread-safe.
  void Cancel(std::uint64_t job_id);
  // Finished jobs since the last call, in finishing order. Thread-safe.
  std::vector<JobReply> TakeResults();
  // The running job's latest published progress not taken yet; nullopt when there is none. Thread-safe.
  std::optional<proto::ProgressHeader> TakeProgress();
  // busy/queued/jobs_done/jobs_failed now (memory is filled in by the caller). Thread-safe.
  proto::WorkerLiveStats Live() const;
  // Cancels the running job, drops queued ones unanswered, and joins. Idempotent.
  void Stop();

 private:
  struct Task {
    proto::JobHeader job;
    std::string image;
    std::chrono::steady_clock::time_point deadline;  // from job.timeout_ms when it arrived
  };

  void Loop();
  // Called by the model between tile batches of job `job_id`; publishes when the interval allows.
  void OnProgress(std::uint64_t job_id, int done, int total);

  Upscaler* upscaler_;
  const std::string load_error_;
  const std::int64_t max_pixels_;
  Wakeup& results_ready_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Task> queue_;            // guarded by mu_
  std::vector<JobReply> results_;     // guarded by mu_
  std::optional<proto::ProgressHeader> progress_;  // guarded by mu_
  std::chrono::steady_clock::time_point progress_published_{};  // compute thread only
  std::uint64_t running_id_ = 0;      // guarded by mu_; 0 when idle
  bool stopping_ = false;             // guarded by mu_
  std::int64_t done_ = 0;             // guarded by mu_
  std::int64_t failed_ = 0;           // guarded by mu_
  std::int64_t steps_ = 0;            // guarded by mu_: tiles and frames finished, all jobs
  int running_steps_ = 0;             // guarded by mu_: of them, the running job's
  std::atomic<bool> cancel_running_{false};
  std::thread thread_;
};

}  // namespace tsdsr::worker
