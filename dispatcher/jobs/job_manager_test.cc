#include "dispatcher/jobs/job_manager.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <future>
#include <map>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "common/testing_scratch_dir.h"
#include "dispatcher/jobs/jobs_testing.h"
#include "dispatcher/jobs/sqlite_job_store.h"
#include "video/frame_decoder.h"
#include "video/segment_encoder.h"
#include "video/testing_clips.h"

namespace tsdsr::dispatcher {
namespace {

using testing::FailedOutcome;
using testing::PngOutcome;
using testing::RecordingSink;
using testing::WaitFor;

JobSpec Spec(int priority = 0) {
  JobSpec spec;
  spec.scale = 2;
  spec.process_size = 64;
  spec.format = "png";
  spec.priority = priority;
  spec.input_width = 8;
  spec.input_height = 6;
  spec.filename = "in.png";
  return spec;
}

// What a worker makes of video chunk `job`: its frames decoded, doubled in size and encoded as one segment.
JobOutcome MakeSegment(const Job& job) {
  const proto::JobHeader& h = job.params.chunk;
  JobOutcome outcome;
  auto demuxer = video::Demuxer::OpenBytes(job.image, "chunk");
  auto decoder = demuxer.ok() ? video::FrameDecoder::Open(**demuxer, 1, video::Rational{h.tb_num, h.tb_den})
                              : Result<std::unique_ptr<video::FrameDecoder>>(demuxer.status());
  if (!decoder.ok()) return FailedOutcome(decoder.status());
  std::unique_ptr<video::SegmentEncoder> encoder;
  Status made = (*decoder)->Decode(h.first_pts, h.last_pts, [&](video::DecodedFrame frame) -> Status {
    if (!encoder) {
      video::SegmentFormat format;
      format.width = frame.bgr.cols * h.scale;
      format.height = frame.bgr.rows * h.scale;
      format.time_base = {h.tb_num, h.tb_den};
      format.frame_rate = {h.rate_num, h.rate_den};
      video::EncodeOptions options;
      options.codec = h.codec;
      options.encoder = h.encoder;
      TSDSR_ASSIGN_OR_RETURN(encoder, video::SegmentEncoder::Create(options, format, ""));
    }
    cv::Mat bigger;
    cv::resize(frame.bgr, bigger, cv::Size(), h.scale, h.scale, cv::INTER_NEAREST);
    return encoder->Add(bigger, frame.pts);
  });
  if (!made.ok() || !encoder) return FailedOutcome(made.ok() ? Status::Internal("no frames") : made);
  outcome.result.frames = encoder->frames();
  auto segment = encoder->Finish();
  if (!segment.ok()) return FailedOutcome(segment.status());
  outcome.image = std::move(*segment);
  outcome.result.content_type = "video/mp4";
  outcome.worker_id = "worker-0";
  return outcome;
}

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { manager_ = StartManager(sink_); }
  void TearDown() override { manager_.reset(); }

  std::unique_ptr<JobManager> StartManager(RecordingSink& sink, JobsOptions options = FastOptions()) {
    auto dir = DataDir::Open(scratch_.File("data"));
    EXPECT_TRUE(dir.ok()) << dir.status().ToString();
    auto store = SqliteJobStore::Open((*dir)->DatabasePath());
    EXPECT_TRUE(store.ok());
    auto manager = JobManager::Start(options, std::move(*dir), std::move(*store), sink, metrics_);
    EXPECT_TRUE(manager.ok()) << manager.status().ToString();
    return manager.ok() ? std::move(*manager) : nullptr;
  }
  static JobsOptions FastOptions() {
    JobsOptions options;
    options.housekeeping_interval = std::chrono::milliseconds(20);
    options.refused_backoff = std::chrono::milliseconds(10);
    return options;
  }
  std::string SubmitOne(std::string input = "input-bytes", std::string key = "", int priority = 0) {
    auto submitted = manager_->Submit(NewJob{Spec(priority), input, std::move(key)});
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    return submitted.ok() ? submitted->view.record.id : "";
  }
  JobState StateOf(const std::string& id) { return manager_->Get(id)->record.state; }
  bool WaitForState(const std::string& id, JobState state) {
    return WaitFor([&] { return StateOf(id) == state; });
  }

  tsdsr::testing::ScratchDir scratch_{"tsdsr-jobs"};
  Metrics metrics_;
  RecordingSink sink_;
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, AnAsyncJobRunsReportsProgressAndKeepsItsOutput) {
  sink_.SetWorkers(1);
  const std::string id = SubmitOne("the upload");
  EXPECT_EQ(StateOf(id), JobState::kQueued);
  JobPtr job = sink_.Take();
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->image, "the upload") << "read back from the data dir";
  EXPECT_EQ(job->params.scale, 2);
  EXPECT_EQ(job->params.process_size, 64);
  EXPECT_EQ(job->deadline, Clock::time_point::max()) << "no timeout_ms: no deadline";
  job->on_started("worker-0");
  ASSERT_TRUE(WaitForState(id, JobState::kRunning));
  job->on_progress(3, 12);
  ASSERT_TRUE(WaitFor([&] { return manager_->Get(id)->done == 3; }));
  EXPECT_EQ(manager_->Get(id)->total, 12);
  job->done(PngOutcome("output-bytes", 16, 12));
  ASSERT_TRUE(WaitForState(id, JobState::kSucceeded));
  JobView view = *manager_->Get(id);
  EXPECT_EQ(view.record.output_width, 16);
  EXPECT_EQ(view.record.attempts, 1);
  EXPECT_EQ(view.record.worker, "worker-0");
  EXPECT_GT(view.record.finished_ms, 0);
  auto output = manager_->ReadOutput(id);
  ASSERT_TRUE(output.ok()) << output.status().ToString();
  EXPECT_EQ(output->bytes, "output-bytes");
  EXPECT_EQ(output->record.result_type, "image/png");
  EXPECT_FALSE(std::filesystem::exists(scratch_.File("data/inputs/" + id))) << "the upload goes with the job";
  ASSERT_TRUE(WaitFor([&] { return manager_->Report().by_state["succeeded"] == 1; }));
  EXPECT_EQ(manager_->Report().result_bytes, 12);
}

TEST_F(JobManagerTest, JobsWaitForAWorkerAndForRoomInThePool) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(SubmitOne("input-" + std::to_string(i)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sink_.submitted(), 0u) << "no worker: the jobs wait, accepted";
  EXPECT_EQ(manager_->Get(ids[0])->position, 0u);
  EXPECT_EQ(manager_->Get(ids[3])->position, 3u);
  sink_.SetWorkers(1, /*slots=*/1);
  ASSERT_TRUE(WaitFor([&] { return sink_.submitted() == 2; })) << "room for 2 jobs per slot, at least 2";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sink_.submitted(), 2u);
  EXPECT_EQ(manager_->Get(ids[2])->position, 0u) << "next in line";
  JobPtr first = sink_.Take();
  EXPECT_EQ(first->image, "input-0") << "oldest first";
  first->done(PngOutcome("x", 1, 1));
  ASSERT_TRUE(WaitFor([&] { return sink_.submitted() == 3; }));
}

TEST_F(JobManagerTest, HigherPriorityJobsGoFirst) {
  SubmitOne("low", "", 0);
  SubmitOne("high", "", 9);
  sink_.SetWorkers(1, 1);
  JobPtr job = sink_.Take();
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->image, "high");
  EXPECT_EQ(job->priority, 9);
}

TEST_F(JobManagerTest, AJobThePoolRefusesWaitsAndIsOfferedAgain) {
  sink_.SetWorkers(1);
  const std::string id = SubmitOne();
  JobPtr job = sink_.Take();
  ASSERT_NE(job, nullptr);
  job->done(FailedOutcome(Status::Unavailable("queue is full (256 jobs)")));
  JobPtr again = sink_.Take();
  ASSERT_NE(again, nullptr) << "offered again after the back-off";
  EXPECT_EQ(StateOf(id), JobState::kQueued) << "never failed for it";
  again->done(PngOutcome("ok", 1, 1));
  EXPECT_TRUE(WaitForState(id, JobState::kSucceeded));
}

TEST_F(JobManagerTest, AFailedJobSaysWhy) {
  sink_.SetWorkers(1);
  const std::string id = SubmitOne();
  sink_.Take()->done(FailedOutcome(Status::InvalidArgument("cannot decode the image")));
  ASSERT_TRUE(WaitForState(id, JobState::kFailed));
  JobView view = *manager_->Get(id);
  EXPECT_EQ(view.record.error, "cannot decode the image");
  EXPECT_EQ(view.record.error_code, "invalid_argument");
  auto output = manager_->ReadOutput(id);
  EXPECT_EQ(output.status().code(), StatusCode::kConflict);
  EXPECT_NE(output.status().message().find("failed: cannot decode the image"), std::string::npos);
}

TEST_F(JobManagerTest, AnIdempotencyKeyReturnsTheFirstJob) {
  const std::string id = SubmitOne("same", "key-1");
  auto again = manager_->Submit(NewJob{Spec(), "same", "key-1"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->view.record.id, id);
  auto different = manager_->Submit(NewJob{Spec(), "other bytes", "key-1"});
  EXPECT_EQ(different.status().code(), StatusCode::kConflict);
  EXPECT_NE(different.status().message().find(id), std::string::npos);
  EXPECT_EQ(manager_->List({std::nullopt, 10, ""})->size(), 1u) << "one job, not three";
}

TEST_F(JobManagerTest, CancellingAQueuedJob) {
  const std::string id = SubmitOne();
  auto cancelled = manager_->Cancel(id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->record.state, JobState::kCancelled);
  EXPECT_EQ(StateOf(id), JobState::kCancelled);
  EXPECT_EQ(manager_->Cancel(id).status().code(), StatusCode::kConflict);
  EXPECT_EQ(manager_->Cancel("00000000000000000000000000000000").status().code(), StatusCode::kNotFound);
  sink_.SetWorkers(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(sink_.submitted(), 0u) << "a cancelled job never reaches the pool";
}

TEST_F(JobManagerTest, CancellingARunningJobStopsItAtItsWorker) {
  sink_.SetWorkers(1);
  const std::string id = SubmitOne();
  JobPtr job = sink_.Take();
  job->on_started("worker-0");
  ASSERT_TRUE(WaitForState(id, JobState::kRunning));
  ASSERT_TRUE(manager_->Cancel(id).ok());
  ASSERT_EQ(sink_.cancels().size(), 1u);
  EXPECT_EQ(sink_.cancels()[0].first, job->id);
  job->done(PngOutcome("too late", 1, 1));  // the worker finished anyway: dropped
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(StateOf(id), JobState::kCancelled);
  EXPECT_EQ(manager_->ReadOutput(id).status().code(), StatusCode::kConflict);
  EXPECT_TRUE(WaitFor([&] { return manager_->Report().in_pool == 0; }));
}

TEST_F(JobManagerTest, ARestartedManagerRunsWhatWasQueuedOrRunning) {
  sink_.SetWorkers(1, 1);
  const std::string running = SubmitOne("first");
  const std::string queued = SubmitOne("second");
  JobPtr job = sink_.Take();
  job->on_started("worker-0");
  ASSERT_TRUE(WaitForState(running, JobState::kRunning));
  manager_.reset();  // the dispatcher went away with the job on its worker
  RecordingSink next_sink;
  next_sink.SetWorkers(1, 1);
  manager_ = StartManager(next_sink);
  EXPECT_EQ(StateOf(running), JobState::kQueued);
  EXPECT_EQ(StateOf(queued), JobState::kQueued);
  JobPtr again = next_sink.Take();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->image, "first") << "in the order they were accepted";
  again->done(PngOutcome("a", 1, 1));
  next_sink.Take()->done(PngOutcome("b", 1, 1));
  EXPECT_TRUE(WaitForState(running, JobState::kSucceeded));
  EXPECT_TRUE(WaitForState(queued, JobState::kSucceeded));
  EXPECT_EQ(manager_->ReadOutput(queued)->bytes, "b");
}

TEST_F(JobManagerTest, TooManyWaitingJobsAreRefused) {
  manager_.reset();
  JobsOptions options = FastOptions();
  options.max_unfinished = 2;
  manager_ = StartManager(sink_, options);
  SubmitOne("a");
  SubmitOne("b");
  auto third = manager_->Submit(NewJob{Spec(), "c", ""});
  EXPECT_EQ(third.status().code(), StatusCode::kUnavailable);
}

TEST_F(JobManagerTest, ATimeoutPassedWhileWaitingFailsTheJob) {
  JobSpec spec = Spec();
  spec.timeout_ms = 30;
  auto submitted = manager_->Submit(NewJob{spec, "late", ""});
  ASSERT_TRUE(submitted.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  sink_.SetWorkers(1);
  const std::string id = submitted->view.record.id;
  ASSERT_TRUE(WaitForState(id, JobState::kFailed));
  EXPECT_EQ(manager_->Get(id)->record.error_code, "deadline_exceeded");
  EXPECT_EQ(sink_.submitted(), 0u);
}

TEST_F(JobManagerTest, ListenersSeeEveryChangeUntilTheEnd) {
  sink_.SetWorkers(1);
  const std::string id = SubmitOne();
  std::mutex mu;
  std::vector<std::string> seen;
  std::uint64_t token = 0;
  auto now = manager_->Subscribe(
      id,
      [&](const JobView* view) {
        std::lock_guard<std::mutex> lock(mu);
        if (view != nullptr)
          seen.push_back(std::string(JobStateName(view->record.state)) + ":" + std::to_string(view->done));
        return true;
      },
      &token);
  ASSERT_TRUE(now.ok());
  EXPECT_NE(token, 0u);
  JobPtr job = sink_.Take();
  job->on_started("worker-0");
  job->on_progress(1, 2);
  job->done(PngOutcome("ok", 1, 1));
  ASSERT_TRUE(WaitForState(id, JobState::kSucceeded));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() == 3;
  }));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"running:0", "running:1", "succeeded:1"}));
  std::uint64_t finished_token = 1;
  EXPECT_TRUE(manager_
                  ->Subscribe(
                      id, [](const JobView*) { return true; }, &finished_token)
                  .ok());
  EXPECT_EQ(finished_token, 0u) << "a finished job has nothing more to say";
}

TEST_F(JobManagerTest, ABatchStoresItsGoodFilesAndReportsEachOne) {
  sink_.SetWorkers(2);
  std::promise<std::vector<BatchFileOutcome>> answered;
  std::vector<BatchFile> files;
  for (int i = 0; i < 3; ++i) files.push_back(BatchFile{Spec(), "file-" + std::to_string(i)});
  manager_->RunBatch(std::move(files),
                     [&](std::vector<BatchFileOutcome> outcomes) { answered.set_value(std::move(outcomes)); });
  std::map<std::string, JobPtr> by_input;
  for (int i = 0; i < 3; ++i) {
    JobPtr job = sink_.Take();
    ASSERT_NE(job, nullptr) << i;
    by_input[job->image] = std::move(job);
  }
  by_input["file-1"]->done(FailedOutcome(Status::ResourceExhausted("out of device memory")));
  by_input["file-0"]->done(PngOutcome("out-0", 2, 2));
  by_input["file-2"]->done(PngOutcome("out-2", 2, 2));
  auto future = answered.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  std::vector<BatchFileOutcome> outcomes = future.get();
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].status.ok());
  EXPECT_EQ(outcomes[1].status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(outcomes[2].status.ok());
  EXPECT_EQ(manager_->ReadOutput(outcomes[2].record.id)->bytes, "out-2") << "downloadable by its id";
  EXPECT_EQ(manager_->Get(outcomes[0].record.id)->record.kind, JobKind::kBatch);
  EXPECT_EQ(manager_->Get(outcomes[1].record.id).status().code(), StatusCode::kNotFound) << "failures are not kept";
}

TEST_F(JobManagerTest, ACancelledBatchStillAnswers) {
  std::promise<std::vector<BatchFileOutcome>> answered;
  const std::uint64_t batch = manager_->RunBatch({BatchFile{Spec(), "a"}, BatchFile{Spec(), "b"}},
                                                 [&](std::vector<BatchFileOutcome> o) { answered.set_value(o); });
  manager_->CancelBatch(batch);
  auto future = answered.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  for (const auto& outcome : future.get()) EXPECT_EQ(outcome.status.code(), StatusCode::kCancelled);
}

// The whole life of a video job in front of the pool: planned into chunks for two workers, each chunk answered with
// its segment, then joined and checked on the finisher's thread while the manager goes on answering.
TEST_F(JobManagerTest, AVideoIsMadeFromItsChunksThenJoinedAndChecked) {
  sink_.SetWorkers(2);
  video::testing::ClipSpec clip;
  clip.frames = 20;
  clip.gop = 5;
  const std::string path = scratch_.File("clip.mp4");
  ASSERT_EQ(video::testing::MakeClip(path, clip), 0);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  JobSpec spec = Spec();
  spec.codec = "h264";
  spec.encoder = "auto";
  spec.format = "mp4";
  auto submitted = manager_->Submit(NewJob{spec, bytes, "", /*video=*/true});
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  const std::string id = submitted->view.record.id;
  EXPECT_EQ(submitted->view.record.spec.encoder, "software") << "auto, with workers that announce no NVENC";
  int chunks = 0;
  while (StateOf(id) != JobState::kSucceeded && chunks < 20) {
    JobPtr job = sink_.Take();
    ASSERT_NE(job, nullptr) << "the manager stopped feeding chunks";
    EXPECT_EQ(job->params.chunk.kind, proto::kVideoChunkJob);
    EXPECT_EQ(job->params.chunk.encoder, "software");
    job->done(MakeSegment(*job));
    ++chunks;
    if (sink_.held() == 0) WaitFor([&] { return sink_.held() > 0 || StateOf(id) == JobState::kSucceeded; });
  }
  EXPECT_GE(chunks, 2) << "cut into chunks for two workers";
  ASSERT_TRUE(WaitForState(id, JobState::kSucceeded)) << manager_->Get(id)->record.error;
  const JobRecord record = manager_->Get(id)->record;
  const nlohmann::json details = nlohmann::json::parse(record.details);
  EXPECT_EQ(details["check"]["ok"], true) << details.dump(2);
  EXPECT_EQ(details["output"]["encoder"], "libx264");
  EXPECT_EQ(record.output_width, 192);
  auto output = manager_->ReadOutput(id);
  ASSERT_TRUE(output.ok()) << output.status().ToString();
  EXPECT_EQ(static_cast<std::int64_t>(output->bytes.size()), record.result_bytes);
}

}  // namespace
}  // namespace tsdsr::dispatcher
