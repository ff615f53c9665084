#include "dispatcher/http/auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <pistache/router.h>
#include <nlohmann/json.hpp>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_server.h"

namespace tsdsr::dispatcher {
namespace {

constexpr char kKey[] = "s3cret-key-0123456789abcdef";

TEST(AuthTest, BearerTokenParsing) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer abc"), "abc");
  EXPECT_EQ(BearerToken("BEARER   abc  "), "abc");
  EXPECT_EQ(BearerToken("  Bearer\tabc"), "abc");
  EXPECT_EQ(BearerToken("Bearer a b"), "a b") << "the whole rest is compared, so it will not match a key";
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerabc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), std::nullopt);
  EXPECT_EQ(BearerToken(""), std::nullopt);
  EXPECT_EQ(BearerToken("abc"), std::nullopt);
}

TEST(AuthTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abcabc", "abc")) << "the secret repeated is not the secret";
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", ""));
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), "abc"));
}

TEST(AuthTest, OnlyHealthProbesMetricsAndTheConsolesFilesAreOpen) {
  for (const char* path : {"/health", "/health/live", "/health/ready", "/metrics", "/", "/ui/console.css",
                           "/ui/js/main.js"}) {
    EXPECT_TRUE(IsOpenPath(path)) << path;
  }
  for (const char* path : {"/upscale", "/info", "/stats", "/jobs", "/jobs/1", "", "/ui", "/ui/../info",
                           "/ui/js/../../jobs", "/health/", "/healthz", "/metrics/x",
                           "/health/../upscale", "//health", "/HEALTH"}) {
    EXPECT_FALSE(IsOpenPath(path)) << path;
  }
}

// ApiKeys holding kKey, unnamed (as --api-key gives it).
std::shared_ptr<const ApiKeys> OneKey() {
  auto keys = std::make_shared<ApiKeys>();
  EXPECT_TRUE(keys->Add("", kKey).ok());
  return keys;
}

TEST(AuthTest, CheckWithOneKey) {
  EXPECT_TRUE(ApiKeys().Check("/upscale", std::nullopt).ok()) << "no key configured: open";
  const auto keys = OneKey();
  EXPECT_TRUE(keys->Check("/health", std::nullopt).ok());
  EXPECT_TRUE(keys->Check("/metrics", std::string("Bearer wrong")).ok());
  EXPECT_TRUE(keys->Check("/upscale", "Bearer " + std::string(kKey)).ok());
  EXPECT_EQ(keys->NameOf("Bearer " + std::string(kKey)), std::nullopt) << "the key of --api-key has no name";
  for (const std::optional<std::string>& header :
       {std::optional<std::string>(), std::optional<std::string>("Bearer wrong"),
        std::optional<std::string>(std::string("Basic ") + kKey), std::optional<std::string>(kKey),
        std::optional<std::string>("Bearer " + std::string(kKey) + "x")}) {
    Status status = keys->Check("/upscale", header);
    EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << header.value_or("(none)");
    EXPECT_EQ(status.message().find(kKey), std::string::npos) << "the key never appears in a message";
  }
  EXPECT_EQ(keys->Check("/nope", std::nullopt).code(), StatusCode::kUnauthenticated)
      << "unknown paths do not reveal whether they exist";
}

TEST(AuthTest, NamedKeysFromAFile) {
  auto keys = ApiKeys::Parse("# render farm\n\nalice  alice-key-0123456789abcdef\r\n"
                             "\tbob\tbob-key-0123456789abcdef  \nci@build.1 ci-key-0123456789abcdef");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 3u);
  EXPECT_EQ(keys->named(), 3u);
  EXPECT_EQ(keys->NameOf(std::string("Bearer alice-key-0123456789abcdef")), "alice");
  EXPECT_EQ(keys->NameOf(std::string("bearer  bob-key-0123456789abcdef")), "bob");
  EXPECT_EQ(keys->NameOf(std::string("Bearer ci-key-0123456789abcdef")), "ci@build.1");
  EXPECT_EQ(keys->NameOf(std::string("Bearer nobody-key-0123456789abcdef")), std::nullopt);
  EXPECT_EQ(keys->NameOf(std::nullopt), std::nullopt);
  EXPECT_TRUE(keys->Check("/jobs", std::string("Bearer bob-key-0123456789abcdef")).ok());
  EXPECT_EQ(keys->Check("/jobs", std::string("Bearer alice-key-0123456789abcdeF")).code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(ApiKeys::Parse("# nothing but comments\n\n").ok());
}

TEST(AuthTest, ABadKeysFileNamesTheLineAndNeverTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"alice alice-key-0123456789abcdef\nbob\n", "line 2: must be 'NAME KEY'"},
      {"alice short\n", "line 1: a key must be at least 16"},
      {"alice alice-key-0123456789abcdef extra\n", "line 1: a key must be at least 16"},
      {"al/ice alice-key-0123456789abcdef\n", "line 1: a key's name must be"},
      {"alice alice-key-0123456789abcdef\nalice other-key-0123456789abcdef\n", "line 2: the name alice is given twice"},
      {"alice alice-key-0123456789abcdef\nbob alice-key-0123456789abcdef\n", "line 2: a key is given twice"},
  };
  for (const auto& [text, expected] : cases) {
    auto keys = ApiKeys::Parse(text);
    ASSERT_FALSE(keys.ok()) << text;
    EXPECT_EQ(keys.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(keys.status().message().find(expected), 0u) << keys.status().message();
    EXPECT_EQ(keys.status().message().find("0123456789abcdef"), std::string::npos) << keys.status().message();
  }
}

TEST(AuthTest, AKeysFileMustBeReadableByItsOwnerOnly) {
  char dir_template[] = "/tmp/tsdsr-auth-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/keys";
  EXPECT_EQ(ApiKeys::Load(path).status().code(), StatusCode::kNotFound);
  {
    std::ofstream out(path);
    out << "alice alice-key-0123456789abcdef\n";
  }
  ::chmod(path.c_str(), 0644);
  auto open = ApiKeys::Load(path);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos) << open.status().message();
  ::chmod(path.c_str(), 0600);
  auto keys = ApiKeys::Load(path);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->NameOf(std::string("Bearer alice-key-0123456789abcdef")), "alice");
  {
    std::ofstream out(path);
    out << "alice\n";
  }
  auto bad = ApiKeys::Load(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "API keys file " + path + ", line 1: must be 'NAME KEY'");
  std::filesystem::remove_all(dir_template);
}

TEST(AuthTest, ClientNames) {
  for (const std::string& name : {std::string("a"), std::string("ci@build.1"), std::string("team:render_farm-2"),
                                  std::string(64, 'x')}) {
    EXPECT_TRUE(IsClientName(name)) << name;
  }
  for (const std::string& name : {std::string(), std::string(65, 'x'), std::string("with space"),
                                  std::string("sl/ash"), std::string("ü")}) {
    EXPECT_FALSE(IsClientName(name)) << name;
  }
}

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// One request over a fresh connection (`Connection: close`), read to the end.
RawResponse Exchange(uint16_t port, const std::string& request_line, const std::string& headers = "") {
  RawResponse response;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = request_line + "\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n";
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) text.append(buffer, static_cast<size_t>(n));
    const size_t end = text.find("\r\n\r\n");
    response.head = text.substr(0, end);
    response.body = end == std::string::npos ? "" : text.substr(end + 4);
    if (text.size() > 12) response.status = std::atoi(text.substr(9, 3).c_str());
  }
  ::close(fd);
  return response;
}

// A real HttpServer with two routes behind RequireApiKey.
class AuthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Pistache::Rest::Router>();
    auto answer = [](const Pistache::Rest::Request&, Pistache::Http::ResponseWriter response) {
      SendJson(response, Pistache::Http::Code::Ok, {{"ok", true}});
      return Pistache::Rest::Route::Result::Ok;
    };
    Pistache::Rest::Routes::Get(*router, "/health", answer);
    Pistache::Rest::Routes::Get(*router, "/info", answer);
    RequireApiKey(*router, OneKey(), [this] { ++refused_; });
    HttpServerOptions options;
    options.port = 0;
    options.threads = 1;
    auto server = HttpServer::Create(options, router);
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Start().ok());
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> refused_{0};
};

TEST_F(AuthServerTest, MissingOrWrongKeyGets401WithChallengeAndJson) {
  for (const std::string& header : {std::string(), std::string("Authorization: Bearer nope\r\n"),
                                    std::string("Authorization: Basic Zm9vOmJhcg==\r\n")}) {
    RawResponse r = Exchange(server_->port(), "GET /info HTTP/1.1", header);
    EXPECT_EQ(r.status, 401) << header << r.head;
    EXPECT_NE(r.head.find("WWW-Authenticate: Bearer"), std::string::npos) << r.head;
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_EQ(body["code"], "unauthenticated") << r.body;
    EXPECT_TRUE(body["error"].is_string()) << r.body;
  }
  EXPECT_EQ(refused_.load(), 3);
  EXPECT_EQ(Exchange(server_->port(), "GET /unknown HTTP/1.1").status, 401);
}

TEST_F(AuthServerTest, TheKeyOpensEveryRouteAndProbesNeedNone) {
  EXPECT_EQ(
      Exchange(server_->port(), "GET /info HTTP/1.1", "Authorization: Bearer " + std::string(kKey) + "\r\n").status,
      200);
  EXPECT_EQ(
      Exchange(server_->port(), "GET /info?x=1 HTTP/1.1", "authorization: bearer " + std::string(kKey) + "\r\n").status,
      200);
  EXPECT_EQ(Exchange(server_->port(), "GET /health HTTP/1.1").status, 200);
  EXPECT_EQ(Exchange(server_->port(), "GET /health?verbose=1 HTTP/1.1").status, 200);
  EXPECT_EQ(
      Exchange(server_->port(), "GET /unknown HTTP/1.1", "Authorization: Bearer " + std::string(kKey) + "\r\n").status,
      404);
  EXPECT_EQ(refused_.load(), 0);
}

TEST_F(AuthServerTest, KeepAliveConnectionServesNextRequestAfterA401) {
  // Two requests on one connection: the refused one must not leave it stuck.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string requests =
      "GET /info HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " +
      std::string(kKey) + "\r\n\r\n";
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), MSG_NOSIGNAL), static_cast<ssize_t>(requests.size()));
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) text.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  const size_t first = text.find("HTTP/1.1 401");
  const size_t second = text.find("HTTP/1.1 200");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second) << text;
}

}  // namespace
}  // namespace tsdsr::dispatcher
