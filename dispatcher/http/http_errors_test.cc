#include "dispatcher/http/http_errors.h"

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

using Pistache::Http::Code;

TEST(HttpErrorsTest, EveryStatusCodeHasItsHttpStatus) {
  EXPECT_EQ(HttpCodeFor(StatusCode::kOk), Code::Ok);
  EXPECT_EQ(HttpCodeFor(StatusCode::kInvalidArgument), Code::Bad_Request);
  EXPECT_EQ(HttpCodeFor(StatusCode::kUnauthenticated), Code::Unauthorized);
  EXPECT_EQ(HttpCodeFor(StatusCode::kNotFound), Code::Not_Found);
  EXPECT_EQ(HttpCodeFor(StatusCode::kTooLarge), Code::Request_Entity_Too_Large);
  EXPECT_EQ(HttpCodeFor(StatusCode::kUnsupportedType), Code::Unsupported_Media_Type);
  EXPECT_EQ(HttpCodeFor(StatusCode::kUnavailable), Code::Service_Unavailable);
  EXPECT_EQ(HttpCodeFor(StatusCode::kDeadlineExceeded), Code::Gateway_Timeout);
  EXPECT_EQ(static_cast<int>(HttpCodeFor(StatusCode::kCancelled)), 499);
  EXPECT_EQ(HttpCodeFor(StatusCode::kResourceExhausted), Code::Service_Unavailable);
  EXPECT_EQ(HttpCodeFor(StatusCode::kFailedPrecondition), Code::Service_Unavailable);
  EXPECT_EQ(HttpCodeFor(StatusCode::kConflict), Code::Conflict);
  EXPECT_EQ(HttpCodeFor(StatusCode::kGone), Code::Gone);
  EXPECT_EQ(HttpCodeFor(StatusCode::kInsufficientStorage), Code::Insufficient_Storage);
  EXPECT_EQ(HttpCodeFor(StatusCode::kAborted), Code::Bad_Gateway);
  EXPECT_EQ(HttpCodeFor(StatusCode::kTooManyRequests), Code::Too_Many_Requests);
  EXPECT_EQ(HttpCodeFor(StatusCode::kInternal), Code::Internal_Server_Error);
}

TEST(HttpErrorsTest, HttpStatusBackToStatusCode) {
  EXPECT_EQ(StatusCodeForHttp(400), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForHttp(404), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForHttp(413), StatusCode::kTooLarge);
  EXPECT_EQ(StatusCodeForHttp(415), StatusCode::kUnsupportedType);
  EXPECT_EQ(StatusCodeForHttp(499), StatusCode::kCancelled);
  EXPECT_EQ(StatusCodeForHttp(503), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForHttp(504), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusCodeForHttp(500), StatusCode::kInternal);
  EXPECT_EQ(StatusCodeForHttp(405), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForHttp(502), StatusCode::kAborted);
  EXPECT_EQ(StatusCodeForHttp(507), StatusCode::kInsufficientStorage);
  EXPECT_EQ(StatusCodeForHttp(501), StatusCode::kInternal);
  // Round trip for every code whose HTTP status is its own.
  for (StatusCode code :
       {StatusCode::kInvalidArgument, StatusCode::kUnauthenticated, StatusCode::kNotFound, StatusCode::kTooLarge,
        StatusCode::kUnsupportedType, StatusCode::kUnavailable, StatusCode::kDeadlineExceeded, StatusCode::kCancelled,
        StatusCode::kConflict, StatusCode::kGone, StatusCode::kInsufficientStorage, StatusCode::kAborted,
        StatusCode::kTooManyRequests, StatusCode::kInternal}) {
    EXPECT_EQ(StatusCodeForHttp(static_cast<int>(HttpCodeFor(code))), code) << StatusCodeName(code);
  }
}

TEST(HttpErrorsTest, ErrorBody) {
  EXPECT_EQ(ErrorBody(Status::InvalidArgument("upscale must be 2 or 4")),
            nlohmann::json({{"error", "upscale must be 2 or 4"}, {"code", "invalid_argument"}}));
  EXPECT_EQ(ErrorBody(Status::TooLarge("too big")).dump(), R"({"code":"too_large","error":"too big"})");
  EXPECT_EQ(ErrorBody(Status::Cancelled("gone"))["code"], "cancelled");
  EXPECT_EQ(ErrorBody(Status::DeadlineExceeded("late"))["code"], "deadline_exceeded");
}

}  // namespace
}  // namespace tsdsr::dispatcher
