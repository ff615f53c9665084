// Security end to end: the HTTP API keys (--api-key, named ones from --api-keys-file) and CURVE on a worker
// endpoint other machines can reach (--gen-keys, --curve-dir, the ZAP handler), with real dispatchers, workers
// and tsdsr-client.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/curve_keys.h"
#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

constexpr char kApiKey[] = "e2e-api-key-0123456789abcdef";

std::unique_ptr<client::HttpClient> ClientWithKey(const std::string& base_url, const std::string& key) {
  auto http = client::HttpClient::Create(base_url, std::chrono::seconds(60));
  EXPECT_TRUE(http.ok()) << http.status().ToString();
  if (!key.empty()) (*http)->SetDefaultHeader("Authorization", "Bearer " + key);
  return std::move(*http);
}

TEST(SecurityE2eTest, ApiKeyGuardsTheApiButNotTheProbesOrMetrics) {
  auto cluster = Cluster::Start(1, {"--api-key", kApiKey});  // the harness waits on /health: open
  ASSERT_NE(cluster, nullptr);
  const std::string png = EncodePng(TestImage(12, 10));
  auto anonymous = ClientWithKey(cluster->base_url(), "");
  auto wrong = ClientWithKey(cluster->base_url(), "not-the-key-0123456789");
  auto keyed = ClientWithKey(cluster->base_url(), kApiKey);

  for (auto* http : {anonymous.get(), wrong.get()}) {
    auto r = http->PostRaw("/upscale", "image/png", png);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_EQ(r->Header("www-authenticate"), "Bearer");
    auto body = nlohmann::json::parse(r->body, nullptr, false);
    EXPECT_EQ(body["code"], "unauthenticated") << r->body;
    EXPECT_EQ(r->body.find(kApiKey), std::string::npos);
    EXPECT_EQ(http->Get("/info")->status, 401);
    EXPECT_EQ(http->Get("/stats")->status, 401);
  }
  auto served = keyed->PostRaw("/upscale?upscale=2", "image/png", png);
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served->status, 200) << served->body;
  EXPECT_EQ(served->Header("x-output-size"), "24x20");
  EXPECT_EQ(keyed->Get("/info")->status, 200);

  for (const char* open : {"/health", "/health/live", "/health/ready", "/metrics"}) {
    auto r = anonymous->Get(open);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << open << ": " << r->body;
  }
  EXPECT_NE(anonymous->Get("/metrics")->body.find("endpoint=\"unauthenticated\""), std::string::npos);
}

TEST(SecurityE2eTest, ClientSendsTheKeyFromItsFlagOrTheEnvironment) {
  auto cluster = Cluster::Start(1, {"--api-key", kApiKey});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  std::ofstream(dir.File("in.png"), std::ios::binary) << EncodePng(TestImage(16, 8));
  const std::string client = Program("tsdsr-client") + " --port " + std::to_string(cluster->port());
  std::string output;
  EXPECT_EQ(RunCommand(
                client + " -i " + dir.File("in.png") + " -o " + dir.File("out.png") + " --api-key " + kApiKey + " 2>&1",
                &output),
            0)
      << output;
  EXPECT_EQ(DecodeBytes(ReadFile(dir.File("out.png"))).cols, 32);
  EXPECT_EQ(RunCommand("TSDSR_API_KEY=" + std::string(kApiKey) + " " + client + " --info 2>&1", &output), 0) << output;
  EXPECT_EQ(RunCommand("env -u TSDSR_API_KEY " + client + " --info 2>&1", &output), 2) << output;
  EXPECT_NE(output.find("401"), std::string::npos) << output;
  EXPECT_NE(output.find("--api-key"), std::string::npos) << output;
}

// Submits one async job through `http`, with `client_id` as X-Client-Id; the HTTP status.
long SubmitJob(client::HttpClient& http, const std::string& client_id, const std::string& png) {
  client::HttpRequest request;
  request.method = "POST";
  request.path = "/jobs?upscale=2";
  request.headers.emplace_back("X-Client-Id", client_id);
  request.parts.push_back({"file", "in.png", "image/png", png});
  auto response = http.Send(request);
  EXPECT_TRUE(response.ok()) << response.status().ToString();
  return response.ok() ? response->status : -1;
}

// A key from --api-keys-file names its client: its jobs share one queue and one --max-client-jobs limit whatever
// X-Client-Id they claim, /stats lists them under the key's name, and the unnamed --api-key still works.
TEST(SecurityE2eTest, NamedKeysAreTheClientsForTurnsAndLimits) {
  TempDir dir;
  const std::string keys = dir.File("api-keys");
  std::ofstream(keys) << "# name key\nalice alice-key-0123456789abcdef\nbob bob-key-0123456789abcdef\n";
  ::chmod(keys.c_str(), 0600);
  auto cluster = Cluster::Start(1, {"--model", "simulated:1000", "--max-client-jobs", "2", "--api-keys-file", keys,
                                    "--api-key", kApiKey});
  ASSERT_NE(cluster, nullptr);
  const std::string png = EncodePng(TestImage(16, 8));
  auto alice = ClientWithKey(cluster->base_url(), "alice-key-0123456789abcdef");
  auto bob = ClientWithKey(cluster->base_url(), "bob-key-0123456789abcdef");
  auto unnamed = ClientWithKey(cluster->base_url(), kApiKey);
  EXPECT_EQ(SubmitJob(*alice, "a1", png), 202);
  EXPECT_EQ(SubmitJob(*alice, "a2", png), 202);
  EXPECT_EQ(SubmitJob(*alice, "a3", png), 429) << "a new X-Client-Id does not escape the key's limit";
  EXPECT_EQ(SubmitJob(*bob, "a1", png), 202) << "nor does claiming another's id take from theirs";
  EXPECT_EQ(SubmitJob(*unnamed, "carol", png), 202) << "the unnamed key's clients are their X-Client-Id";
  auto wrong = ClientWithKey(cluster->base_url(), "alice-key-0123456789abcdeX");
  EXPECT_EQ(SubmitJob(*wrong, "a1", png), 401);

  auto stats = nlohmann::json::parse(unnamed->Get("/stats")->body, nullptr, false);
  std::map<std::string, int> waiting;
  for (const auto& entry : stats["clients"]) waiting[entry["client"]] = entry["waiting"];
  EXPECT_EQ(waiting["alice"], 2) << stats["clients"].dump();
  EXPECT_EQ(waiting["bob"], 1) << stats["clients"].dump();
  EXPECT_EQ(waiting["carol"], 1) << stats["clients"].dump();
  EXPECT_EQ(waiting.count("a1"), 0u) << stats["clients"].dump();
}

TEST(SecurityE2eTest, ABadKeysFileStopsTheStartAndSaysWhere) {
  TempDir dir;
  const std::string keys = dir.File("api-keys");
  std::ofstream(keys) << "alice alice-key-0123456789abcdef\nbob short\n";
  const std::string dispatcher = Program("tsdsr-dispatcher") + " --port 0 --workers 0 --data-dir " + dir.File("data") +
                                 " --api-keys-file " + keys + " 2>&1";
  ::chmod(keys.c_str(), 0644);
  std::string output;
  EXPECT_NE(RunCommand(dispatcher, &output), 0);
  EXPECT_NE(output.find("chmod 600"), std::string::npos) << output;
  ::chmod(keys.c_str(), 0600);
  EXPECT_NE(RunCommand(dispatcher, &output), 0);
  EXPECT_NE(output.find(keys + ", line 2: a key must be at least 16"), std::string::npos) << output;
  EXPECT_EQ(output.find("alice-key"), std::string::npos) << "no key is ever echoed: " << output;
}

TEST(SecurityE2eTest, DispatcherRefusesAReachableWorkerEndpointWithoutKeysAndSaysHow) {
  std::string output;
  int code = RunCommand(Program("tsdsr-dispatcher") + " --port 0 --workers 0 --worker-endpoint 'tcp://0.0.0.0:*' 2>&1",
                        &output);
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("--gen-keys"), std::string::npos) << output;
  EXPECT_NE(output.find("--curve-dir"), std::string::npos) << output;
}

TEST(SecurityE2eTest, CurveAdmitsAuthorizedWorkersAndRefusesStrangers) {
  TempDir dir;
  const std::string keys = dir.File("keys");
  std::string output;
  ASSERT_EQ(RunCommand(Program("tsdsr-dispatcher") + " --gen-keys " + keys, &output), 0) << output;
  // A stranger knows the dispatcher's public key (it is public) but has a key pair of its own.
  const std::string stranger = dir.File("stranger");
  std::filesystem::create_directory(stranger);
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(WriteCurveKeyFile(stranger + "/worker.key", pair->secret_key, true, "stranger").ok());
  std::filesystem::copy_file(keys + "/dispatcher.pub", stranger + "/dispatcher.pub");

  const std::string port = std::to_string(FreePort());
  auto dispatcher = StartLogged({Program("tsdsr-dispatcher"), "--port", "0", "--port-file", dir.File("port"),
                                 "--workers", "1", "--worker-endpoint", "tcp://0.0.0.0:" + port, "--curve-dir", keys,
                                 "--heartbeat-ms", "200", "--log-level", "info", "--data-dir", dir.File("data")},
                                dir.File("dispatcher.log"));
  ASSERT_TRUE(WaitForText(dir.File("port"), "\n", std::chrono::seconds(30))) << ReadFile(dir.File("dispatcher.log"));
  auto http = ClientWithKey("http://127.0.0.1:" + std::to_string(std::stoi(ReadFile(dir.File("port")))), "");

  const std::string connect = "tcp://127.0.0.1:" + port;
  TestProcess good({Program("tsdsr-worker"), "--connect", connect, "--curve-dir", keys, "--id", "remote-ok",
                    "--model", "bicubic", "--heartbeat-ms", "200", "--log-level", "warn"});
  auto bad = StartLogged({Program("tsdsr-worker"), "--connect", connect, "--curve-dir", stranger, "--id", "stranger",
                          "--model", "bicubic", "--heartbeat-ms", "200", "--log-level", "warn"},
                         dir.File("stranger.log"));

  // The local worker (keys made for this run) and the authorized remote one register.
  bool both = false;
  for (int i = 0; i < 600 && !both; ++i) {
    auto health = http->Get("/health");
    both = health.ok() && nlohmann::json::parse(health->body)["workers"]["ready"].get<int>() >= 2;
    if (!both) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(both) << ReadFile(dir.File("dispatcher.log"));
  std::string served_by;
  for (int i = 0; i < 10 && served_by != "remote-ok"; ++i) {
    auto r = http->PostRaw("/upscale", "image/png", EncodePng(TestImage(10, 10)));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    served_by = r->Header("x-worker");
  }
  EXPECT_EQ(served_by, "remote-ok");

  // The stranger is refused: logged with its key on the dispatcher, told on the worker, never registered.
  EXPECT_TRUE(WaitForText(dir.File("dispatcher.log"), pair->public_key, std::chrono::seconds(20)))
      << ReadFile(dir.File("dispatcher.log"));
  EXPECT_NE(ReadFile(dir.File("dispatcher.log")).find("refused a worker connection from 127.0.0.1"), std::string::npos)
      << ReadFile(dir.File("dispatcher.log"));
  EXPECT_TRUE(WaitForText(dir.File("stranger.log"), "refused this worker", std::chrono::seconds(20)))
      << ReadFile(dir.File("stranger.log"));
  auto info = nlohmann::json::parse(http->Get("/info")->body);
  for (const auto& worker : info["workers"]) EXPECT_NE(worker["id"], "stranger");
  EXPECT_EQ(nlohmann::json::parse(http->Get("/health")->body)["workers"]["total"], 2);

  dispatcher->Signal(SIGTERM);
  EXPECT_EQ(dispatcher->Wait(std::chrono::seconds(30)), "exit code 0");
}

}  // namespace
}  // namespace tsdsr::testing
