#include "dispatcher/pool/scheduler.h"

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

using std::chrono::milliseconds;

class SchedulerTest : public ::testing::Test {
 protected:
  JobPtr MakeJob(std::uint64_t id) {
    auto job = std::make_unique<Job>();
    job->id = id;
    job->submitted = now_ + milliseconds(id);  // later ids were submitted later
    return job;
  }

  void AddWorker(const std::string& id, int slots, const std::string& status = "ok",
                 std::vector<std::string> encoders = {}) {
    proto::WorkerDescription d;
    d.id = id;
    d.slots = slots;
    d.status = status;
    d.encoders = std::move(encoders);
    EXPECT_TRUE(scheduler_.RegisterWorker(id, d, now_).empty());
  }

  // A video chunk made with `encoder` (software or nvenc) for HEVC.
  JobPtr Chunk(std::uint64_t id, const std::string& encoder) {
    JobPtr job = MakeJob(id);
    job->params.chunk.kind = std::string(proto::kVideoChunkJob);
    job->params.chunk.codec = "hevc";
    job->params.chunk.encoder = encoder;
    return job;
  }

  // Runs Next until nothing is placed; the ids in the order they went out, each completed at once.
  std::vector<std::uint64_t> DrainOneAtATime() {
    std::vector<std::uint64_t> ids;
    while (auto a = scheduler_.Next(now_)) {
      ids.push_back(a->job->id);
      scheduler_.Complete(a->worker->identity, a->job->id);
    }
    return ids;
  }

  void Submit(std::uint64_t id) {
    JobPtr job = MakeJob(id);
    ASSERT_TRUE(scheduler_.Enqueue(job));
  }

  Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
  Scheduler scheduler_{SchedulerOptions{/*max_queue=*/4, /*max_attempts=*/2}};
};

TEST_F(SchedulerTest, QueueRefusesOverCapacityAndLeavesJobWithCaller) {
  for (std::uint64_t i = 1; i <= 4; ++i) Submit(i);
  JobPtr extra = MakeJob(5);
  EXPECT_FALSE(scheduler_.Enqueue(extra));
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(scheduler_.queue_depth(), 4u);
}

TEST_F(SchedulerTest, NoAssignmentWithoutUsableWorker) {
  Submit(1);
  EXPECT_FALSE(scheduler_.Next(now_).has_value());
  AddWorker("broken", 2, "error");
  EXPECT_FALSE(scheduler_.HasUsableWorker());
  EXPECT_FALSE(scheduler_.Next(now_).has_value());
}

TEST_F(SchedulerTest, MostFreeSlotsThenLeastRecentlyUsed) {
  AddWorker("a", 2);
  AddWorker("b", 2);
  for (std::uint64_t i = 1; i <= 4; ++i) Submit(i);
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    now_ += milliseconds(1);
    auto a = scheduler_.Next(now_);
    ASSERT_TRUE(a.has_value());
    order.push_back(a->worker->identity);
  }
  // Alternates: after one job each worker has one free slot, and the least recently used goes first.
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "a", "b"}));
  Submit(5);
  EXPECT_FALSE(scheduler_.Next(now_).has_value()) << "all slots are taken";
  ASSERT_NE(scheduler_.Complete("b", 2), nullptr);
  auto next = scheduler_.Next(now_);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->worker->identity, "b");
  EXPECT_EQ(next->job->id, 5u);
}

TEST_F(SchedulerTest, CompleteUnknownJobOrWorkerIsNull) {
  AddWorker("a", 2);
  Submit(1);
  ASSERT_TRUE(scheduler_.Next(now_).has_value());
  EXPECT_EQ(scheduler_.Complete("a", 99), nullptr);
  EXPECT_EQ(scheduler_.Complete("z", 1), nullptr);
  EXPECT_NE(scheduler_.Complete("a", 1), nullptr);
  EXPECT_EQ(scheduler_.Complete("a", 1), nullptr) << "a job completes once";
}

TEST_F(SchedulerTest, LostWorkerJobsGoBackToTheHeadInOrderUntilOutOfAttempts) {
  AddWorker("a", 2);
  Submit(1);
  Submit(2);
  Submit(3);
  ASSERT_TRUE(scheduler_.Next(now_).has_value());
  ASSERT_TRUE(scheduler_.Next(now_).has_value());
  EXPECT_TRUE(scheduler_.RemoveWorker("a").empty());
  EXPECT_EQ(scheduler_.queue_depth(), 3u);
  AddWorker("b", 3);
  std::vector<std::uint64_t> ids;
  while (auto a = scheduler_.Next(now_)) ids.push_back(a->job->id);
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{1, 2, 3}));
  // Second loss: jobs 1 and 2 have used both attempts and come back failed; job 3 is requeued.
  auto failed = scheduler_.RemoveWorker("b");
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(scheduler_.queue_depth(), 1u);
}

TEST_F(SchedulerTest, ReadyFromKnownIdentityReclaimsItsJobs) {
  AddWorker("a", 2);
  Submit(1);
  ASSERT_TRUE(scheduler_.Next(now_).has_value());
  proto::WorkerDescription d;
  d.id = "a";
  d.slots = 2;
  EXPECT_TRUE(scheduler_.RegisterWorker("a", d, now_).empty());
  EXPECT_EQ(scheduler_.in_flight(), 0u);
  EXPECT_EQ(scheduler_.queue_depth(), 1u);
}

TEST_F(SchedulerTest, SilentWorkersAndExpiredJobs) {
  AddWorker("a", 1);
  AddWorker("b", 1);
  now_ += milliseconds(2500);
  ASSERT_TRUE(scheduler_.Touch("b", now_));
  EXPECT_FALSE(scheduler_.Touch("nobody", now_));
  EXPECT_EQ(scheduler_.SilentWorkers(now_, milliseconds(3000)).size(), 0u);
  now_ += milliseconds(1000);
  EXPECT_EQ(scheduler_.SilentWorkers(now_, milliseconds(3000)), (std::vector<std::string>{"a"}));

  JobPtr soon = MakeJob(10);
  soon->deadline = now_ + milliseconds(5);
  ASSERT_TRUE(scheduler_.Enqueue(soon));
  Submit(11);
  EXPECT_TRUE(scheduler_.TakeExpired(now_).empty());
  auto expired = scheduler_.TakeExpired(now_ + milliseconds(5));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].job->id, 10u);
  EXPECT_EQ(expired[0].worker, "");
  EXPECT_EQ(scheduler_.queue_depth(), 1u);

  // In flight: expiry frees the worker's slot and names the worker to cancel at.
  scheduler_.TakeAllQueued();
  JobPtr held = MakeJob(12);
  held->deadline = now_ + milliseconds(50);
  ASSERT_TRUE(scheduler_.Enqueue(held));
  auto assignment = scheduler_.Next(now_);
  ASSERT_TRUE(assignment.has_value());
  auto expired_in_flight = scheduler_.TakeExpired(now_ + milliseconds(50));
  ASSERT_EQ(expired_in_flight.size(), 1u);
  EXPECT_EQ(expired_in_flight[0].worker, assignment->worker->identity);
  EXPECT_EQ(scheduler_.in_flight(), 0u);
}

TEST_F(SchedulerTest, HigherPriorityFirstFifoWithinALevel) {
  Scheduler scheduler(SchedulerOptions{/*max_queue=*/10, /*max_attempts=*/2});
  const std::pair<std::uint64_t, int> jobs[] = {{1, 0}, {2, 5}, {3, 0}, {4, 9}, {5, 5}};
  for (auto [id, priority] : jobs) {
    JobPtr job = MakeJob(id);
    job->priority = priority;
    ASSERT_TRUE(scheduler.Enqueue(job));
  }
  proto::WorkerDescription d;
  d.slots = 10;
  scheduler.RegisterWorker("w", d, now_);
  std::vector<std::uint64_t> order;
  while (auto a = scheduler.Next(now_)) order.push_back(a->job->id);
  EXPECT_EQ(order, (std::vector<std::uint64_t>{4, 2, 5, 1, 3}));
  EXPECT_EQ(scheduler.TotalSlots(), 10);
}

TEST_F(SchedulerTest, RequeuedJobsGoToTheHeadOfTheirOwnLevel) {
  Scheduler scheduler(SchedulerOptions{10, 3});
  proto::WorkerDescription d;
  d.slots = 1;
  scheduler.RegisterWorker("w", d, now_);
  JobPtr low = MakeJob(1);
  ASSERT_TRUE(scheduler.Enqueue(low));
  ASSERT_EQ(scheduler.Next(now_)->job->id, 1u);
  JobPtr high = MakeJob(2);
  high->priority = 9;
  JobPtr other_low = MakeJob(3);
  ASSERT_TRUE(scheduler.Enqueue(high));
  ASSERT_TRUE(scheduler.Enqueue(other_low));
  scheduler.RemoveWorker("w");  // job 1 returns ahead of job 3, behind the higher level
  d.slots = 3;
  scheduler.RegisterWorker("v", d, now_);
  std::vector<std::uint64_t> order;
  while (auto a = scheduler.Next(now_)) order.push_back(a->job->id);
  EXPECT_EQ(order, (std::vector<std::uint64_t>{2, 1, 3}));
}

TEST_F(SchedulerTest, TakeQueuedAndInFlightForCancellation) {
  AddWorker("a", 1);
  Submit(1);
  Submit(2);
  ASSERT_TRUE(scheduler_.Next(now_).has_value());  // job 1 goes to "a"
  EXPECT_EQ(scheduler_.TakeQueued(1), nullptr) << "in flight, not queued";
  JobPtr queued = scheduler_.TakeQueued(2);
  ASSERT_NE(queued, nullptr);
  EXPECT_EQ(scheduler_.queue_depth(), 0u);
  auto [held, worker] = scheduler_.TakeInFlight(1);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(worker, "a");
  EXPECT_EQ(scheduler_.in_flight(), 0u);
  EXPECT_EQ(scheduler_.TakeInFlight(1).first, nullptr);
}

TEST_F(SchedulerTest, NextDeadlineCoversQueuedAndInFlightJobs) {
  EXPECT_EQ(scheduler_.NextDeadline(), Clock::time_point::max());
  AddWorker("a", 1);
  JobPtr first = MakeJob(1);
  first->deadline = now_ + milliseconds(300);
  ASSERT_TRUE(scheduler_.Enqueue(first));
  ASSERT_TRUE(scheduler_.Next(now_).has_value());
  JobPtr second = MakeJob(2);
  second->deadline = now_ + milliseconds(500);
  ASSERT_TRUE(scheduler_.Enqueue(second));
  EXPECT_EQ(scheduler_.NextDeadline(), now_ + milliseconds(300));
}

TEST_F(SchedulerTest, VideoChunksGoOnlyToWorkersWithTheirEncoderAndDoNotBlockOthers) {
  AddWorker("cpu", 1, "ok", {"libx264", "libx265", "libsvtav1"});
  JobPtr nvenc = Chunk(1, "nvenc");
  EXPECT_FALSE(scheduler_.CanEverServe(*nvenc));
  ASSERT_TRUE(scheduler_.Enqueue(nvenc));
  JobPtr software = Chunk(2, "software");
  EXPECT_TRUE(scheduler_.CanEverServe(*software));
  ASSERT_TRUE(scheduler_.Enqueue(software));
  auto first = scheduler_.Next(now_);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->job->id, 2u) << "the NVENC chunk ahead of it waits without holding the queue";
  EXPECT_FALSE(scheduler_.Next(now_).has_value());

  AddWorker("gpu", 1, "ok", {"libx265", "hevc_nvenc"});
  auto second = scheduler_.Next(now_);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->job->id, 1u);
  EXPECT_EQ(second->worker->identity, "gpu");
}

TEST_F(SchedulerTest, AChunkOfALostWorkerIsRetriedOnlyWhereItsEncoderIs) {
  AddWorker("gpu-a", 1, "ok", {"hevc_nvenc"});
  AddWorker("cpu", 2, "ok", {"libx265"});
  JobPtr chunk = Chunk(1, "nvenc");
  ASSERT_TRUE(scheduler_.Enqueue(chunk));
  auto placed = scheduler_.Next(now_);
  ASSERT_TRUE(placed.has_value());
  EXPECT_EQ(placed->worker->identity, "gpu-a");
  EXPECT_TRUE(scheduler_.RemoveWorker("gpu-a").empty());
  EXPECT_FALSE(scheduler_.Next(now_).has_value()) << "the CPU worker cannot make it";
  AddWorker("gpu-b", 1, "ok", {"h264_nvenc", "hevc_nvenc"});
  auto retried = scheduler_.Next(now_);
  ASSERT_TRUE(retried.has_value());
  EXPECT_EQ(retried->worker->identity, "gpu-b");
  EXPECT_EQ(retried->job->attempts, 2);
}

TEST_F(SchedulerTest, WorkersThatAnnounceNoEncodersHaveTheSoftwareOnes) {
  AddWorker("old", 1);
  EXPECT_TRUE(scheduler_.CanEverServe(*Chunk(1, "software")));
  EXPECT_FALSE(scheduler_.CanEverServe(*Chunk(2, "nvenc")));
  EXPECT_FALSE(scheduler_.CanEverServe(*Chunk(3, "vaapi")));
  EXPECT_TRUE(scheduler_.CanEverServe(*MakeJob(4))) << "images need no encoder";
}

TEST_F(SchedulerTest, ClientsTakeTurnsWithinAPriority) {
  Scheduler scheduler{SchedulerOptions{/*max_queue=*/100, /*max_attempts=*/2}};
  std::swap(scheduler_, scheduler);
  for (std::uint64_t id = 1; id <= 6; ++id) {
    JobPtr job = MakeJob(id);
    job->client = "a";
    ASSERT_TRUE(scheduler_.Enqueue(job));
  }
  JobPtr b = MakeJob(7);
  b->client = "b";
  ASSERT_TRUE(scheduler_.Enqueue(b));
  JobPtr urgent = MakeJob(8);
  urgent->client = "a";
  urgent->priority = 5;
  ASSERT_TRUE(scheduler_.Enqueue(urgent));
  JobPtr stored = MakeJob(9);
  stored->client = "b";
  stored->stored = true;
  ASSERT_TRUE(scheduler_.Enqueue(stored));
  EXPECT_EQ(scheduler_.QueueDepthByClient(), (std::map<std::string, size_t>{{"a", 7}, {"b", 1}}))
      << "a stored job is counted by the job manager";
  AddWorker("w", 1);
  EXPECT_EQ(DrainOneAtATime(), (std::vector<std::uint64_t>{8, 1, 7, 2, 9, 3, 4, 5, 6}));
}

TEST_F(SchedulerTest, AWorkerIsGivenNoMoreThanItsMemoryBudgetHolds) {
  proto::WorkerDescription d;
  d.id = "small";
  d.slots = 2;
  d.memory_budget = 100;
  ASSERT_TRUE(scheduler_.RegisterWorker("small", d, now_).empty());
  for (std::uint64_t id = 1; id <= 2; ++id) {
    JobPtr job = MakeJob(id);
    job->worker_bytes = 60;
    ASSERT_TRUE(scheduler_.CheckServable(*job).ok());
    ASSERT_TRUE(scheduler_.Enqueue(job));
  }
  auto first = scheduler_.Next(now_);
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(scheduler_.Next(now_).has_value()) << "a free slot, but 60 + 60 bytes do not fit in 100";
  scheduler_.Complete("small", first->job->id);
  EXPECT_TRUE(scheduler_.Next(now_).has_value());

  JobPtr huge = MakeJob(3);
  huge->worker_bytes = std::int64_t{300} << 20;
  d.memory_budget = std::int64_t{200} << 20;
  EXPECT_TRUE(scheduler_.RegisterWorker("small", d, now_).empty()) << "job 2 is queued again";
  Status refused = scheduler_.CheckServable(*huge);
  EXPECT_EQ(refused.code(), StatusCode::kTooLarge);
  EXPECT_NE(refused.message().find("200 MiB"), std::string::npos) << refused.message();
  AddWorker("unbounded", 1);
  EXPECT_TRUE(scheduler_.CheckServable(*huge).ok()) << "a worker without a budget takes anything";
}

TEST_F(SchedulerTest, WorkerBytesComeFromThePayloadAndTheSizes) {
  JobPtr job = MakeJob(1);
  job->image = std::string(1000, 'x');
  job->params.input_width = 100;
  job->params.input_height = 50;
  job->params.scale = 2;
  EXPECT_EQ(WorkerBytesOf(*job), WorkerJobBytes(1000, 100, 50, 2));
  AddWorker("w", 1);
  ASSERT_TRUE(scheduler_.Enqueue(job));
  auto placed = scheduler_.Next(now_);
  ASSERT_TRUE(placed.has_value());
  EXPECT_EQ(placed->job->worker_bytes, WorkerJobBytes(1000, 100, 50, 2)) << "set when queued";
}

}  // namespace
}  // namespace tsdsr::dispatcher
