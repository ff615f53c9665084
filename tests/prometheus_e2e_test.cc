// Monitoring end to end: Debian's Prometheus server scrapes a dispatcher with two workers, loaded with the
// project's recording and alert rules (deploy/prometheus). After a burst of good and bad requests, what
// Prometheus stored adds up (requests = successes + each failure reason), per-worker series carry their
// worker and device labels, GPU series are absent on CPU workers, every rule evaluates, every query of the
// Grafana dashboard is accepted, and `promtool check metrics` finds nothing to say about /metrics.
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/harness.h"

namespace tsdsr::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A Prometheus server of its own on a free port, scraping `target` (host:port) every second as job "tsdsr".
class PrometheusServer {
 public:
  PrometheusServer(const TempDir& dir, const std::string& target) : port_(FreePort()) {
    const std::string rules = std::string(TSDSR_SOURCE_DIR) + "/deploy/prometheus/";
    std::ofstream(dir.File("prometheus.yml"))
        << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        << "rule_files: ['" << rules << "recording.yml', '" << rules << "alerts.yml']\n"
        << "scrape_configs:\n  - job_name: tsdsr\n    static_configs: [{targets: ['" << target << "']}]\n";
    const std::string command = "exec prometheus --config.file=" + dir.File("prometheus.yml") +
                                " --storage.tsdb.path=" + dir.File("tsdb") + " --web.listen-address=127.0.0.1:" +
                                std::to_string(port_) + " --log.level=warn 2>" + dir.File("prometheus.log");
    process_ = std::make_unique<TestProcess>(std::vector<std::string>{"/bin/sh", "-c", command});
    auto http = client::HttpClient::Create("http://127.0.0.1:" + std::to_string(port_), std::chrono::seconds(10));
    EXPECT_TRUE(http.ok()) << http.status().ToString();
    if (http.ok()) http_ = std::move(*http);
  }

  // True once the server answers /-/ready, within `timeout`.
  bool WaitReady(std::chrono::seconds timeout) {
    for (const auto give_up = Clock::now() + timeout; Clock::now() < give_up;) {
      auto ready = http_->Get("/-/ready");
      if (ready.ok() && ready->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  // The JSON answer of GET `path` (an /api/v1 path); fails the test unless it says "success".
  nlohmann::json Api(const std::string& path) {
    auto response = http_->Get(path);
    if (!response.ok()) {
      ADD_FAILURE() << path << ": " << response.status().ToString();
      return {};
    }
    auto body = nlohmann::json::parse(response->body, nullptr, false);
    EXPECT_EQ(body.value("status", ""), "success") << path << ": " << response->body;
    return body;
  }
  // The vector result of an instant query.
  nlohmann::json Query(const std::string& promql) {
    return Api("/api/v1/query?query=" + client::QueryEscape(promql))["data"]["result"];
  }
  // The value of a query whose result is one series; -1 when it has none.
  double Scalar(const std::string& promql) {
    const nlohmann::json result = Query(promql);
    return result.size() == 1 ? std::stod(result[0]["value"][1].get<std::string>()) : -1;
  }
  // Polls `promql` until its one value is `expected`; the last value after `timeout`.
  double WaitFor(const std::string& promql, double expected, std::chrono::seconds timeout) {
    double value = -1;
    for (const auto give_up = Clock::now() + timeout; Clock::now() < give_up;) {
      value = Scalar(promql);
      if (value == expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return value;
  }

 private:
  int port_;
  std::unique_ptr<TestProcess> process_;
  std::unique_ptr<client::HttpClient> http_;
};

// Every query of the Grafana dashboard (panels, and panels inside rows).
std::vector<std::string> DashboardQueries() {
  std::ifstream in(std::string(TSDSR_SOURCE_DIR) + "/deploy/grafana/tsdsr-dashboard.json");
  const nlohmann::json dashboard = nlohmann::json::parse(in, nullptr, false);
  std::vector<std::string> queries;
  std::vector<nlohmann::json> panels(dashboard["panels"].begin(), dashboard["panels"].end());
  for (size_t i = 0; i < panels.size(); ++i) {
    for (const auto& inner : panels[i].value("panels", nlohmann::json::array())) panels.push_back(inner);
    for (const auto& target : panels[i].value("targets", nlohmann::json::array())) {
      if (target.contains("expr")) queries.push_back(target["expr"]);
    }
  }
  return queries;
}

// Sends the burst: `good` images, and bad ones of two kinds; counts the answers by HTTP status.
std::map<long, int> SendBurst(Cluster& cluster, int good) {
  const std::string png = EncodePng(TestImage(200, 150));
  std::map<long, int> answers;
  std::mutex mu;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      auto http = client::HttpClient::Create(cluster.base_url(), std::chrono::seconds(60));
      ASSERT_TRUE(http.ok());
      for (int i = c; i < good + 8; i += 4) {
        auto r = i < good ? (*http)->PostRaw("/upscale?upscale=2&process_size=64", "image/png", png)
                 : i % 2  ? (*http)->PostRaw("/upscale", "image/png", "not an image at all")
                          : (*http)->PostRaw("/upscale", "text/plain", "words");
        std::lock_guard<std::mutex> lock(mu);
        answers[r.ok() ? r->status : -1] += 1;
      }
    });
  }
  for (auto& t : clients) t.join();
  return answers;
}

TEST(PrometheusE2eTest, ARealPrometheusScrapesTheDispatcherAndItsRulesAndDashboardWork) {
  if (RunCommand("command -v prometheus promtool >/dev/null") != 0) {
    GTEST_SKIP() << "prometheus and promtool are not installed: run scripts/setup";
  }
  TempDir dir;
  auto cluster = Cluster::Start(2, {"--model", "simulated:20"});
  ASSERT_NE(cluster, nullptr);
  PrometheusServer prometheus(dir, "127.0.0.1:" + std::to_string(cluster->port()));
  ASSERT_TRUE(prometheus.WaitReady(std::chrono::seconds(60))) << "see " << dir.File("prometheus.log");

  const std::map<long, int> answers = SendBurst(*cluster, 16);
  EXPECT_EQ(answers, (std::map<long, int>{{200, 16}, {400, 4}, {415, 4}}));
  EXPECT_EQ(prometheus.WaitFor("sum(tsdsr_http_requests_total{endpoint=\"/upscale\"})", 24, std::chrono::seconds(30)),
            24);
  // requests = successes + each failure reason, as Prometheus stored them
  const nlohmann::json by_code = prometheus.Query("sum by (code) (tsdsr_http_requests_total{endpoint=\"/upscale\"})");
  std::map<long, int> stored;
  for (const auto& series : by_code) {
    stored[std::stol(series["metric"]["code"].get<std::string>())] = std::stoi(series["value"][1].get<std::string>());
  }
  EXPECT_EQ(stored, answers);
  EXPECT_EQ(prometheus.WaitFor("sum(tsdsr_worker_jobs_total{outcome=\"ok\"})", 16, std::chrono::seconds(30)), 16);

  // Per-worker series: two workers, each with its name and device.
  std::set<std::string> workers;
  for (const auto& series : prometheus.Query("tsdsr_worker_progress_total")) {
    EXPECT_EQ(series["metric"].value("device", ""), "cpu") << series.dump();
    EXPECT_GT(std::stod(series["value"][1].get<std::string>()), 0) << "tiles were computed: " << series.dump();
    workers.insert(series["metric"].value("worker", ""));
  }
  EXPECT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers.count(""), 0u);
  EXPECT_EQ(prometheus.Query("tsdsr_worker_busy").size(), 2u);
  EXPECT_TRUE(prometheus.Query("{__name__=~\"tsdsr_worker_gpu_.*\"}").empty()) << "no GPU, no GPU series";
  EXPECT_EQ(prometheus.Scalar("count(tsdsr_build_info{version!=\"\",revision!=\"\"})"), 1);

  // Every rule evaluated without error; every dashboard query is accepted.
  const nlohmann::json groups = prometheus.Api("/api/v1/rules")["data"]["groups"];
  EXPECT_FALSE(groups.empty());
  for (const auto& group : groups) {
    for (const auto& rule : group["rules"]) EXPECT_NE(rule.value("health", ""), "err") << rule.dump();
  }
  const std::vector<std::string> queries = DashboardQueries();
  EXPECT_GT(queries.size(), 10u);
  for (const std::string& query : queries) prometheus.Query(query);

  std::ofstream(dir.File("metrics.txt")) << cluster->http().Get("/metrics")->body;
  std::string lint;
  EXPECT_EQ(RunCommand("promtool check metrics < " + dir.File("metrics.txt") + " 2>&1", &lint), 0) << lint;
  EXPECT_EQ(lint, "") << "promtool check metrics has something to say";
}

}  // namespace
}  // namespace tsdsr::testing
