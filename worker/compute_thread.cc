#include "worker/compute_thread.h"

namespace tsdsr::worker {

ComputeThread::ComputeThread(Upscaler* upscaler, std::string load_error, std::int64_t max_pixels,
                             Wakeup& results_ready)
    : upscaler_(upscaler),
      load_error_(std::move(load_error)),
      max_pixels_(max_pixels),
      results_ready_(results_ready),
      thread_([this] { Loop(); }) {}

ComputeThread::~ComputeThread() { Stop(); }

void ComputeThread::Push(proto::JobHeader job, std::string image) {
  auto deadline = std::chrono::steady_clock::time_point::max();
  if (job.timeout_ms > 0) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(job.timeout_ms);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Task{std::move(job), std::move(image), deadline});
  }
  wake_.notify_one();
}

void ComputeThread::Cancel(std::uint64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_id_ == job_id) {
    cancel_running_.store(true);
    return;
  }
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->job.job_id != job_id) continue;
    JobReply reply;
    reply.header.job_id = job_id;
    reply.header.status = std::string(StatusCodeName(StatusCode::kCancelled));
    reply.header.error = "cancelled before it started";
    queue_.erase(it);
    results_.push_back(std::move(reply));
    results_ready_.Raise();
    return;
  }
}

std::vector<JobReply> ComputeThread::TakeResults() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobReply> out;
  out.swap(results_);
  return out;
}

std::optional<proto::ProgressHeader> ComputeThread::TakeProgress() {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<proto::ProgressHeader> out;
  out.swap(progress_);
  return out;
}

void ComputeThread::OnProgress(std::uint64_t job_id, int done, int total) {
  const auto now = std::chrono::steady_clock::now();
  const bool publish = done >= total || now - progress_published_ >= kProgressInterval;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done > running_steps_) steps_ += done - running_steps_;  // done starts over when a job is retried
    running_steps_ = done;
    if (publish) progress_ = proto::ProgressHeader{job_id, done, total};
  }
  if (!publish) return;
  progress_published_ = now;
  results_ready_.Raise();
}

proto::WorkerLiveStats ComputeThread::Live() const {
  std::lock_guard<std::mutex> lock(mu_);
  proto::WorkerLiveStats live;
  live.busy = running_id_ != 0 ? 1 : 0;
  live.queued = static_cast<int>(queue_.size());
  live.jobs_done = done_;
  live.jobs_failed = failed_;
  live.progress = steps_;
  return live;
}

void ComputeThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cancel_running_.store(true);
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ComputeThread::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Task task = std::move(queue_.front());
    queue_.pop_front();
    running_id_ = task.job.job_id;
    running_steps_ = 0;
    cancel_running_.store(false);
    lock.unlock();
    JobReply reply;
    if (std::chrono::steady_clock::now() >= task.deadline) {
      reply.header.job_id = task.job.job_id;
      reply.header.status = std::string(StatusCodeName(StatusCode::kDeadlineExceeded));
      reply.header.error = "deadline passed while queued on the worker";
    } else {
      const std::uint64_t id = task.job.job_id;
      progress_published_ = std::chrono::steady_clock::time_point{};  // a job's first progress always goes out
      reply = RunJob(
          upscaler_, load_error_, task.job, task.image, max_pixels_, [this] { return cancel_running_.load(); },
          [this, id](int done, int total) { OnProgress(id, done, total); });
    }
    lock.lock();
    running_id_ = 0;
    progress_.reset();  // the result says the rest
    (reply.header.status == "ok" ? done_ : failed_) += 1;
    results_.push_back(std::move(reply));
    results_ready_.Raise();
  }
}

}  // namespace tsdsr::worker
