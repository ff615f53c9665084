#include "dispatcher/http/http_request_head.h"

#include <string>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

RequestHead Parse(const std::string& head) {
  auto parsed = ParseRequestHead(head);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : RequestHead{};
}

TEST(FindRequestHeadEndTest, CrlfAndBareLf) {
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(FindRequestHeadEnd(head), head.size());
  EXPECT_EQ(FindRequestHeadEnd(head + "body"), head.size());
  EXPECT_EQ(FindRequestHeadEnd("GET / HTTP/1.1\nHost: x\n\nbody"), 24u);
  EXPECT_EQ(FindRequestHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n"), std::string::npos);
  EXPECT_EQ(FindRequestHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r"), std::string::npos);
  // Searching on from where the previous, incomplete, look stopped.
  EXPECT_EQ(FindRequestHeadEnd(head, head.size() - 4), head.size());
}

TEST(ParseRequestHeadTest, Http11KeepsAliveUnlessClosed) {
  RequestHead head = Parse("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(head.http11);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_FALSE(head.chunked);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nconnection: Upgrade, close\r\n\r\n").keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n").keep_alive);
}

TEST(ParseRequestHeadTest, Http10ClosesUnlessKeepAlive) {
  RequestHead head = Parse("GET / HTTP/1.0\r\n\r\n");
  EXPECT_FALSE(head.http11);
  EXPECT_FALSE(head.keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").keep_alive);
  // RFC 9110 §10.1.1: a 100-continue expectation from an HTTP/1.0 client is ignored.
  EXPECT_FALSE(Parse("POST / HTTP/1.0\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n").expect_continue);
}

TEST(ParseRequestHeadTest, Framing) {
  RequestHead head = Parse("POST /upscale HTTP/1.1\r\ncontent-length:  2097152 \r\nEXPECT: 100-Continue\r\n\r\n");
  EXPECT_EQ(head.content_length, 2097152u);
  EXPECT_TRUE(head.expect_continue);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").content_length, 5u);
  EXPECT_TRUE(Parse("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n").chunked);
  EXPECT_EQ(Parse("POST / HTTP/1.1\nContent-Length: 12\n\n").content_length, 12u);  // bare LF
}

TEST(ParseRequestHeadTest, Rejections) {
  const std::pair<const char*, const char*> cases[] = {
      {"GARBAGE\r\n\r\n", "malformed request line \"GARBAGE\""},
      {"GET /\r\n\r\n", "malformed request line"},
      {"GET / HTTP/2.0\r\n\r\n", "unsupported HTTP version \"HTTP/2.0\""},
      {"GET / HTTP/1.1\r\nno colon here\r\n\r\n", "malformed header line \"no colon here\""},
      {"POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", "invalid Content-Length \"12abc\""},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "invalid Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", "invalid Content-Length"},
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting Content-Length"},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "not supported"},
      {"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "both Content-Length"},
  };
  for (const auto& [head, message] : cases) {
    auto parsed = ParseRequestHead(head);
    ASSERT_FALSE(parsed.ok()) << head;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(message), std::string::npos) << parsed.status().message();
  }
}

TEST(RequestHeadTest, WithoutBodyFramingDropsOnlyTheBodysHeaders) {
  const std::string head =
      "POST /upscale?x=1 HTTP/1.1\r\nHost: h\r\ncontent-length: 12\r\nX-Content-Length-Note: kept\r\n"
      "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\nContent-Type: image/png\r\n\r\n";
  EXPECT_EQ(WithoutBodyFraming(head),
            "POST /upscale?x=1 HTTP/1.1\r\nHost: h\r\nX-Content-Length-Note: kept\r\nContent-Type: image/png\r\n\r\n");
  EXPECT_EQ(WithoutBodyFraming("GET / HTTP/1.1\n\n"), "GET / HTTP/1.1\n\n");
}

}  // namespace
}  // namespace tsdsr::dispatcher
