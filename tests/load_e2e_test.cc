// Under load and abuse, through a real dispatcher and real workers: a flood of 4K uploads against a small memory
// budget gets only 200 or 503 and the dispatcher's memory stays bounded; connections that never finish their head
// are closed while real clients are served; a client with hundreds of queued jobs delays another client's job by
// about one job per slot; a client over --max-client-jobs gets 429 while others go on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dispatcher/http/http_testing.h"
#include "tests/harness.h"
#include "tests/process_usage.h"

namespace tsdsr::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kMiB = 1 << 20;

std::unique_ptr<client::HttpClient> NewClient(const Cluster& cluster, seconds timeout = seconds(120)) {
  auto http = client::HttpClient::Create(cluster.base_url(), timeout);
  EXPECT_TRUE(http.ok()) << http.status().ToString();
  return http.ok() ? std::move(*http) : nullptr;
}

// Mean absolute difference of `output` halved (area average) against `input`.
double DistanceToInput(const cv::Mat& output, const cv::Mat& input) {
  cv::Mat halved;
  cv::Mat difference;
  cv::resize(output, halved, input.size(), 0, 0, cv::INTER_AREA);
  cv::absdiff(halved, input, difference);
  return cv::mean(difference)[0];
}

// Samples a process's resident memory every 10 ms; the largest seen.
class RssSampler {
 public:
  explicit RssSampler(int pid) : thread_([this, pid] {
      while (!stop_.load()) {
        const ProcessUsage usage = UsageOf(pid);
        peak_.store(std::max(peak_.load(), usage.rss_bytes));
        std::this_thread::sleep_for(milliseconds(10));
      }
    }) {}
  ~RssSampler() { Stop(); }
  std::int64_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_.load();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> peak_{0};
  std::thread thread_;
};

// 200 uploads of 4K PNGs (20 MB each) at once to a dispatcher with a 64 MiB budget: nothing but 200 and 503 with
// Retry-After comes back, every 200 is the upscale of its own upload, and the dispatcher's resident memory stays
// under what it had idle plus its budget plus kSlackBytes. A quarter of the clients send their body without
// waiting for 100 Continue: the dispatcher reads and drops it to answer 503. This test and its 200 client threads
// share two cores with the dispatcher and its workers: heartbeats may wait seconds for a core, so the workers are
// given 10 missed heartbeats instead of 3 before they count as gone.
TEST(LoadE2eTest, AFloodOfLargeUploadsGetsOnly200Or503AndMemoryStaysBounded) {
  constexpr std::int64_t kBudgetMiB = 64;
  constexpr std::int64_t kSlackBytes = 160 * kMiB;
  auto cluster = Cluster::Start(2, {"--model", "bicubic", "--max-queued-mb", std::to_string(kBudgetMiB),
                                    "--max-pixels", "40000000", "--split-min-pixels", "0", "--heartbeat-misses", "10"});
  ASSERT_NE(cluster, nullptr);
  std::vector<cv::Mat> inputs;
  std::vector<ImageFile> files;
  for (int flip : {1, 0, -1}) {  // three pictures far apart: turned around each axis
    cv::Mat picture;
    cv::flip(TestImage(3840, 2160, 7), picture, flip);
    inputs.push_back(picture);
    files.push_back({"4k-" + std::to_string(flip) + ".png", "image/png", EncodePng(inputs.back())});
  }
  ASSERT_GT(files[0].bytes.size(), size_t{15} << 20) << "noisy enough to be large";
  const ProcessUsage idle = UsageOf(cluster->pid());
  RssSampler sampler(cluster->pid());
  std::mutex mu;
  std::map<int, int> statuses;                  // guarded by mu
  std::vector<std::pair<int, std::string>> ok;  // guarded by mu: input index, output bytes
  int missing_retry_after = 0;                  // guarded by mu
  std::vector<std::thread> clients;
  for (int i = 0; i < 200; ++i) {
    clients.emplace_back([&, i] {
      // A raw client, so that 200 threads share the three bodies instead of copying 20 MB each.
      const std::string& body = files[size_t(i % 3)].bytes;
      const bool wait_for_continue = i % 4 != 0;  // the others send their body before any answer
      dispatcher::testing::RawClient http(static_cast<uint16_t>(cluster->port()), seconds(60));
      const std::string head = "POST /upscale?upscale=2&format=jpeg HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n"
                               "Content-Length: " + std::to_string(body.size()) + "\r\n" +
                               (wait_for_continue ? "Expect: 100-continue\r\n" : "") + "\r\n";
      std::optional<dispatcher::testing::Response> response;
      std::string failure;  // what went wrong when no answer came
      if (!http.Send(head)) failure = "sending the head failed";
      if (failure.empty() && wait_for_continue) {
        response = http.Read(milliseconds(120000));
        if (!response) failure = "no answer to the head";
      }
      if (failure.empty() && (!wait_for_continue || response->status == 100)) {
        if (!http.Send(body)) failure = "sending the body failed: " + std::string(std::strerror(errno));
        const auto sent = std::chrono::steady_clock::now();
        response = http.Read(milliseconds(120000));
        if (!response) {
          const auto waited = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - sent);
          failure += (failure.empty() ? "" : "; ") + std::string("no answer after the body (") +
                     std::to_string(waited.count()) + " ms, " + std::strerror(errno) + ")";
        }
      }
      if (!response) {
        ADD_FAILURE() << "client " << i << " (port " << http.local_port() << ")"
                      << (wait_for_continue ? " (100 Continue)" : "") << ": " << failure;
      }
      std::lock_guard<std::mutex> lock(mu);
      statuses[response ? response->status : -1] += 1;
      if (response && response->status == 200) ok.emplace_back(i % 3, std::move(response->body));
      if (response && response->status == 503 && response->Header("retry-after").empty()) ++missing_retry_after;
    });
  }
  for (auto& t : clients) t.join();
  const std::int64_t peak = sampler.Stop();
  for (const auto& [status, count] : statuses) {
    EXPECT_TRUE(status == 200 || status == 503) << count << " answers of " << status << " (-1: no answer)";
  }
  EXPECT_GE(statuses[200], 1);
  EXPECT_EQ(missing_retry_after, 0);
  const std::int64_t bound = idle.rss_bytes + kBudgetMiB * kMiB + kSlackBytes;
  EXPECT_LE(peak, bound) << "peak resident " << peak / kMiB << " MiB; idle " << idle.rss_bytes / kMiB << " MiB";
  std::printf("[ figures  ] %d of 200 answered 200, the rest 503; dispatcher resident idle %lld MiB, peak %lld MiB "
              "(budget %lld MiB)\n",
              statuses[200], static_cast<long long>(idle.rss_bytes / kMiB), static_cast<long long>(peak / kMiB),
              static_cast<long long>(kBudgetMiB));
  for (const auto& [index, bytes] : ok) {
    const cv::Mat output = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
                                        cv::IMREAD_COLOR);
    ASSERT_EQ(output.cols, 7680);
    ASSERT_EQ(output.rows, 4320);
    const double own = DistanceToInput(output, inputs[size_t(index)]);
    const double other = DistanceToInput(output, inputs[size_t(index + 1) % 3]);
    EXPECT_LT(own * 4, other) << "an answer is the upscale of its own upload (" << own << " vs " << other << ")";
  }
  EXPECT_EQ(cluster->GetJson("/health")["status"], "ok") << "and the service goes on";
}

// A TCP connection to the dispatcher that sent the start of a head and nothing more.
class StalledConnection {
 public:
  explicit StalledConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const timeval wait{0, 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          ::send(fd_, "POST /upscale HTTP/1.1\r\nHost: x\r\nContent-Le", 45, MSG_NOSIGNAL) == 45;
  }
  ~StalledConnection() { ::close(fd_); }
  bool ok() const { return ok_; }
  // True once the server closed its side (whatever it said first).
  bool Closed() {
    char buffer[512];
    while (true) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
      if (n < 0) return false;
    }
  }

 private:
  int fd_;
  bool ok_ = false;
};

TEST(LoadE2eTest, SlowlorisConnectionsAreClosedAtTheHeadDeadlineWhileRealClientsAreServed) {
  ASSERT_GE(AllowOpenFiles(4096), 2100) << "this test needs 2000 sockets";
  auto cluster = Cluster::Start(1, {"--model", "bicubic", "--header-timeout-ms", "4000"});
  ASSERT_NE(cluster, nullptr);
  std::vector<std::unique_ptr<StalledConnection>> stalled;
  std::vector<Clock::time_point> opened;
  // Each connection's life, from its own opening to the server closing it (-1: still open); looked at while
  // the others are opened and the real clients served, so that the figure is not the test's own delay.
  std::vector<double> lived;
  size_t closed = 0;
  const auto observe = [&] {
    for (size_t i = 0; i < stalled.size(); ++i) {
      if (lived[i] >= 0 || !stalled[i]->Closed()) continue;
      lived[i] = std::chrono::duration<double>(Clock::now() - opened[i]).count();
      ++closed;
    }
  };
  for (int i = 0; i < 2000; ++i) {
    stalled.push_back(std::make_unique<StalledConnection>(cluster->port()));
    opened.push_back(Clock::now());
    lived.push_back(-1);
    ASSERT_TRUE(stalled.back()->ok()) << "connection " << i;
    if (i % 50 == 49) observe();
  }
  const double opening_s = std::chrono::duration<double>(opened.back() - opened.front()).count();
  const int open_now = cluster->GetJson("/info")["limits"]["connections"]["open"];
  auto http = NewClient(*cluster, seconds(10));
  const ImageFile image{"small.png", "image/png", EncodePng(TestImage(64, 48))};
  for (int i = 0; i < 5; ++i) {
    auto health = http->Get("/health");
    ASSERT_TRUE(health.ok()) << health.status().ToString();
    EXPECT_EQ(health->status, 200);
    auto upscaled = UpscaleDirect(*http, image, "upscale=2");
    EXPECT_EQ(upscaled.status, 200) << "a real upload is served beside 2000 stalled connections";
    observe();
  }
  const auto give_up = opened.back() + seconds(40);
  while (closed < stalled.size() && Clock::now() < give_up) {
    observe();
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(closed, stalled.size());
  const double shortest = *std::min_element(lived.begin(), lived.end());
  const double longest = *std::max_element(lived.begin(), lived.end());
  EXPECT_GE(shortest, 3.9) << "none closed before the 4 s head deadline";
  std::printf("[ figures  ] 2000 stalled connections opened in %.1f s (%d open at once seen); each closed %.1f to "
              "%.1f s after it opened (deadline 4 s)\n", opening_s, open_now, shortest, longest);
  cluster->WaitForJson("/info", [](const nlohmann::json& info) {
    return info["limits"]["connections"]["open"].get<int>() <= 5;  // released once their linger ends
  }, seconds(30));
}

// Submits `count` async jobs of `image` as `client`; their ids.
std::vector<std::string> SubmitAs(client::HttpClient& http, const std::string& client, const std::string& image,
                                  int count, const std::string& query = "upscale=2&process_size=64") {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    client::HttpRequest request;
    request.method = "POST";
    request.path = "/jobs?" + query;
    request.headers.emplace_back("X-Client-Id", client);
    request.parts.push_back({"file", "in.png", "image/png", image});
    auto response = http.Send(request);
    if (!response.ok() || response->status != 202) {
      ADD_FAILURE() << (response.ok() ? response->body : response.status().ToString());
      break;
    }
    ids.push_back(JsonOf(*response)["id"]);
  }
  return ids;
}

// Client A keeps 500 jobs of 60 ms queued on 2 workers of 2 slots; client B's one async job, and then one
// /upscale, each wait about one job per slot, not A's whole backlog (about 7.5 s).
TEST(LoadE2eTest, AClientWithAQueueOfHundredsDelaysAnotherByAboutOneJobPerSlot) {
  auto cluster = Cluster::Start(2, {"--model", "simulated:60"});
  ASSERT_NE(cluster, nullptr);
  auto http = NewClient(*cluster);
  const std::string image = EncodePng(TestImage(64, 48));
  const std::vector<std::string> backlog = SubmitAs(*http, "client-a", image, 500);
  ASSERT_EQ(backlog.size(), 500u);
  std::this_thread::sleep_for(milliseconds(300));  // A's jobs fill the pool
  const auto start = Clock::now();
  const std::string id = SubmitAs(*http, "client-b", image, 1).at(0);
  const nlohmann::json job = WaitForJob(*http, id, {}, seconds(30));
  const double async_s = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_EQ(job["status"], "succeeded") << job.dump();
  client::HttpRequest sync;
  sync.method = "POST";
  sync.path = "/upscale?upscale=2&process_size=64";
  sync.headers.emplace_back("X-Client-Id", "client-b");
  sync.parts.push_back({"file", "in.png", "image/png", image});
  const auto sync_start = Clock::now();
  auto answer = http->Send(sync);
  const double sync_s = std::chrono::duration<double>(Clock::now() - sync_start).count();
  ASSERT_TRUE(answer.ok() && answer->status == 200) << (answer.ok() ? answer->body : answer.status().ToString());
  const int a_waiting = cluster->GetJson("/stats")["clients"][0]["waiting"];
  std::printf("[ figures  ] B's async job took %.3f s and its /upscale %.3f s behind A's 500 jobs of 60 ms "
              "(4 slots; A's backlog alone is %.1f s); A still had %d waiting\n",
              async_s, sync_s, 500 * 0.060 / 4, a_waiting);
  EXPECT_GT(a_waiting, 300) << "A's backlog was still there";
  EXPECT_LT(async_s, 1.5) << "generous: about 0.1 s expected";
  EXPECT_LT(sync_s, 1.5);
}

TEST(LoadE2eTest, AClientOverItsLimitGets429AndOthersGoOn) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:200", "--max-client-jobs", "5"});
  ASSERT_NE(cluster, nullptr);
  auto http = NewClient(*cluster);
  const std::string image = EncodePng(TestImage(64, 48));
  ASSERT_EQ(SubmitAs(*http, "greedy", image, 5).size(), 5u);
  client::HttpRequest request;
  request.method = "POST";
  request.path = "/jobs?upscale=2";
  request.headers.emplace_back("X-Client-Id", "greedy");
  request.parts.push_back({"file", "in.png", "image/png", image});
  auto refused = http->Send(request);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_EQ(JsonOf(*refused)["code"], "too_many_requests");
  EXPECT_FALSE(refused->Header("retry-after").empty());
  EXPECT_EQ(SubmitAs(*http, "modest", image, 1).size(), 1u) << "another client is accepted";
  request.headers = {{"X-Client-Id", "bad id with spaces"}};
  auto malformed = http->Send(request);
  ASSERT_TRUE(malformed.ok());
  EXPECT_EQ(malformed->status, 400) << malformed->body;
}

// Workers announce a memory budget (--worker-memory-mb here): an image whose job would need more than any worker's
// whole budget is refused with 413 before it is sent; jobs that fit one at a time but not together run one after
// the other on a worker with free slots.
TEST(LoadE2eTest, WorkersAreSentNoMoreThanTheirMemoryBudget) {
  auto cluster = Cluster::Start(1, {"--model", "simulated:100", "--worker-memory-mb", "256",
                                    "--split-min-pixels", "0"});
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->GetJson("/info")["workers"][0]["memory_budget_bytes"], std::int64_t{256} << 20);
  auto http = NewClient(*cluster);
  const ImageFile too_big{"big.png", "image/png", EncodePng(TestImage(2048, 1536))};
  auto refused = UpscaleDirect(*http, too_big, "upscale=2&process_size=256");
  EXPECT_EQ(refused.status, 413) << refused.body;
  EXPECT_NE(refused.body.find("memory budget"), std::string::npos) << refused.body;
  // Two images of about 150 MiB each on one worker of two slots: both are answered, one after the other.
  const ImageFile large{"large.png", "image/png", EncodePng(TestImage(1600, 1100))};
  std::vector<std::thread> both;
  std::vector<long> statuses(2);
  for (int i = 0; i < 2; ++i) {
    both.emplace_back([&, i] {
      auto client = NewClient(*cluster);
      statuses[size_t(i)] = UpscaleDirect(*client, large, "upscale=2&process_size=256").status;
    });
  }
  bool seen_one_at_a_time = false;
  for (int i = 0; i < 100 && !seen_one_at_a_time; ++i) {
    const nlohmann::json stats = cluster->GetJson("/stats");
    seen_one_at_a_time = stats["in_flight"] == 1 && stats["queue_depth"] == 1;
    std::this_thread::sleep_for(milliseconds(50));
  }
  for (auto& t : both) t.join();
  EXPECT_TRUE(seen_one_at_a_time) << "the second waited in the queue while the worker had a free slot";
  EXPECT_EQ(statuses, (std::vector<long>{200, 200}));
}

}  // namespace
}  // namespace tsdsr::testing
