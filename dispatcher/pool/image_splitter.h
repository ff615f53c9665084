// ImageSplitter: the JobSink in front of the pool that spreads one large image over several idle workers. An image
// job whose output has at least `min_pixels` pixels, while two or more idle workers run the same model and can
// split it (FindSplitTarget), is decoded, cut into overlapping pieces (PlanPieces: a grid, one piece per idle
// worker), and each piece goes to the pool as a job of its own (same priority, deadline, retries); the pieces'
// outputs are blended with the tiler's weights (BlendPieces) and encoded as the job asked. The result equals one worker's
// within a grey level. Every other job passes through untouched. Decoding, cutting, blending and encoding run on
// the splitter's own thread, never on the broker's or an HTTP thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dispatcher/pool/job_sink.h"

namespace tsdsr::dispatcher {

struct SplitOptions {
  std::int64_t min_pixels = 4000000;  // output pixels from which an image is split; 0 = never
  std::int64_t max_pixels = 0;        // largest input to decode (the dispatcher's --max-pixels); 0 = no limit
};

class ImageSplitter final : public JobSink {
 public:
  // `pool` (the broker) must outlive the splitter.
  ImageSplitter(JobSink& pool, SplitOptions options);
  ~ImageSplitter() override;  // Stop()

  std::uint64_t NewJobId() override { return pool_.NewJobId(); }
  // Splits `job` when it qualifies (see the file comment), else hands it to the pool. Thread-safe, never blocks.
  void Submit(JobPtr job) override;
  // Cancels a split job's pieces (its callback then runs once, with the reason), or a pool job. Thread-safe.
  void Cancel(std::uint64_t job_id, std::string reason) override;
  PoolSnapshot Snapshot() const override { return pool_.Snapshot(); }

  // Split jobs not yet answered.
  std::size_t Outstanding() const;
  // After the pool has stopped (and so answered every piece): finishes the split jobs, then ends the thread.
  // Idempotent.
  void Stop();

 private:
  struct Split;
  using SplitPtr = std::shared_ptr<Split>;

  bool Qualifies(const Job& job) const;
  void Cut(const SplitPtr& split);                                     // splitter thread
  JobPtr PieceJob(const SplitPtr& split, std::string image, int width, int height, int piece);
  void OnPiece(const SplitPtr& split, int piece, JobOutcome outcome);     // broker thread
  void Join(const SplitPtr& split);                                    // splitter thread
  JobOutcome Blend(const Split& split) const;                          // splitter thread
  void Finish(const SplitPtr& split, JobOutcome outcome);
  void Unsplit(const SplitPtr& split);  // hands the job to the pool as it is
  void Loop();

  JobSink& pool_;
  const SplitOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::map<std::uint64_t, SplitPtr> splits_;  // by the split job's id
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tsdsr::dispatcher
