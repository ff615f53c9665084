#include "dispatcher/http/chunked_body.h"

#include <vector>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

// Feeds `wire` in pieces of `step` bytes; the body, or the first error.
Result<std::string> Decode(std::string_view wire, size_t step, size_t* consumed = nullptr) {
  ChunkedBody chunked;
  std::string body;
  size_t total = 0;
  while (total < wire.size() && !chunked.done()) {
    const std::string_view piece = wire.substr(total, step);
    TSDSR_ASSIGN_OR_RETURN(size_t used, chunked.Feed(piece, &body));
    total += used;
    if (used < piece.size() && !chunked.done()) return Status::Internal("stopped early");
  }
  if (!chunked.done()) return Status::Internal("not done");
  if (consumed) *consumed = total;
  return body;
}

TEST(ChunkedBodyTest, DecodesWholeAndInEveryPieceSize) {
  const std::string wire = "5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
  for (size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    size_t consumed = 0;
    auto body = Decode(wire, step, &consumed);
    ASSERT_TRUE(body.ok()) << step << ": " << body.status().ToString();
    EXPECT_EQ(*body, "hello 0123456789");
    EXPECT_EQ(wire.substr(consumed), "NEXT") << "the next request is left alone";
  }
}

TEST(ChunkedBodyTest, BareLineFeedsAndAnEmptyBody) {
  auto body = Decode("3\nabc\n0\n\n", 4);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "abc");
  body = Decode("0\r\n\r\n", 1);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "");
}

TEST(ChunkedBodyTest, MalformedBodiesAreRefused) {
  for (const std::string& wire : std::vector<std::string>{"zz\r\n", "\r\n", "3\r\nabcd\r\n0\r\n\r\n", "1234567890abcdef0\r\n",
                           std::string(9000, '1'), "0\r\n" + std::string(9000, 'x') + "\r\n"}) {
    auto body = Decode(wire, 5);
    ASSERT_FALSE(body.ok()) << wire.substr(0, 20);
    EXPECT_EQ(body.status().code(), StatusCode::kInvalidArgument) << wire.substr(0, 20);
  }
}

}  // namespace
}  // namespace tsdsr::dispatcher
