#include "common/memory_budget.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

TEST(MemoryBudgetTest, ReservationsFitUnderTheLimitAndComeBackWhenReleased) {
  auto budget = MemoryBudget::Create(100);
  auto a = budget->TryReserve(60);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(budget->TryReserve(41).has_value());
  EXPECT_EQ(budget->refusals(), 1);
  {
    auto b = budget->TryReserve(40);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(budget->used(), 100);
  }
  EXPECT_EQ(budget->used(), 60) << "released with the lease";
  a->Release();
  EXPECT_EQ(budget->used(), 0);
  EXPECT_EQ(budget->peak(), 100);
  EXPECT_FALSE(budget->TryReserve(101).has_value()) << "more than the whole budget never fits";
}

TEST(MemoryBudgetTest, ForcedBytesCountAndHoldNewWorkBack) {
  auto budget = MemoryBudget::Create(100);
  MemoryBudget::Lease forced = budget->Force(150);
  EXPECT_EQ(budget->used(), 150);
  EXPECT_FALSE(budget->TryReserve(1).has_value());
  MemoryBudget::Lease moved = std::move(forced);
  EXPECT_EQ(forced.bytes(), 0);
  moved = MemoryBudget::Lease();
  EXPECT_EQ(budget->used(), 0);
}

TEST(MemoryBudgetTest, ALeaseGrowsOnlyWithinTheLimit) {
  auto budget = MemoryBudget::Create(10);
  auto lease = budget->TryReserve(0);
  ASSERT_TRUE(lease.has_value());
  EXPECT_TRUE(lease->TryGrow(6));
  EXPECT_FALSE(lease->TryGrow(5));
  EXPECT_EQ(lease->bytes(), 6);
  MemoryBudget::Lease empty;
  EXPECT_FALSE(empty.TryGrow(1));
}

TEST(MemoryBudgetTest, NoLimitCountsEverythingAndRefusesNothing) {
  auto budget = MemoryBudget::Create(0);
  auto lease = budget->TryReserve(std::int64_t{1} << 40);
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(budget->used(), std::int64_t{1} << 40);
}

TEST(MemoryBudgetTest, ConcurrentHoldersNeverExceedTheLimit) {
  auto budget = MemoryBudget::Create(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto lease = budget->TryReserve(300);
        if (lease) {
          EXPECT_LE(budget->used(), 1000);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(budget->used(), 0);
  EXPECT_LE(budget->peak(), 1000);
}

TEST(MemoryBudgetTest, TheDefaultIsAQuarterOfTheMachineAndAtLeast256MiB) {
  EXPECT_GE(DefaultMemoryBudgetBytes(), std::int64_t{256} << 20);
}

TEST(MemoryBudgetTest, AWorkerJobHoldsItsPayloadInputAndOutput) {
  const std::int64_t hd = WorkerJobBytes(1 << 20, 1920, 1080, 2);
  EXPECT_GT(hd, std::int64_t{1920} * 1080 * 4 * 15) << "the output as floats alone";
  EXPECT_LT(hd, std::int64_t{1920} * 1080 * 100);
  EXPECT_GT(WorkerJobBytes(0, 1920, 1080, 4), hd) << "a larger scale holds more";
  EXPECT_EQ(WorkerJobBytes(100, 0, 0, 2) - WorkerJobBytes(0, 0, 0, 2), 100);
}

}  // namespace
}  // namespace tsdsr
