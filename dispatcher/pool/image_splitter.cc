#include "dispatcher/pool/image_splitter.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "common/image_codec.h"
#include "common/time_text.h"
#include "dispatcher/pool/split_plan.h"

namespace tsdsr::dispatcher {

// One split job. Guarded by the splitter's mutex, except `parent` and `plan` while the splitter thread alone
// works on them (Cut before the pieces are submitted, Join after they all answered).
struct ImageSplitter::Split {
  JobPtr parent;
  SplitTarget target;
  std::optional<model::TilePlan> plan;
  std::vector<std::uint64_t> piece_ids;
  std::vector<JobOutcome> outcomes;
  std::vector<std::pair<int, int>> progress;  // tiles done, total per piece
  int answered = 0;
  int failed_piece = -1;  // the first piece that failed
  bool submitted = false;
  bool started = false;
  std::string cancelled;  // the reason, once cancelled
  double cut_ms = 0;
};

ImageSplitter::ImageSplitter(JobSink& pool, SplitOptions options)
    : pool_(pool), options_(options), thread_([this] { Loop(); }) {}

ImageSplitter::~ImageSplitter() { Stop(); }

bool ImageSplitter::Qualifies(const Job& job) const {
  const JobParams& p = job.params;
  if (options_.min_pixels <= 0 || job.params.chunk.kind != proto::kImageJob) return false;
  const std::int64_t out = std::int64_t{p.input_width} * p.input_height * p.scale * p.scale;
  return out >= options_.min_pixels;
}

void ImageSplitter::Submit(JobPtr job) {
  std::optional<SplitTarget> target;
  if (Qualifies(*job)) target = FindSplitTarget(pool_.Snapshot(), job->params.scale);
  if (!target) return pool_.Submit(std::move(job));
  auto split = std::make_shared<Split>();
  split->parent = std::move(job);
  split->target = *target;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      splits_[split->parent->id] = split;
      tasks_.push_back([this, split] { Cut(split); });
      wake_.notify_one();
      return;
    }
  }
  pool_.Submit(std::move(split->parent));
}

void ImageSplitter::Cut(const SplitPtr& split) {
  const auto start = Clock::now();
  Job& parent = *split->parent;
  auto image = DecodeImage(parent.image, options_.max_pixels);
  if (!image.ok()) return Unsplit(split);  // the worker answers with the right error
  auto plan = PlanPieces(image->cols, image->rows, split->target.workers, split->target.margin, parent.params.scale);
  if (!plan.ok() || plan->count() < 2) return Unsplit(split);
  std::vector<JobPtr> jobs;
  for (int k = 0; k < plan->count(); ++k) {
    const cv::Mat piece = PieceOf(*image, *plan, k);
    auto bytes = EncodeImage(piece, ImageFormat::kPng);
    if (!bytes.ok()) return Unsplit(split);
    jobs.push_back(PieceJob(split, std::move(*bytes), piece.cols, piece.rows, k));
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    split->plan = std::move(*plan);
    split->outcomes.resize(jobs.size());
    split->progress.assign(jobs.size(), {0, 0});
    for (const JobPtr& j : jobs) split->piece_ids.push_back(j->id);
    split->cut_ms = MillisSince(start);
    if (!split->cancelled.empty()) {
      split->answered = static_cast<int>(jobs.size());
      for (auto& o : split->outcomes) o.status = Status::Cancelled(split->cancelled);
      split->failed_piece = 0;
      tasks_.push_back([this, split] { Join(split); });
      return;
    }
  }
  for (JobPtr& j : jobs) pool_.Submit(std::move(j));
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    split->submitted = true;
    reason = split->cancelled;
  }
  if (!reason.empty()) {
    for (std::uint64_t id : split->piece_ids) pool_.Cancel(id, reason);
  }
}

JobPtr ImageSplitter::PieceJob(const SplitPtr& split, std::string image, int width, int height, int piece) {
  const Job& parent = *split->parent;
  auto job = std::make_unique<Job>();
  job->id = pool_.NewJobId();
  job->params = parent.params;
  job->params.format = "png";  // lossless on the way back
  job->params.input_width = width;
  job->params.input_height = height;
  job->image = std::move(image);
  job->submitted = Clock::now();
  job->deadline = parent.deadline;
  job->priority = parent.priority;
  job->done = [this, split, piece](JobOutcome outcome) { OnPiece(split, piece, std::move(outcome)); };
  job->on_started = [this, split](const std::string& worker) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (split->started || !split->parent->on_started) return;
    split->started = true;
    lock.unlock();
    split->parent->on_started(worker);
  };
  job->on_progress = [this, split, piece](int done, int total) {
    std::unique_lock<std::mutex> lock(mutex_);
    split->progress[static_cast<size_t>(piece)] = {done, total};
    int all_done = 0, all_total = 0;
    for (const auto& [d, t] : split->progress) all_done += d, all_total += t;
    lock.unlock();
    if (split->parent->on_progress) split->parent->on_progress(all_done, all_total);
  };
  return job;
}

void ImageSplitter::OnPiece(const SplitPtr& split, int piece, JobOutcome outcome) {
  std::vector<std::uint64_t> others;
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool failed = !outcome.status.ok();
    split->outcomes[static_cast<size_t>(piece)] = std::move(outcome);
    if (failed && split->failed_piece < 0) {
      split->failed_piece = piece;  // the rest cannot make a whole image: stop them
      reason = "cancelled: another piece of the image failed";
      others = split->piece_ids;
    }
    if (++split->answered == static_cast<int>(split->piece_ids.size())) {
      tasks_.push_back([this, split] { Join(split); });
      wake_.notify_one();
    }
  }
  for (std::uint64_t id : others) pool_.Cancel(id, reason);
}

void ImageSplitter::Join(const SplitPtr& split) {
  int failed_piece = -1;
  std::string cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    failed_piece = split->failed_piece;
    cancelled = split->cancelled;
  }
  if (failed_piece < 0) return Finish(split, Blend(*split));
  JobOutcome failed = std::move(split->outcomes[static_cast<size_t>(failed_piece)]);
  if (!cancelled.empty()) failed.status = Status::Cancelled(cancelled);
  failed.total_ms = MillisSince(split->parent->submitted);
  Finish(split, std::move(failed));
}

JobOutcome ImageSplitter::Blend(const Split& split) const {
  const auto start = Clock::now();
  JobOutcome out;
  std::vector<cv::Mat> outputs;
  double compute_ms = 0;
  out.queue_ms = split.outcomes.front().queue_ms;
  for (const JobOutcome& piece : split.outcomes) {
    auto image = DecodeImage(piece.image, 0);
    if (!image.ok()) {
      out.status = Status::Internal("a piece of the image came back unreadable: " + image.status().message());
      return out;
    }
    outputs.push_back(std::move(*image));
    const auto& r = piece.result;
    compute_ms = std::max(compute_ms, r.decode_ms + r.compute_ms + r.encode_ms);
    out.queue_ms = std::min(out.queue_ms, piece.queue_ms);
    if (out.worker_id.find(piece.worker_id) == std::string::npos) {
      out.worker_id += (out.worker_id.empty() ? "" : "+") + piece.worker_id;
    }
  }
  auto whole = BlendPieces(*split.plan, outputs);
  auto format = ParseOutputFormat(split.parent->params.format);
  Result<std::string> bytes = !whole.ok() ? whole.status() : !format.ok() ? format.status() : EncodeImage(*whole, *format);
  if (!bytes.ok()) {
    out.status = Status(bytes.status().code(), "joining the pieces: " + bytes.status().message());
    return out;
  }
  out.image = std::move(*bytes);
  proto::ResultHeader& r = out.result;
  r.job_id = split.parent->id;
  r.input_width = split.plan->x().size;
  r.input_height = split.plan->y().size;
  r.output_width = whole->cols;
  r.output_height = whole->rows;
  r.content_type = std::string(ContentTypeOf(*format));
  r.decode_ms = split.cut_ms;
  r.compute_ms = compute_ms;
  r.encode_ms = MillisSince(start);
  out.total_ms = MillisSince(split.parent->submitted);
  return out;
}

void ImageSplitter::Finish(const SplitPtr& split, JobOutcome outcome) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    splits_.erase(split->parent->id);
  }
  wake_.notify_all();
  split->parent->done(std::move(outcome));
}

void ImageSplitter::Unsplit(const SplitPtr& split) {
  std::string cancelled;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled = split->cancelled;
    if (cancelled.empty()) splits_.erase(split->parent->id);
  }
  if (!cancelled.empty()) {
    JobOutcome outcome;
    outcome.status = Status::Cancelled(cancelled);
    return Finish(split, std::move(outcome));
  }
  wake_.notify_all();
  pool_.Submit(std::move(split->parent));
}

void ImageSplitter::Cancel(std::uint64_t job_id, std::string reason) {
  std::vector<std::uint64_t> pieces;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = splits_.find(job_id);
    if (it == splits_.end()) return pool_.Cancel(job_id, std::move(reason));  // not one of ours
    Split& split = *it->second;
    if (split.cancelled.empty()) split.cancelled = reason;
    if (split.submitted) pieces = split.piece_ids;  // else Cut sees the reason and stops them itself
  }
  for (std::uint64_t id : pieces) pool_.Cancel(id, reason);
}

std::size_t ImageSplitter::Outstanding() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return splits_.size();
}

void ImageSplitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ImageSplitter::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return !tasks_.empty() || (stopping_ && splits_.empty()); });
    if (tasks_.empty()) return;
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace tsdsr::dispatcher
