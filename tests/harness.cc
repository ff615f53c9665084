#include "tests/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace tsdsr::testing {

std::string Program(const std::string& name) { return std::string(TSDSR_BIN_DIR) + "/" + name; }

TempDir::TempDir() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/tsdsr-e2e-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  path_ = mkdtemp(buffer.data());
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::unique_ptr<Cluster> Cluster::Start(const ClusterOptions& options) {
  std::unique_ptr<Cluster> cluster(new Cluster());
  DispatcherProcessOptions process;
  process.program = Program("tsdsr-dispatcher");
  process.port_file = cluster->dir_.File("port");
  process.workers = options.workers;
  process.wait_for_ready = options.wait_for_ready;
  process.worker_endpoint = options.worker_endpoint;
  process.extra_flags = {"--heartbeat-ms", "200"};
  process.extra_flags.insert(process.extra_flags.end(), options.flags.begin(), options.flags.end());
  process.ready_timeout = options.timeout;
  auto started = DispatcherProcess::Start(process);
  if (!started.ok()) {
    ADD_FAILURE() << started.status().ToString();
    return nullptr;
  }
  cluster->process_ = std::move(*started);
  return cluster;
}

bool Cluster::WaitForWorkers(int ready, std::chrono::seconds timeout) {
  auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    auto response = http().Get("/health");
    if (response.ok()) {
      auto health = nlohmann::json::parse(response->body, nullptr, false);
      if (!health.is_discarded() &&
          health["workers"]["ready"].get<int>() + health["workers"]["busy"].get<int>() >= ready) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::unique_ptr<Cluster> Cluster::StartWithFailedModel(const std::vector<std::string>& flags, std::string* error) {
  ClusterOptions options;
  options.workers = 1;
  options.wait_for_ready = 0;
  options.flags = flags;
  auto cluster = Start(options);
  error->clear();
  if (!cluster) return nullptr;
  long status = 0;
  const nlohmann::json health = cluster->WaitForWorkerCount(1, &status);
  EXPECT_EQ(status, 503);
  EXPECT_EQ(health["status"], "unavailable") << health.dump();
  const nlohmann::json info = cluster->GetJson("/info");
  EXPECT_EQ(info["workers"].size(), 1u) << info.dump();
  if (info["workers"].size() == 1) {
    EXPECT_EQ(info["workers"][0]["status"], "error");
    if (info["workers"][0]["error"].is_string()) *error = info["workers"][0]["error"].get<std::string>();
  }
  return cluster;
}

nlohmann::json Cluster::WaitForWorkerCount(int total, long* status) {
  nlohmann::json health;
  for (int i = 0; i < 400; ++i) {
    health = GetJson("/health", status);
    if (health["workers"]["total"] == total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return health;
}

std::vector<int> Cluster::WorkerPids() {
  std::vector<int> pids;
  const nlohmann::json info = GetJson("/info");  // kept alive for the loop
  for (const auto& worker : info["workers"]) pids.push_back(worker["pid"].get<int>());
  return pids;
}

nlohmann::json Cluster::GetJson(const std::string& path, long* status) {
  auto response = http().Get(path);
  if (!response.ok()) {
    ADD_FAILURE() << "GET " << path << ": " << response.status().ToString();
    return nullptr;
  }
  if (status != nullptr) *status = response->status;
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (json.is_discarded()) ADD_FAILURE() << "GET " << path << " is not JSON: " << response->body;
  return json;
}

nlohmann::json Cluster::WaitForJson(const std::string& path, const std::function<bool(const nlohmann::json&)>& until,
                                    std::chrono::seconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  nlohmann::json json;
  while (std::chrono::steady_clock::now() < give_up) {
    json = GetJson(path);
    if (until(json)) return json;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "GET " << path << " did not get there within " << timeout.count() << " s; last: " << json.dump();
  return json;
}

std::string Cluster::Terminate(std::chrono::seconds timeout) { return process_->Terminate(timeout); }

TestProcess::TestProcess(const std::vector<std::string>& argv) : launcher_(dispatcher::MakePosixLauncher()) {
  auto pid = launcher_->Launch(argv);
  if (!pid.ok()) {
    ADD_FAILURE() << pid.status().ToString();
    ended_ = true;
    return;
  }
  pid_ = *pid;
}

TestProcess::~TestProcess() {
  if (ended_) return;
  launcher_->Signal(pid_, SIGKILL);
  Wait(std::chrono::seconds(10));
}

void TestProcess::Signal(int signal) {
  if (!ended_) launcher_->Signal(pid_, signal);
}

std::string TestProcess::Wait(std::chrono::seconds timeout) {
  auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!ended_ && std::chrono::steady_clock::now() < give_up) {
    if (auto ended = launcher_->Poll(pid_)) {
      ended_ = true;
      return *ended;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

nlohmann::json JsonOf(const client::HttpResponse& response) {
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded()) {
    ADD_FAILURE() << "HTTP " << response.status << " body is not JSON: " << response.body.substr(0, 200);
    return nullptr;
  }
  return json;
}

client::HttpResponse PostJob(client::HttpClient& http, const std::string& image, const std::string& query,
                             const std::string& key, const std::string& filename) {
  client::HttpRequest request;
  request.method = "POST";
  request.path = "/jobs" + (query.empty() ? std::string() : "?" + query);
  request.parts.push_back({"file", filename, "image/png", image});
  if (!key.empty()) request.headers.emplace_back("Idempotency-Key", key);
  auto response = http.Send(request);
  if (!response.ok()) {
    ADD_FAILURE() << "POST /jobs: " << response.status().ToString();
    return client::HttpResponse{};
  }
  return *response;
}

std::string JobIdOf(const client::HttpResponse& response) {
  EXPECT_EQ(response.status, 202) << response.body;
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  return json.is_object() ? json.value("id", "") : "";
}

client::HttpResponse UpscaleDirect(client::HttpClient& http, const ImageFile& file, const std::string& query) {
  client::HttpRequest request;
  request.method = "POST";
  request.path = "/upscale?" + query;
  request.parts.push_back({"file", file.name, file.type, file.bytes});
  auto response = http.Send(request);
  if (!response.ok()) {
    ADD_FAILURE() << "POST /upscale: " << response.status().ToString();
    return client::HttpResponse{};
  }
  return *response;
}

nlohmann::json WaitForJob(client::HttpClient& http, const std::string& id,
                          const std::function<bool(const nlohmann::json&)>& until, std::chrono::seconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  nlohmann::json job;
  while (std::chrono::steady_clock::now() < give_up) {
    auto response = http.Get("/jobs/" + id);
    if (response.ok() && response->status == 200) {
      job = nlohmann::json::parse(response->body, nullptr, false);
      const std::string status = job.value("status", "");
      const bool finished = status == "succeeded" || status == "failed" || status == "cancelled";
      if (until ? until(job) : finished) return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "job " << id << " did not get there within " << timeout.count() << " s; last: " << job.dump();
  return job;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t size = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), size) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, n);
  int status = pclose(pipe);
  if (output != nullptr) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

cv::Mat TestImage(int width, int height, unsigned seed) {
  cv::Mat image(height, width, CV_8UC3);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> noise(-20, 20);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      int edge = ((x / 7 + y / 5) % 2) * 90;  // a checker of hard edges
      auto& px = image.at<cv::Vec3b>(y, x);
      px[0] = cv::saturate_cast<uchar>(x * 255 / std::max(1, width - 1) / 2 + edge + noise(random));
      px[1] = cv::saturate_cast<uchar>(y * 255 / std::max(1, height - 1) / 2 + noise(random));
      px[2] = cv::saturate_cast<uchar>(255 - edge - noise(random));
    }
  }
  return image;
}

std::vector<ImageFile> MixedImages() {
  const int sizes[][2] = {{1, 1}, {37, 23}, {64, 9}, {13, 77}, {100, 61}, {5, 5}, {48, 32}};
  const char* kinds[][2] = {{".png", "image/png"}, {".jpg", "image/jpeg"}, {".webp", "image/webp"}};
  std::vector<ImageFile> files;
  for (int i = 0; i < 20; ++i) {
    const auto& size = sizes[i % 7];
    const auto& kind = kinds[i % 3];
    std::vector<unsigned char> bytes;
    cv::imencode(kind[0], TestImage(size[0], size[1], 100 + i), bytes);
    files.push_back({"frame_" + std::to_string(i) + kind[0], kind[1], std::string(bytes.begin(), bytes.end())});
  }
  files[kBrokenImage] = {"broken.png", "image/png", EncodePng(TestImage(40, 30, 7)).substr(0, 200)};
  return files;
}

cv::Mat Nearest2x(const cv::Mat& input) {
  cv::Mat out;
  cv::resize(input, out, cv::Size(input.cols * 2, input.rows * 2), 0, 0, cv::INTER_NEAREST);
  return out;
}

std::string EncodePng(const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  cv::imencode(".png", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

cv::Mat DecodeBytes(const std::string& bytes) {
  cv::Mat image = cv::imdecode(std::vector<unsigned char>(bytes.begin(), bytes.end()), cv::IMREAD_COLOR);
  if (image.empty()) ADD_FAILURE() << "could not decode " << bytes.size() << " bytes as an image";
  return image;
}

int MaxAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return INT_MAX;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  double max = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &max);
  return static_cast<int>(max);
}

std::unique_ptr<TestProcess> StartLogged(const std::vector<std::string>& argv, const std::string& log) {
  std::string command = "exec";
  for (const auto& arg : argv) command += " '" + arg + "'";
  return std::make_unique<TestProcess>(std::vector<std::string>{"/bin/sh", "-c", command + " 2>'" + log + "'"});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool WaitForText(const std::string& path, const std::string& needle, std::chrono::seconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    if (ReadFile(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace tsdsr::testing
