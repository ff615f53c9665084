#include "common/task_thread.h"

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

TEST(TaskThreadTest, RunsTasksInOrderOnAnotherThread) {
  TaskThread tasks("test");
  std::vector<int> ran;
  std::promise<std::thread::id> where;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(tasks.Post([&ran, i] { ran.push_back(i); }));
  ASSERT_TRUE(tasks.Post([&where] { where.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(where.get_future().get(), std::this_thread::get_id());
  tasks.Stop();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(TaskThreadTest, StopLetsTheRunningTaskEndAndDropsTheRest) {
  TaskThread tasks("test");
  std::promise<void> started;
  std::atomic<bool> release{false};
  std::atomic<int> finished{0};
  ASSERT_TRUE(tasks.Post([&] {
    started.set_value();
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    finished += 1;
  }));
  ASSERT_TRUE(tasks.Post([&] { finished += 100; }));
  started.get_future().wait();
  EXPECT_EQ(tasks.pending(), 2u);
  std::thread stopper([&] { tasks.Stop(); });
  bool refused = false;  // once Stop has begun; whatever was posted before it is dropped all the same
  for (int i = 0; i < 10000 && !refused; ++i) {
    refused = !tasks.Post([&] { finished += 1000; });
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(refused);
  release = true;
  stopper.join();
  EXPECT_EQ(finished.load(), 1);
  EXPECT_EQ(tasks.pending(), 0u);
}

TEST(TaskThreadTest, ATaskThatThrowsDoesNotStopTheOthers) {
  TaskThread tasks("test");
  std::promise<int> after;
  ASSERT_TRUE(tasks.Post([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(tasks.Post([&] { after.set_value(7); }));
  EXPECT_EQ(after.get_future().get(), 7);
}

}  // namespace
}  // namespace tsdsr
