#include "dispatcher/http/multipart.h"

#include <string>

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

using std::string_literals::operator""s;

TEST(MultipartBoundaryTest, Unquoted) {
  auto boundary = MultipartBoundary("multipart/form-data; boundary=------------------------8bbb3ed3ebe61f28");
  ASSERT_TRUE(boundary.ok()) << boundary.status().ToString();
  EXPECT_EQ(*boundary, "------------------------8bbb3ed3ebe61f28");
}

TEST(MultipartBoundaryTest, QuotedWithOtherParametersAndCase) {
  auto boundary = MultipartBoundary("Multipart/Form-Data ; charset=utf-8; BOUNDARY=\"a b:c=d\" ;");
  ASSERT_TRUE(boundary.ok()) << boundary.status().ToString();
  EXPECT_EQ(*boundary, "a b:c=d");
}

TEST(MultipartBoundaryTest, Rejections) {
  struct Case {
    const char* header;
    const char* message_part;
  };
  const Case cases[] = {
      {"image/png", "must be multipart/form-data"},
      {"multipart/mixed; boundary=x", "must be multipart/form-data"},
      {"multipart/form-data", "no boundary"},
      {"multipart/form-data; charset=utf-8", "no boundary"},
      {"multipart/form-data; boundary=\"\"", "no boundary"},
      {"multipart/form-data; boundary=\"abc", "not closed"},
      {"multipart/form-data; boundary", "has no value"},
      {"multipart/form-data; boundary=a{b}", "does not allow"},
      {"multipart/form-data; boundary=\"ab \"", "end with a space"},
  };
  for (const auto& c : cases) {
    auto boundary = MultipartBoundary(c.header);
    ASSERT_FALSE(boundary.ok()) << c.header;
    EXPECT_EQ(boundary.status().code(), StatusCode::kInvalidArgument) << c.header;
    EXPECT_NE(boundary.status().message().find(c.message_part), std::string::npos)
        << c.header << " -> " << boundary.status().message();
  }
  EXPECT_TRUE(MultipartBoundary("multipart/form-data; boundary=" + std::string(70, 'x')).ok());
  auto too_long = MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("71 characters"), std::string::npos);
}

// Exactly what `curl -F file=@x.png` (curl 7.88) sends after the request headers.
TEST(ParseMultipartTest, CurlFileUpload) {
  const std::string png = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"s;
  const std::string body =
      "--------------------------8bbb3ed3ebe61f28\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
      "Content-Type: image/png\r\n"
      "\r\n" +
      png + "\r\n--------------------------8bbb3ed3ebe61f28--\r\n";
  ASSERT_EQ(body.size(), 198u);  // curl's Content-Length for this upload
  auto boundary = MultipartBoundary("multipart/form-data; boundary=------------------------8bbb3ed3ebe61f28");
  ASSERT_TRUE(boundary.ok());
  auto parts = ParseMultipart(body, *boundary);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  const MultipartPart& part = (*parts)[0];
  EXPECT_EQ(part.name, "file");
  EXPECT_EQ(part.filename, "x.png");
  EXPECT_EQ(part.content_type, "image/png");
  EXPECT_EQ(part.body, png);
  // Zero copy: the body points into the caller's buffer.
  EXPECT_GE(part.body.data(), body.data());
  EXPECT_LE(part.body.data() + part.body.size(), body.data() + body.size());
}

TEST(ParseMultipartTest, SeveralFilesFieldsPreambleAndEpilogue) {
  const std::string body =
      "This is the preamble.\r\n--XyZ\r\n"
      "content-disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n"
      "CONTENT-TYPE:   image/png  \r\n\r\n"
      "AAAA\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"files\"; filename=\"b.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n"
      "BBBBBB\r\n--XyZ   \r\n"  // transport padding after the boundary
      "Content-Disposition: form-data; name=upscale\r\n\r\n"
      "4\r\n--XyZ--\r\nThis is the epilogue. --XyZ\r\n";
  auto parts = ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "files");
  EXPECT_EQ((*parts)[0].filename, "a.png");
  EXPECT_EQ((*parts)[0].content_type, "image/png");
  EXPECT_EQ((*parts)[0].body, "AAAA");
  EXPECT_EQ((*parts)[1].filename, "b.jpg");
  EXPECT_EQ((*parts)[1].body, "BBBBBB");
  EXPECT_EQ((*parts)[2].name, "upscale");
  EXPECT_EQ((*parts)[2].filename, "");
  EXPECT_EQ((*parts)[2].content_type, "");
  EXPECT_EQ((*parts)[2].body, "4");
}

TEST(ParseMultipartTest, QuotedParameters) {
  const std::string body =
      "--b\r\n"
      "Content-Disposition: form-data; name=\"we;ird \\\"name\\\"\"; filename=\"C:\\dir\\x;y.png\"\r\n\r\n"
      "1\r\n--b\r\n"
      "Content-Disposition: form-data; filename=\"fallback.png\"; name=\"f\"; "
      "filename*=UTF-8''na%C3%AFve%20file.png\r\n\r\n"
      "2\r\n--b\r\n"
      "Content-Disposition: form-data;\r\n name=\"folded\"\r\n\r\n"  // obsolete header folding
      "3\r\n--b--";
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "we;ird \"name\"");
  EXPECT_EQ((*parts)[0].filename, "C:\\dir\\x;y.png");  // backslashes before ordinary characters stay
  EXPECT_EQ((*parts)[1].name, "f");
  EXPECT_EQ((*parts)[1].filename, "na\xC3\xAFve file.png");
  EXPECT_EQ((*parts)[2].name, "folded");
  EXPECT_EQ((*parts)[2].body, "3");
}

TEST(ParseMultipartTest, FoldedHeaderValues) {
  // Found by dispatcher/multipart_fuzz.cc: folding onto an empty value, and a blank continuation line.
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=f\r\nContent-Type:\r\n  image/png\r\n \t\r\n\r\n"
      "x\r\n--b--";
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].content_type, "image/png");
}

TEST(ParseMultipartTest, BinaryBodyWithEveryByteAndBoundaryLikePrefixes) {
  std::string payload;
  for (int i = 0; i < 256; ++i) payload += static_cast<char>(i);
  // Near misses of the delimiter "\r\n--boundary" inside the body.
  payload += "\r\n--boundar\r\n--boundaryX\r\n--boundary-\r\n-boundary\n--boundary\r--boundary\r\n\r\n--";
  for (int i = 255; i >= 0; --i) payload += static_cast<char>(i);
  const std::string body =
      "--boundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bin\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n" +
      payload + "\r\n--boundary--\r\n";
  auto parts = ParseMultipart(body, "boundary");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].body.size(), payload.size());
  EXPECT_EQ((*parts)[0].body, payload);
}

TEST(ParseMultipartTest, EmptyParts) {
  const std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"also_empty\"\r\n\r\n"  // no line end before the delimiter
      "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--b--\r\n";
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "empty");
  EXPECT_TRUE((*parts)[0].body.empty());
  EXPECT_EQ((*parts)[1].name, "also_empty");
  EXPECT_TRUE((*parts)[1].body.empty());
  EXPECT_EQ((*parts)[2].body, "x");

  auto no_parts = ParseMultipart("--b--\r\n", "b");
  ASSERT_TRUE(no_parts.ok());
  EXPECT_TRUE(no_parts->empty());
}

TEST(ParseMultipartTest, BareLineFeeds) {
  const std::string body =
      "--b\nContent-Disposition: form-data; name=\"a\"\nContent-Type: text/plain\n\nline1\r\nline2\n"
      "--b\nContent-Disposition: form-data; name=\"c\"\n\nccc\n--b--\n";
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].content_type, "text/plain");
  EXPECT_EQ((*parts)[0].body, "line1\r\nline2");
  EXPECT_EQ((*parts)[1].body, "ccc");
}

TEST(ParseMultipartTest, BareLineFeedHeadersInCrlfBody) {
  const std::string body = "--b\r\nContent-Disposition: form-data; name=\"a\"\nContent-Type: image/png\n\nAB\r\n--b--";
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].content_type, "image/png");
  EXPECT_EQ((*parts)[0].body, "AB");
}

void ExpectInvalid(const std::string& body, const std::string& message_part) {
  auto parts = ParseMultipart(body, "b");
  ASSERT_FALSE(parts.ok()) << "accepted: " << body;
  EXPECT_EQ(parts.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parts.status().message().find(message_part), std::string::npos) << parts.status().message();
}

TEST(ParseMultipartTest, MissingBoundary) {
  ExpectInvalid("", "does not contain the boundary line \"--b\"");
  ExpectInvalid("just some bytes", "does not contain the boundary");
  ExpectInvalid("x--b\r\nContent-Disposition: form-data; name=a\r\n\r\nA", "does not contain the boundary");
  EXPECT_FALSE(ParseMultipart("--b--", "").ok());
}

TEST(ParseMultipartTest, Truncated) {
  const std::string head = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n";
  ExpectInvalid("--b", "truncated");
  ExpectInvalid("--b\r\nContent-Disposition: form-da", "truncated in the headers of part 1");
  ExpectInvalid(head + "half of the im", "truncated: part 1");
  ExpectInvalid(head + "data\r\n--b", "truncated: part 1");
  ExpectInvalid(head + "data\r\n--b\r", "truncated: part 1");
  ExpectInvalid(head + "data\r\n--b\r\n" + "Content-Disposition: form-data; name=x\r\n\r\nmore", "truncated: part 2");
}

TEST(ParseMultipartTest, MissingOrBadPartHeaders) {
  ExpectInvalid("--b\r\n\r\nbody\r\n--b--", "part 1: no Content-Disposition header");
  ExpectInvalid("--b\r\nbody without headers\r\n--b--", "part 1: malformed header line \"body without headers\"");
  ExpectInvalid("--b\r\nContent-Disposition: form-data; name=a\r\n--b--\r\n", "malformed header line \"--b--\"");
  ExpectInvalid("--b\r\nContent-Type: image/png\r\n\r\nA\r\n--b--", "no Content-Disposition");
  ExpectInvalid("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nA\r\n--b--", "expected form-data");
  ExpectInvalid("--b\r\nContent-Disposition: form-data; filename=a.png\r\n\r\nA\r\n--b--", "has no name");
  ExpectInvalid("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nA\r\n--b--", "not closed");
  ExpectInvalid(
      "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--b\r\n"
      "Content-Disposition: form-data\r\n\r\nB\r\n--b--",
      "multipart part 2: Content-Disposition has no name");
  ExpectInvalid("--b\r\nX: " + std::string(20000, 'x') + "\r\n\r\n--b--", "longer than 16 KiB");
}

TEST(ParseMultipartTest, PartLimit) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n";
  body += "--b--\r\n";
  EXPECT_TRUE(ParseMultipart(body, "b", 5).ok());
  auto parts = ParseMultipart(body, "b", 4);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().code(), StatusCode::kTooLarge);
  EXPECT_NE(parts.status().message().find("more than 4 parts"), std::string::npos);

  std::string many;
  for (size_t i = 0; i <= kMaxMultipartParts; ++i) many += "--b\r\nContent-Disposition: form-data; name=f\r\n\r\n\r\n";
  many += "--b--";
  auto too_many = ParseMultipart(many, "b");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace tsdsr::dispatcher
