#include "dispatcher/jobs/admission_queue.h"

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

std::string PopKey(AdmissionQueue& queue) {
  auto entry = queue.Pop();
  return entry ? entry->key : "(empty)";
}

TEST(AdmissionQueueTest, HigherPriorityFirstThenInArrivalOrder) {
  AdmissionQueue queue;
  queue.Push({"early-low", 0, 1, ""});
  queue.Push({"late-low", 0, 5, ""});
  queue.Push({"high", 7, 9, ""});
  queue.Push({"mid", 3, 2, ""});
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_EQ(PopKey(queue), "high");
  EXPECT_EQ(PopKey(queue), "mid");
  EXPECT_EQ(PopKey(queue), "early-low");
  EXPECT_EQ(PopKey(queue), "late-low");
  EXPECT_EQ(PopKey(queue), "(empty)");
  EXPECT_TRUE(queue.empty());
}

TEST(AdmissionQueueTest, PositionCountsTheEntriesAhead) {
  AdmissionQueue queue;
  queue.Push({"a", 0, 1, ""});
  queue.Push({"b", 0, 2, ""});
  queue.Push({"c", 0, 3, ""});
  EXPECT_EQ(queue.Position("a"), 0u);
  EXPECT_EQ(queue.Position("c"), 2u);
  queue.Push({"urgent", 9, 4, ""});
  EXPECT_EQ(queue.Position("a"), 1u);
  EXPECT_EQ(queue.Position("urgent"), 0u);
  EXPECT_EQ(queue.Position("missing"), std::nullopt);
}

TEST(AdmissionQueueTest, FrontLeavesTheEntryInPlace) {
  AdmissionQueue queue;
  EXPECT_FALSE(queue.Front().has_value());
  queue.Push({"b", 1, 2, ""});
  queue.Push({"a", 1, 1, ""});
  EXPECT_EQ(queue.Front()->key, "b") << "one client's entries go in the order they came";
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_TRUE(AdmissionQueue::Before({"x", 2, 9, ""}, {"y", 1, 1, ""})) << "priority first";
  EXPECT_TRUE(AdmissionQueue::Before({"x", 1, 1, ""}, {"y", 1, 2, ""})) << "then age";
  EXPECT_FALSE(AdmissionQueue::Before({"x", 1, 2, ""}, {"y", 1, 2, ""}));
}

TEST(AdmissionQueueTest, ClientsTakeTurnsAndAJobPutBackGoesFirst) {
  AdmissionQueue queue;
  for (int i = 0; i < 4; ++i) queue.Push({"a" + std::to_string(i), 0, i, "busy"});
  queue.Push({"b0", 0, 10, "quiet"});
  EXPECT_EQ(queue.Position("b0"), 1u) << "behind one job of the busy client, not four";
  EXPECT_EQ(queue.DepthByClient(), (std::map<std::string, size_t>{{"busy", 4}, {"quiet", 1}}));
  auto first = queue.Pop();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->client, "busy");
  queue.PushAhead(*first);  // it could not go to the pool after all
  EXPECT_EQ(PopKey(queue), "a0");
  EXPECT_EQ(PopKey(queue), "b0");
  EXPECT_EQ(PopKey(queue), "a1");
}

TEST(AdmissionQueueTest, RemoveAndReplace) {
  AdmissionQueue queue;
  queue.Push({"a", 0, 1, ""});
  queue.Push({"b", 0, 2, ""});
  EXPECT_TRUE(queue.Remove("a"));
  EXPECT_FALSE(queue.Remove("a"));
  EXPECT_EQ(queue.Position("b"), 0u);
  queue.Push({"b", 5, 2, ""});  // the same key again: replaced, not doubled
  EXPECT_EQ(queue.size(), 1u);
  auto entry = queue.Pop();
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->priority, 5);
  EXPECT_EQ(entry->seq, 2);
}

}  // namespace
}  // namespace tsdsr::dispatcher
