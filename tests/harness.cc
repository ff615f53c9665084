#include "tests/harness.h"

#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
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

std::unique_ptr<Cluster> Cluster::Start(int workers, const std::vector<std::string>& extra_flags,
                                        std::chrono::seconds timeout) {
  std::unique_ptr<Cluster> cluster(new Cluster());
  cluster->launcher_ = dispatcher::MakePosixLauncher();
  const std::string port_file = cluster->dir_.File("port");
  std::vector<std::string> argv = {Program("tsdsr-dispatcher"), "--port", "0", "--port-file", port_file,
                                   "--workers", std::to_string(workers), "--worker-endpoint",
                                   "tcp://127.0.0.1:*", "--heartbeat-ms", "200", "--log-level", "warn"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto pid = cluster->launcher_->Launch(argv);
  if (!pid.ok()) {
    ADD_FAILURE() << pid.status().ToString();
    return nullptr;
  }
  cluster->pid_ = *pid;
  auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    if (auto ended = cluster->launcher_->Poll(cluster->pid_)) {
      cluster->ended_ = true;
      ADD_FAILURE() << "dispatcher exited during start-up: " << *ended;
      return nullptr;
    }
    if (!cluster->http_ && !cluster->Connect(port_file)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    auto response = cluster->http_->Get("/health");
    if (response.ok() && response->status == 200) {
      auto health = nlohmann::json::parse(response->body, nullptr, false);
      if (!health.is_discarded() && health["workers"]["ready"].get<int>() >= workers) return cluster;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "dispatcher did not get " << workers << " ready workers in " << timeout.count() << " s";
  return nullptr;
}

bool Cluster::Connect(const std::string& port_file) {
  std::ifstream in(port_file);
  if (!(in >> port_) || port_ <= 0) return false;
  auto http = client::HttpClient::Create(base_url(), std::chrono::seconds(120));
  if (!http.ok()) {
    ADD_FAILURE() << http.status().ToString();
    return false;
  }
  http_ = std::move(*http);
  return true;
}

Cluster::~Cluster() {
  if (!ended_ && pid_ != 0) Terminate(std::chrono::seconds(15));
}

nlohmann::json Cluster::GetJson(const std::string& path, long* status) {
  auto response = http_->Get(path);
  if (!response.ok()) {
    ADD_FAILURE() << "GET " << path << ": " << response.status().ToString();
    return nullptr;
  }
  if (status != nullptr) *status = response->status;
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (json.is_discarded()) ADD_FAILURE() << "GET " << path << " is not JSON: " << response->body;
  return json;
}

std::string Cluster::Terminate(std::chrono::seconds timeout) {
  if (ended_) return "already ended";
  launcher_->Signal(pid_, SIGTERM);
  auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    if (auto ended = launcher_->Poll(pid_)) {
      ended_ = true;
      return *ended;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  launcher_->Signal(pid_, SIGKILL);
  while (!launcher_->Poll(pid_)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ended_ = true;
  return "killed after timeout";
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

}  // namespace tsdsr::testing
