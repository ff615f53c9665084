#include "client/http_client.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/testing_http_server.h"

namespace tsdsr::client {
namespace {

using testing::CannedResponse;
using testing::RecordedRequest;
using testing::TestingHttpServer;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout(5000);

CannedResponse Ok(std::string body) {
  CannedResponse response;
  response.body = std::move(body);
  return response;
}

std::unique_ptr<HttpClient> ClientFor(const TestingHttpServer& server, milliseconds timeout = kTimeout) {
  Result<std::unique_ptr<HttpClient>> client = HttpClient::Create(server.base_url(), timeout);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(HttpClientTest, GetReturnsStatusHeadersAndBody) {
  TestingHttpServer server([](const RecordedRequest&) {
    CannedResponse response = Ok("{\"status\":\"ok\"}");
    response.headers = {{"X-Worker", "gpu0"}, {"Content-Type", "application/json"}, {"Set-Thing", "a"},
                        {"set-thing", "b"}};
    return response;
  });
  ASSERT_NE(server.port(), 0);
  auto client = ClientFor(server);
  Result<HttpResponse> response = client->Get("/health?verbose=1");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->reason, "OK");
  EXPECT_EQ(response->body, "{\"status\":\"ok\"}");
  EXPECT_EQ(response->Header("x-worker"), "gpu0");
  EXPECT_EQ(response->Header("content-type"), "application/json");
  EXPECT_EQ(response->Header("set-thing"), "a, b");
  EXPECT_EQ(response->Header("missing"), "");
  std::vector<RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/health?verbose=1");
}

TEST(HttpClientTest, ReusesOneConnection) {
  TestingHttpServer server([](const RecordedRequest&) { return Ok("x"); });
  auto client = ClientFor(server);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Get("/info").ok());
  ASSERT_TRUE(client->PostRaw("/jobs", "application/json", "{}").ok());
  EXPECT_EQ(server.connections_accepted(), 1);
  for (const RecordedRequest& request : server.requests()) EXPECT_EQ(request.connection, 1);
}

TEST(HttpClientTest, PostMultipartAsksForContinueOnlyForLargeBodies) {
  TestingHttpServer server([](const RecordedRequest&) { return Ok("done"); });
  auto client = ClientFor(server);
  std::string image(2 * 1024 * 1024, '\0');  // 1 MiB or more: the server may refuse it before it is sent
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>(i * 7);
  Result<HttpResponse> response =
      client->PostMultipart("/upscale?upscale=2", {{"file", "photo.png", "image/png", image}});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "done");
  std::vector<RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/upscale?upscale=2");
  EXPECT_EQ(request.headers.at("expect"), "100-continue");
  EXPECT_EQ(request.headers.at("content-type").rfind("multipart/form-data; boundary=", 0), 0u);
  EXPECT_NE(request.body.find("Content-Disposition: form-data; name=\"file\"; filename=\"photo.png\""),
            std::string::npos);
  EXPECT_NE(request.body.find("Content-Type: image/png"), std::string::npos);
  EXPECT_NE(request.body.find(image), std::string::npos);
  ASSERT_TRUE(client->PostMultipart("/upscale", {{"file", "small.png", "image/png", image.substr(0, 1000)}}).ok());
  EXPECT_EQ(server.requests().at(1).headers.count("expect"), 0u) << "a small body goes at once";
}

TEST(HttpClientTest, ExplicitExpectContinueIsHonoured) {
  TestingHttpServer server([](const RecordedRequest&) {
    CannedResponse response = Ok("created");
    response.status = 201;
    response.reason = "Created";
    return response;
  });
  auto client = ClientFor(server);
  HttpRequest request;
  request.method = "POST";
  request.path = "/jobs";
  request.headers = {{"Expect", "100-continue"}};
  request.parts = {{"file", "a.png", "", "bytes"}};
  Result<HttpResponse> response = client->Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 201);  // the interim "100 Continue" is not the answer
  EXPECT_EQ(response->reason, "Created");
  std::vector<RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("expect"), "100-continue");
  EXPECT_NE(requests[0].body.find("Content-Type: application/octet-stream"), std::string::npos);
}

TEST(HttpClientTest, PostRawDeleteAndSend) {
  TestingHttpServer server([](const RecordedRequest&) { return Ok(""); });
  auto client = ClientFor(server);
  std::string body("raw\0bytes", 9);
  ASSERT_TRUE(client->PostRaw("/upscale", "image/png", body).ok());
  ASSERT_TRUE(client->Delete("/jobs/42").ok());
  HttpRequest put;
  put.method = "PUT";
  put.path = "no-leading-slash";
  put.headers = {{"Authorization", "Bearer secret"}};
  put.body = "payload";
  ASSERT_TRUE(client->Send(put).ok());
  std::vector<RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].headers.at("content-type"), "image/png");
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[1].target, "/jobs/42");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].target, "/no-leading-slash");
  EXPECT_EQ(requests[2].headers.at("authorization"), "Bearer secret");
  EXPECT_EQ(requests[2].body, "payload");
}

TEST(HttpClientTest, DefaultHeadersGoWithEveryRequestUnlessOverridden) {
  TestingHttpServer server([](const RecordedRequest&) { return Ok(""); });
  auto client = ClientFor(server);
  client->SetDefaultHeader("Authorization", "Bearer old");
  client->SetDefaultHeader("authorization", "Bearer key");  // replaces, whatever the case
  ASSERT_TRUE(client->Get("/info").ok());
  ASSERT_TRUE(client->PostMultipart("/upscale", {{"file", "a.png", "image/png", "x"}}).ok());
  HttpRequest own;
  own.headers = {{"AUTHORIZATION", "Bearer mine"}};
  ASSERT_TRUE(client->Send(own).ok());
  std::vector<RecordedRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer key");
  EXPECT_EQ(requests[1].headers.at("authorization"), "Bearer key");
  EXPECT_EQ(requests[2].headers.at("authorization"), "Bearer mine") << "the request's own header wins, once";
}

TEST(HttpClientTest, CloneKeepsTheServerTimeoutAndDefaultHeaders) {
  TestingHttpServer server([](const RecordedRequest&) { return Ok(""); });
  auto client = ClientFor(server, milliseconds(1234));
  client->SetDefaultHeader("Authorization", "Bearer key");
  Result<std::unique_ptr<HttpClient>> clone = client->Clone();
  ASSERT_TRUE(clone.ok()) << clone.status().ToString();
  EXPECT_EQ((*clone)->base_url(), client->base_url());
  EXPECT_EQ((*clone)->timeout(), milliseconds(1234));
  ASSERT_TRUE((*clone)->Get("/info").ok());
  EXPECT_EQ(server.requests().at(0).headers.at("authorization"), "Bearer key");
  EXPECT_EQ(server.connections_accepted(), 1) << "a clone has its own connection";
  ASSERT_TRUE(client->Get("/info").ok());
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST(HttpClientTest, HttpErrorsAreResponsesNotErrors) {
  TestingHttpServer server([](const RecordedRequest&) {
    CannedResponse response;
    response.status = 503;
    response.reason = "Service Unavailable";
    response.headers = {{"Retry-After", "3"}};
    response.body = R"({"error": "queue is full", "code": "unavailable"})";
    return response;
  });
  auto client = ClientFor(server);
  Result<HttpResponse> response = client->Get("/upscale");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->Header("retry-after"), "3");
  EXPECT_EQ(ErrorMessageOf(*response), "queue is full");
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  int port = testing::UnusedLocalPort();
  auto client = HttpClient::Create("http://127.0.0.1:" + std::to_string(port), kTimeout);
  ASSERT_TRUE(client.ok());
  Result<HttpResponse> response = (*client)->Get("/health");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(response.status().message(), "cannot connect to 127.0.0.1:" + std::to_string(port) +
                                             " (connection refused)");
}

TEST(HttpClientTest, SlowServerIsDeadlineExceededAndClientRecovers) {
  TestingHttpServer server([](const RecordedRequest& request) {
    CannedResponse response = Ok("late");
    if (request.target == "/slow") response.delay = milliseconds(800);
    return response;
  });
  auto client = ClientFor(server, milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> response = client->Get("/slow");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(response.status().message(), "timed out after 200 ms waiting for 127.0.0.1:" +
                                             std::to_string(server.port()));
  EXPECT_LT(elapsed, milliseconds(700));
  client->set_timeout(kTimeout);
  Result<HttpResponse> next = client->Get("/fast");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->body, "late");
}

TEST(HttpClientTest, DroppedConnectionIsUnavailable) {
  TestingHttpServer server([](const RecordedRequest&) {
    CannedResponse response;
    response.close_without_reply = true;
    return response;
  });
  auto client = ClientFor(server);
  Result<HttpResponse> response = client->Get("/health");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(response.status().message().rfind("request to 127.0.0.1:" + std::to_string(server.port()) + " failed (",
                                              0),
            0u)
      << response.status().message();
}

TEST(HttpClientTest, CreateValidatesTheUrl) {
  EXPECT_EQ(HttpClient::Create("not a url", kTimeout).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpClient::Create("ftp://example.com", kTimeout).status().code(), StatusCode::kInvalidArgument);
  auto client = HttpClient::Create("http://localhost:8090/", kTimeout);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->base_url(), "http://localhost:8090");
  EXPECT_EQ((*client)->host_port(), "localhost:8090");
  auto default_port = HttpClient::Create("http://[::1]", kTimeout);
  ASSERT_TRUE(default_port.ok());
  EXPECT_EQ((*default_port)->host_port(), "[::1]:80");
}

TEST(ErrorMessageOfTest, PrefersJsonErrorThenTextThenReason) {
  HttpResponse response;
  response.status = 400;
  response.reason = "Bad Request";
  response.body = R"({"error":"upscale must be one of 2, 4","code":"invalid_argument"})";
  EXPECT_EQ(ErrorMessageOf(response), "upscale must be one of 2, 4");
  response.body = "Could not find a matching route\n";
  EXPECT_EQ(ErrorMessageOf(response), "Could not find a matching route");
  response.body = R"({"detail":"something else"})";
  EXPECT_EQ(ErrorMessageOf(response), "Bad Request");
  response.body = std::string(1000, 'x');
  EXPECT_EQ(ErrorMessageOf(response), "Bad Request");
  response.reason.clear();
  response.body.clear();
  EXPECT_EQ(ErrorMessageOf(response), "HTTP 400");
}

TEST(QueryEscapeTest, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(QueryEscape("png"), "png");
  EXPECT_EQ(QueryEscape("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(QueryEscape("-._~"), "-._~");
}

}  // namespace
}  // namespace tsdsr::client
