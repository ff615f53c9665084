#include "dispatcher/pool/image_splitter.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "common/image_codec.h"
#include "dispatcher/pool/pool_testing.h"

namespace tsdsr::dispatcher {
namespace {

using testing::RecordingSink;

// A pool that holds what it is given until the test answers it, with `idle` idle workers that can split.
class FakePool : public RecordingSink {
 public:
  explicit FakePool(int idle) {
    PoolSnapshot snapshot;
    for (int i = 0; i < idle; ++i) {
      WorkerView w;
      w.description.id = "w" + std::to_string(i);
      w.description.model_name = "m";
      w.description.scales = {2};
      w.description.split_margins = {4};
      snapshot.workers.push_back(w);
    }
    SetSnapshot(std::move(snapshot));
  }
  std::vector<std::uint64_t> cancelled() const {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, reason] : cancels()) ids.push_back(id);
    return ids;
  }
};

// What a job's done callback got, waited for from the test's thread.
struct Answer {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<JobOutcome> outcome;
  int calls = 0;
  JobOutcome Wait() {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [this] { return outcome.has_value(); }));
    return outcome.value_or(JobOutcome{});
  }
};

JobPtr ImageJob(const cv::Mat& image, Answer* answer, std::uint64_t id = 1000) {
  auto job = std::make_unique<Job>();
  job->id = id;
  job->params.scale = 2;
  job->params.input_width = image.cols;
  job->params.input_height = image.rows;
  job->image = *EncodeImage(image, ImageFormat::kPng);
  job->submitted = Clock::now();
  job->done = [answer](JobOutcome outcome) {
    std::lock_guard<std::mutex> lock(answer->mu);
    ++answer->calls;
    answer->outcome = std::move(outcome);
    answer->cv.notify_all();
  };
  return job;
}

// A worker's answer to a piece: its nearest-neighbour ×2.
JobOutcome Upscaled(const Job& piece, const std::string& worker) {
  cv::Mat in = *DecodeImage(piece.image, 0);
  cv::Mat out;
  cv::resize(in, out, cv::Size(in.cols * 2, in.rows * 2), 0, 0, cv::INTER_NEAREST);
  JobOutcome o;
  o.image = *EncodeImage(out, ImageFormat::kPng);
  o.worker_id = worker;
  return o;
}

cv::Mat Noise(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  return image;
}

SplitOptions Options() { return SplitOptions{10000, 0}; }

TEST(ImageSplitterTest, SmallImagesAndVideoChunksPassThrough) {
  FakePool pool(4);
  ImageSplitter splitter(pool, Options());
  Answer answer;
  splitter.Submit(ImageJob(Noise(40, 40), &answer, 7));  // 6,400 output pixels
  JobPtr same = pool.Take();
  ASSERT_NE(same, nullptr);
  EXPECT_EQ(same->id, 7u) << "handed over as it is";
  JobPtr chunk = ImageJob(Noise(200, 200), &answer, 8);
  chunk->params.chunk.kind = std::string(proto::kVideoChunkJob);
  splitter.Submit(std::move(chunk));
  EXPECT_EQ(pool.Take()->id, 8u);
  EXPECT_EQ(splitter.Outstanding(), 0u);
}

TEST(ImageSplitterTest, PiecesGoToThePoolAndComeBackAsOneImage) {
  FakePool pool(3);
  ImageSplitter splitter(pool, Options());
  const cv::Mat image = Noise(150, 120);
  Answer answer;
  splitter.Submit(ImageJob(image, &answer));
  std::vector<JobPtr> pieces;
  for (int i = 0; i < 3; ++i) pieces.push_back(pool.Take());
  for (const JobPtr& p : pieces) ASSERT_NE(p, nullptr);
  EXPECT_EQ(splitter.Outstanding(), 1u);
  for (size_t i = 0; i < pieces.size(); ++i) pieces[i]->done(Upscaled(*pieces[i], "w" + std::to_string(i)));
  const JobOutcome out = answer.Wait();
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.worker_id, "w0+w1+w2");
  EXPECT_EQ(out.result.output_width, 300);
  EXPECT_EQ(out.result.content_type, "image/png");
  cv::Mat expected;
  cv::resize(image, expected, cv::Size(300, 240), 0, 0, cv::INTER_NEAREST);
  cv::Mat diff;
  cv::absdiff(*DecodeImage(out.image, 0), expected, diff);
  EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 0);
  EXPECT_EQ(splitter.Outstanding(), 0u);
}

TEST(ImageSplitterTest, AFailedPieceStopsTheOthersAndFailsTheImageOnce) {
  FakePool pool(2);
  ImageSplitter splitter(pool, Options());
  Answer answer;
  splitter.Submit(ImageJob(Noise(150, 120), &answer));
  JobPtr a = pool.Take();
  JobPtr b = pool.Take();
  ASSERT_TRUE(a && b);
  JobOutcome failed;
  failed.status = Status::ResourceExhausted("out of memory on cuda:0");
  a->done(std::move(failed));
  EXPECT_EQ(pool.cancelled(), (std::vector<std::uint64_t>{a->id, b->id}));
  JobOutcome cancelled;
  cancelled.status = Status::Cancelled("cancelled: another piece of the image failed");
  b->done(std::move(cancelled));
  const JobOutcome out = answer.Wait();
  EXPECT_EQ(out.status.code(), StatusCode::kResourceExhausted) << out.status.ToString();
  EXPECT_EQ(answer.calls, 1);
}

TEST(ImageSplitterTest, CancellingTheImageCancelsEveryPiece) {
  FakePool pool(2);
  ImageSplitter splitter(pool, Options());
  Answer answer;
  splitter.Submit(ImageJob(Noise(150, 120), &answer, 5));
  JobPtr a = pool.Take();
  JobPtr b = pool.Take();
  ASSERT_TRUE(a && b);
  splitter.Cancel(5, "cancelled: the client went away");
  // At once, or by the splitter's thread right after it submitted them (when the cancel came in between).
  for (int i = 0; i < 500 && pool.cancelled().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(pool.cancelled(), (std::vector<std::uint64_t>{a->id, b->id})) << "every piece, never the image's own id";
  a->done(Upscaled(*a, "w0"));  // one had finished already
  JobOutcome cancelled;
  cancelled.status = Status::Cancelled("cancelled: the client went away");
  b->done(std::move(cancelled));
  const JobOutcome out = answer.Wait();
  EXPECT_EQ(out.status.code(), StatusCode::kCancelled);
  EXPECT_EQ(out.status.message(), "cancelled: the client went away");
}

TEST(ImageSplitterTest, AnUndecodableImageGoesToThePoolForItsError) {
  FakePool pool(2);
  ImageSplitter splitter(pool, Options());
  Answer answer;
  JobPtr job = ImageJob(Noise(150, 120), &answer, 9);
  job->image.resize(job->image.size() / 2);  // truncated
  splitter.Submit(std::move(job));
  JobPtr passed = pool.Take();
  ASSERT_NE(passed, nullptr);
  EXPECT_EQ(passed->id, 9u);
  EXPECT_EQ(splitter.Outstanding(), 0u);
}

TEST(ImageSplitterTest, StopWaitsForSplitImagesToBeAnswered) {
  FakePool pool(2);
  auto splitter = std::make_unique<ImageSplitter>(pool, Options());
  Answer answer;
  splitter->Submit(ImageJob(Noise(150, 120), &answer));
  JobPtr a = pool.Take();
  JobPtr b = pool.Take();
  ASSERT_TRUE(a && b);
  std::thread pool_stops([&] {  // as the broker does on Stop: every held job answered
    JobOutcome gone;
    gone.status = Status::Unavailable("the dispatcher is stopping");
    a->done(gone);
    b->done(gone);
  });
  splitter->Stop();
  pool_stops.join();
  EXPECT_EQ(answer.calls, 1);
  EXPECT_EQ(answer.Wait().status.code(), StatusCode::kUnavailable);
  splitter->Submit(ImageJob(Noise(150, 120), &answer, 11));
  EXPECT_EQ(pool.Take()->id, 11u) << "after Stop every job goes to the pool as it is";
}

}  // namespace
}  // namespace tsdsr::dispatcher
