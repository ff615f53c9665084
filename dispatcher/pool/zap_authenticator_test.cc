#include "dispatcher/pool/zap_authenticator.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/zmq_frames.h"

namespace tsdsr::dispatcher {
namespace {

using std::chrono::milliseconds;

// Waits up to `timeout` for a message on `socket`; its frames, or none.
std::vector<std::string> ReceiveWithin(zmq::socket_t& socket, milliseconds timeout) {
  zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, timeout);
  auto frames = ReceiveFrames(socket);
  return frames.ok() ? *frames : std::vector<std::string>{};
}

// A raw 32-byte key from its Z85 text, as libzmq puts it in a ZAP request.
std::string BinaryKey(const std::string& z85) {
  std::string binary(32, '\0');
  zmq_z85_decode(reinterpret_cast<std::uint8_t*>(binary.data()), z85.c_str());
  return binary;
}

class ZapAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CurveAvailable());
    server_ = *GenerateCurveKeyPair();
    good_ = *GenerateCurveKeyPair();
    stranger_ = *GenerateCurveKeyPair();
    auto zap = ZapAuthenticator::Start(context_, {{good_.public_key, "node-a"}});
    ASSERT_TRUE(zap.ok()) << zap.status().ToString();
    zap_ = std::move(*zap);
  }
  void TearDown() override {
    if (zap_) zap_->Stop();
  }

  // A ZAP request of `mechanism` with `credentials`, sent straight to the handler; its reply frames.
  std::vector<std::string> Ask(const std::vector<std::string>& request) {
    zmq::socket_t req(context_, zmq::socket_type::req);
    ConfigureSocket(req, 0, /*router=*/false);
    req.connect("inproc://zeromq.zap.01");
    EXPECT_TRUE(SendFrames(req, request).ok());
    return ReceiveWithin(req, milliseconds(5000));
  }

  // A CURVE client with `keys` sends "hello" to a CURVE server; true when the server receives it in time.
  bool Delivered(const CurveKeyPair& keys, milliseconds wait) {
    zmq::socket_t server(context_, zmq::socket_type::router);
    ConfigureSocket(server, 0, /*router=*/true);
    server.set(zmq::sockopt::curve_server, 1);
    server.set(zmq::sockopt::curve_secretkey, server_.secret_key);
    server.bind("tcp://127.0.0.1:*");
    zmq::socket_t client(context_, zmq::socket_type::dealer);
    ConfigureSocket(client, 0, /*router=*/false);
    client.set(zmq::sockopt::curve_serverkey, server_.public_key);
    client.set(zmq::sockopt::curve_publickey, keys.public_key);
    client.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    client.connect(server.get(zmq::sockopt::last_endpoint));
    client.send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
    auto frames = ReceiveWithin(server, wait);
    return frames.size() == 2 && frames[1] == "hello";
  }

  zmq::context_t context_;
  CurveKeyPair server_, good_, stranger_;
  std::unique_ptr<ZapAuthenticator> zap_;
};

TEST_F(ZapAuthenticatorTest, AnAuthorizedWorkerGetsThrough) {
  EXPECT_TRUE(Delivered(good_, milliseconds(5000)));
  EXPECT_EQ(zap_->accepted(), 1);
  EXPECT_EQ(zap_->refused(), 0);
}

TEST_F(ZapAuthenticatorTest, AnUnknownWorkerIsRefused) {
  EXPECT_FALSE(Delivered(stranger_, milliseconds(500)));
  EXPECT_GE(zap_->refused(), 1);
  EXPECT_EQ(zap_->accepted(), 0);
}

TEST_F(ZapAuthenticatorTest, RepliesFollowRfc27) {
  auto ok = Ask({"1.0", "7", "tsdsr", "10.0.0.9", "", "CURVE", BinaryKey(good_.public_key)});
  EXPECT_EQ(ok, (std::vector<std::string>{"1.0", "7", "200", "OK", "node-a", ""}));
  auto unknown = Ask({"1.0", "8", "tsdsr", "10.0.0.9", "", "CURVE", BinaryKey(stranger_.public_key)});
  ASSERT_EQ(unknown.size(), 6u);
  EXPECT_EQ(unknown[1], "8");
  EXPECT_EQ(unknown[2], "400");
  auto null_mechanism = Ask({"1.0", "9", "tsdsr", "10.0.0.9", "", "NULL"});
  ASSERT_EQ(null_mechanism.size(), 6u);
  EXPECT_EQ(null_mechanism[2], "400");
  auto short_key = Ask({"1.0", "10", "tsdsr", "10.0.0.9", "", "CURVE", "short"});
  ASSERT_EQ(short_key.size(), 6u);
  EXPECT_EQ(short_key[2], "400");
  auto malformed = Ask({"2.0", "11"});
  ASSERT_EQ(malformed.size(), 6u);
  EXPECT_EQ(malformed[1], "11");
  EXPECT_EQ(malformed[2], "500");
  EXPECT_EQ(zap_->accepted(), 1);
  EXPECT_EQ(zap_->refused(), 4);
}

TEST_F(ZapAuthenticatorTest, OneHandlerPerContext) {
  auto second = ZapAuthenticator::Start(context_, {});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

TEST_F(ZapAuthenticatorTest, StopIsIdempotent) {
  zap_->Stop();
  zap_->Stop();
  zap_.reset();  // and the destructor stops once more
}

}  // namespace
}  // namespace tsdsr::dispatcher
