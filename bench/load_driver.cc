#include "bench/load_driver.h"

#include <cstdlib>
#include <random>

namespace tsdsr::bench {
namespace {

double MillisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// A header holding a number of milliseconds; false when it is missing or not a number.
bool ReadMillis(const client::HttpResponse& response, const std::string& name, double* value) {
  const std::string text = response.Header(name);
  if (text.empty()) return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end != nullptr && *end == '\0';
}

}  // namespace

Result<std::unique_ptr<LoadDriver>> LoadDriver::Start(const LoadOptions& options) {
  if (options.concurrency < 1) {
    return Status::InvalidArgument("concurrency must be at least 1, got " + std::to_string(options.concurrency));
  }
  // Every client is made before any thread starts, so a bad URL leaves nothing running.
  std::vector<std::unique_ptr<client::HttpClient>> clients;
  for (int i = 0; i < options.concurrency; ++i) {
    TSDSR_ASSIGN_OR_RETURN(auto http, client::HttpClient::Create(options.base_url, options.timeout));
    clients.push_back(std::move(http));
  }
  std::unique_ptr<LoadDriver> driver(new LoadDriver(options));
  for (size_t i = 0; i < clients.size(); ++i) {
    driver->threads_.emplace_back([d = driver.get(), h = std::move(clients[i]), i]() mutable {
      d->Drive(std::move(h), static_cast<unsigned>(i));
    });
  }
  return driver;
}

LoadDriver::~LoadDriver() { Stop(); }

std::vector<Sample> LoadDriver::Stop() {
  stopping_.store(true);
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Sample> samples;
  samples.swap(samples_);
  return samples;
}

std::string LoadDriver::first_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

void LoadDriver::RecordError(const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (first_error_.empty()) first_error_ = error;
}

void LoadDriver::Drive(std::unique_ptr<client::HttpClient> http, unsigned seed) {
  const std::vector<client::FilePart> parts = {{"file", "bench.png", "image/png", options_.image}};
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> think(0, static_cast<double>(options_.think_max.count()));
  std::vector<Sample> samples;
  while (!stopping_.load()) {
    if (options_.think_max.count() > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(think(random)));
    }
    const Clock::time_point start = Clock::now();
    auto response = http->PostMultipart(options_.path, parts);
    Sample sample;
    sample.end = Clock::now();
    sample.latency_ms = MillisBetween(start, sample.end);
    if (!response.ok()) {
      RecordError(response.status().ToString());
    } else if (response->status != 200) {
      RecordError("HTTP " + std::to_string(response->status) + ": " + client::ErrorMessageOf(*response));
    } else if (!ReadMillis(*response, "x-compute-ms", &sample.compute_ms) ||
               !ReadMillis(*response, "x-queue-ms", &sample.queue_ms)) {
      RecordError("response without X-Compute-Ms / X-Queue-Ms");
    } else {
      sample.ok = true;
    }
    samples.push_back(sample);
    if (!response.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no busy loop when down
  }
  std::lock_guard<std::mutex> lock(mu_);
  samples_.insert(samples_.end(), samples.begin(), samples.end());
}

}  // namespace tsdsr::bench
