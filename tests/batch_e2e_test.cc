// POST /upscale_batch through a real dispatcher and real workers: a mixed batch with a corrupt file, every output
// downloadable and equal to a direct /upscale of the same file, the limits, and a client that hangs up.
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

client::HttpRequest BatchRequest(const std::vector<ImageFile>& files, const std::string& query,
                                 const std::string& field = "files") {
  client::HttpRequest request;
  request.method = "POST";
  request.path = "/upscale_batch" + query;
  for (const auto& f : files) request.parts.push_back({field, f.name, f.type, f.bytes});
  return request;
}

TEST(BatchE2eTest, AMixedBatchWithACorruptFile) {
  auto cluster = Cluster::Start(2);
  ASSERT_NE(cluster, nullptr);
  const std::vector<ImageFile> files = MixedImages();
  auto response = cluster->http().Send(BatchRequest(files, "?upscale=2&process_size=64"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->status, 200) << response->body;
  const nlohmann::json answer = JsonOf(*response);
  EXPECT_EQ(answer["total"], 20);
  EXPECT_EQ(answer["successful"], 19);
  EXPECT_EQ(answer["failed"], 1);
  ASSERT_EQ(answer["results"].size(), 20u);
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i].name);
    const nlohmann::json& entry = answer["results"][i];
    EXPECT_EQ(entry["filename"], files[i].name) << "in the order sent";
    if (i == kBrokenImage) {
      EXPECT_EQ(entry["code"], "invalid_argument");
      EXPECT_FALSE(entry["error"].get<std::string>().empty());
      EXPECT_FALSE(entry.contains("url"));
      continue;
    }
    auto stored = cluster->http().Get(entry["url"].get<std::string>());
    ASSERT_EQ(stored->status, 200);
    const client::HttpResponse reference = UpscaleDirect(cluster->http(), files[i], "upscale=2&process_size=64");
    ASSERT_EQ(reference.status, 200);
    EXPECT_EQ(MaxAbsDiff(DecodeBytes(stored->body), DecodeBytes(reference.body)), 0);
    EXPECT_EQ(entry["output_size"], reference.Header("x-output-size"));
    EXPECT_EQ(ReadFile(entry["temp_path"].get<std::string>()), stored->body) << "temp_path is the stored file";
    EXPECT_NEAR(entry["file_size_mb"].get<double>(), double(stored->body.size()) / (1 << 20), 1e-4);
  }
  cluster->WaitForJson("/stats", [](const nlohmann::json& stats) {
    return stats["jobs"]["by_status"]["succeeded"] == 19 && stats["jobs"]["store"]["results"] == 19;
  });  // each output is in the store
}

TEST(BatchE2eTest, TheFileFieldRepeatedIsABatchToo) {
  auto cluster = Cluster::Start(1);
  ASSERT_NE(cluster, nullptr);
  std::vector<ImageFile> files = {{"a.png", "image/png", EncodePng(TestImage(10, 10, 1))},
                                  {"b.png", "image/png", EncodePng(TestImage(12, 8, 2))}};
  auto response = cluster->http().Send(BatchRequest(files, "?upscale=4&format=jpeg", "file"));
  ASSERT_EQ(response->status, 200) << response->body;
  const nlohmann::json answer = JsonOf(*response);
  EXPECT_EQ(answer["successful"], 2);
  EXPECT_EQ(answer["results"][1]["output_size"], "48x32");
  auto stored = cluster->http().Get(answer["results"][0]["url"].get<std::string>());
  EXPECT_EQ(stored->Header("content-type"), "image/jpeg");
}

TEST(BatchE2eTest, OversizedBatchesAreRefusedBeforeAnyWork) {
  auto cluster = Cluster::Start(1, {"--max-batch-files", "3", "--max-body-mb", "1"});
  ASSERT_NE(cluster, nullptr);
  std::vector<ImageFile> four(4, {"a.png", "image/png", EncodePng(TestImage(8, 8))});
  auto too_many = cluster->http().Send(BatchRequest(four, ""));
  ASSERT_EQ(too_many->status, 413) << too_many->body;
  EXPECT_NE(JsonOf(*too_many)["error"].get<std::string>().find("--max-batch-files"), std::string::npos);
  std::vector<ImageFile> big = {{"big.png", "image/png", std::string(1 << 20, 'x') + EncodePng(TestImage(8, 8))}};
  EXPECT_EQ(cluster->http().Send(BatchRequest(big, ""))->status, 413);
  EXPECT_EQ(cluster->GetJson("/stats")["jobs_done"], 0) << "no work started";
  EXPECT_EQ(cluster->http().Send(BatchRequest({four[0]}, "?upscale=3"))->status, 400);
  EXPECT_EQ(cluster->http().PostRaw("/upscale_batch", "image/png", four[0].bytes)->status, 415);
}

TEST(BatchE2eTest, AClientThatHangsUpCancelsItsBatch) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:200"});
  ASSERT_NE(cluster, nullptr);
  TempDir dir;
  std::string args;
  for (int i = 0; i < 8; ++i) {
    const std::string path = dir.File("f" + std::to_string(i) + ".png");
    std::ofstream(path, std::ios::binary) << EncodePng(TestImage(100, 100, i));
    args += " -F files=@" + path;
  }
  RunCommand("curl -s --max-time 1 -o /dev/null" + args + " '" + cluster->base_url() +
             "/upscale_batch?process_size=64'");
  std::string metrics;
  for (int i = 0; i < 200; ++i) {
    metrics = cluster->http().Get("/metrics")->body;
    if (metrics.find("tsdsr_jobs_total{outcome=\"cancelled\"}") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(metrics.find("tsdsr_jobs_total{outcome=\"cancelled\"}"), std::string::npos) << metrics;
  const nlohmann::json stats = cluster->GetJson("/stats");
  EXPECT_LT(stats["jobs_done"].get<int>(), 8) << "the rest never ran";
  // The dispatcher goes on serving.
  auto after = cluster->http().PostRaw("/upscale?process_size=64", "image/png", EncodePng(TestImage(8, 8)));
  EXPECT_EQ(after->status, 200);
}

TEST(BatchE2eTest, ABatchInFlightWhenSigtermArrivesIsFinished) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:100"});
  ASSERT_NE(cluster, nullptr);
  std::vector<ImageFile> files;
  for (int i = 0; i < 6; ++i)
    files.push_back({"f" + std::to_string(i) + ".png", "image/png", EncodePng(TestImage(20, 20, i))});
  client::HttpResponse answer;
  std::thread batch([&] {
    auto http = client::HttpClient::Create(cluster->base_url(), std::chrono::seconds(60));
    auto response = (*http)->Send(BatchRequest(files, "?process_size=64"));
    if (response.ok()) answer = *response;
  });
  cluster->WaitForJson("/stats", [](const nlohmann::json& s) { return s["jobs_done"].get<int>() >= 1; });
  ASSERT_EQ(kill(cluster->pid(), SIGTERM), 0);
  batch.join();
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(JsonOf(answer)["successful"], 6) << "the drain lets an accepted batch finish";
  EXPECT_EQ(cluster->WaitForExit(std::chrono::seconds(30)), "exit code 0");
}

}  // namespace
}  // namespace tsdsr::testing
