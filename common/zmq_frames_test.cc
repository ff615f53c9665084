#include "common/zmq_frames.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace tsdsr {
namespace {

// Polls until a message is waiting or a second has passed.
Result<std::vector<std::string>> ReceiveWithin(zmq::socket_t& socket) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(1000));
  return ReceiveFrames(socket);
}

TEST(ZmqFramesTest, MessagesCrossRouterDealerWithIdentity) {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  ConfigureSocket(router, 0, /*router=*/true);
  router.bind("inproc://frames");
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  ConfigureSocket(dealer, 0, /*router=*/false);
  dealer.set(zmq::sockopt::routing_id, "worker-a");
  dealer.connect("inproc://frames");

  proto::Message hello = proto::Make(proto::Command::kHeartbeat, proto::WorkerLiveStats{}, {"payload"});
  ASSERT_TRUE(SendMessage(dealer, "", hello).ok());
  auto frames = ReceiveWithin(router);
  ASSERT_TRUE(frames.ok()) << frames.status().ToString();
  ASSERT_EQ(frames->size(), 5u);
  EXPECT_EQ((*frames)[0], "worker-a");
  auto message = proto::Decode({frames->begin() + 1, frames->end()});
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->payload.at(0), "payload");

  ASSERT_TRUE(SendMessage(router, "worker-a", proto::Make(proto::Command::kCancel, proto::CancelHeader{7})).ok());
  auto back = ReceiveWithin(dealer);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 3u);
}

TEST(ZmqFramesTest, SendingToUnknownPeerIsAnErrorNotASilentDrop) {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  ConfigureSocket(router, 0, /*router=*/true);
  router.bind("inproc://nobody");
  Status s = SendMessage(router, "ghost", proto::Make(proto::Command::kHeartbeat, proto::WorkerLiveStats{}));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(ZmqFramesTest, ReceiveWithNothingWaitingIsUnavailable) {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.bind("inproc://empty");
  EXPECT_EQ(ReceiveFrames(router).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tsdsr
