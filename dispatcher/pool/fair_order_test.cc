#include "dispatcher/pool/fair_order.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tsdsr::dispatcher {
namespace {

using Order = FairOrder<std::string>;

std::vector<std::string> PopAll(Order& order) {
  std::vector<std::string> keys;
  while (auto entry = order.Pop()) keys.push_back(entry->key);
  return keys;
}

TEST(FairOrderTest, OneClientIsFirstInFirstOut) {
  Order order;
  for (int i = 0; i < 4; ++i) order.Push({"k" + std::to_string(i), "", 0, i});
  EXPECT_EQ(PopAll(order), (std::vector<std::string>{"k0", "k1", "k2", "k3"}));
}

TEST(FairOrderTest, ClientsTakeTurnsAndPriorityComesFirst) {
  Order order;
  std::int64_t seq = 0;
  for (int i = 0; i < 3; ++i) order.Push({"a" + std::to_string(i), "a", 0, ++seq});
  order.Push({"b0", "b", 0, ++seq});
  order.Push({"b1", "b", 0, ++seq});
  order.Push({"c0", "c", 0, ++seq});
  order.Push({"high", "a", 3, ++seq});
  EXPECT_EQ(PopAll(order), (std::vector<std::string>{"high", "a0", "b0", "c0", "a1", "b1", "a2"}));
}

TEST(FairOrderTest, AClientArrivingLateWaitsAboutOneTurnBehindABacklog) {
  Order order;
  for (int i = 0; i < 1000; ++i) order.Push({"a" + std::to_string(i), "a", 0, i});
  for (int i = 0; i < 10; ++i) order.Pop();
  order.Push({"b", "b", 0, 5000});
  EXPECT_LE(*order.Position("b"), 1u);
  EXPECT_EQ(order.Pop()->key, "a10");
  EXPECT_EQ(order.Pop()->key, "b");
}

TEST(FairOrderTest, PushAheadGoesBeforeEverythingOfItsPriorityInPushOrderReversed) {
  Order order;
  order.Push({"a0", "a", 0, 1});
  order.Push({"b0", "b", 0, 2});
  order.PushAhead({"lost-new", "a", 0, 3});
  order.PushAhead({"lost-old", "b", 0, 4});
  order.Push({"urgent", "c", 1, 5});
  EXPECT_EQ(PopAll(order), (std::vector<std::string>{"urgent", "lost-old", "lost-new", "a0", "b0"}));
}

TEST(FairOrderTest, RemoveTakeAndReplaceKeepTheCounts) {
  Order order;
  order.Push({"x", "a", 0, 1});
  order.Push({"y", "a", 0, 2});
  order.Push({"z", "b", 0, 3});
  EXPECT_EQ(order.DepthByClient(), (std::map<std::string, size_t>{{"a", 2}, {"b", 1}}));
  EXPECT_EQ(*order.Position("z"), 1u);
  EXPECT_TRUE(order.Remove("x"));
  EXPECT_FALSE(order.Remove("x"));
  EXPECT_FALSE(order.Position("x").has_value());
  order.Push({"y", "b", 0, 4});  // replaced: now b's
  EXPECT_EQ(order.DepthByClient(), (std::map<std::string, size_t>{{"b", 2}}));
  auto taken = order.TakeFirst([](const std::string& key) { return key == "y"; });
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->client, "b");
  EXPECT_FALSE(order.TakeFirst([](const std::string&) { return false; }).has_value());
  EXPECT_EQ(order.size(), 1u);
  EXPECT_EQ(PopAll(order), (std::vector<std::string>{"z"}));
  EXPECT_TRUE(order.DepthByClient().empty());
}

}  // namespace
}  // namespace tsdsr::dispatcher
