#include "dispatcher/status/status_pages.h"

#include <gtest/gtest.h>

namespace tsdsr::dispatcher {
namespace {

WorkerView Worker(const std::string& id, const std::string& status, int in_flight) {
  WorkerView w;
  w.description.id = id;
  w.description.status = status;
  w.description.device = "cuda:0";
  w.description.device_name = "NVIDIA H100";
  w.description.model_name = "bicubic";
  w.description.dtype = "float16";
  w.description.scales = {2, 4};
  w.live.memory.total = 80'000'000'000;
  w.live.memory.free = 60'000'000'000;
  w.in_flight = in_flight;
  return w;
}

TEST(StatusPagesTest, HealthCountsReadyBusyAndTotal) {
  PoolSnapshot pool;
  pool.workers = {Worker("a", "ok", 0), Worker("b", "ok", 2), Worker("c", "error", 0)};
  ServiceInfo service;
  auto health = HealthJson(pool, service);
  EXPECT_EQ(health["status"], "degraded") << "a worker cannot serve";
  EXPECT_EQ(health["workers"]["ready"], 1);
  EXPECT_EQ(health["workers"]["busy"], 1);
  EXPECT_EQ(health["workers"]["total"], 3);
  EXPECT_EQ(health["models_loaded"]["bicubic"], true);
  EXPECT_EQ(health["models_loaded"]["device"], "cuda:0");
  EXPECT_TRUE(IsHealthy(pool));
}

TEST(StatusPagesTest, HealthStatesFollowThePool) {
  PoolSnapshot pool;
  ServiceInfo service;
  EXPECT_EQ(HealthJson(pool, service)["status"], "unavailable");
  EXPECT_FALSE(IsHealthy(pool));
  pool.workers = {Worker("a", "ok", 0)};
  EXPECT_EQ(HealthJson(pool, service)["status"], "ok");
  service.expected_workers = 2;
  EXPECT_EQ(HealthJson(pool, service)["status"], "degraded") << "a local worker is missing";
}

TEST(StatusPagesTest, InfoAndStatsCarryThePythonServersFieldsAndPerWorkerDetail) {
  PoolSnapshot pool;
  pool.workers = {Worker("a", "ok", 1)};
  pool.scales = {2, 4};
  pool.queue_depth = 3;
  pool.in_flight = 1;
  pool.jobs_ok = 7;
  ServiceInfo service;
  service.version = "1.2.3";
  JobsReport jobs;
  jobs.by_state = {{"queued", 2}, {"succeeded", 5}};
  jobs.stored_results = 5;
  jobs.result_bytes = 12345;
  jobs.data_dir = "/var/lib/tsdsr";
  LoadReport load;
  load.held_bytes = 1000;
  load.max_held_bytes = 4000;
  load.open_connections = 12;
  load.max_connections = 10000;
  auto info = InfoJson(pool, service, jobs, load);
  EXPECT_EQ(info["name"], "TSD-SR Serve");
  EXPECT_EQ(info["cuda_available"], true);
  EXPECT_EQ(info["gpu"], "NVIDIA H100");
  EXPECT_DOUBLE_EQ(info["gpu_memory_gb"].get<double>(), 80.0);
  ASSERT_EQ(info["workers"].size(), 1u);
  EXPECT_EQ(info["workers"][0]["id"], "a");
  EXPECT_EQ(info["scales"], nlohmann::json({2, 4}));
  EXPECT_EQ(info["jobs"]["store"]["data_dir"], "/var/lib/tsdsr");
  EXPECT_EQ(info["limits"]["memory"]["held_bytes"], 1000);
  EXPECT_EQ(info["limits"]["memory"]["max_bytes"], 4000);
  EXPECT_EQ(info["limits"]["connections"]["open"], 12);
  auto stats = StatsJson(pool, service, jobs, load);
  EXPECT_EQ(stats["load"]["connections"]["max"], 10000);
  EXPECT_EQ(stats["queue_depth"], 3);
  EXPECT_EQ(stats["in_flight"], 1);
  EXPECT_EQ(stats["jobs_done"], 7);
  EXPECT_DOUBLE_EQ(stats["gpu_memory_free_gb"].get<double>(), 60.0);
  EXPECT_EQ(stats["dtype"], "float16");
  EXPECT_TRUE(stats.contains("timestamp"));
  EXPECT_EQ(stats["jobs"]["by_status"]["queued"], 2);
  EXPECT_EQ(stats["jobs"]["by_status"]["succeeded"], 5);
  EXPECT_EQ(stats["jobs"]["by_status"]["failed"], 0) << "every state is listed";
  EXPECT_EQ(stats["jobs"]["store"]["results"], 5);
  EXPECT_EQ(stats["jobs"]["store"]["result_bytes"], 12345);
  EXPECT_TRUE(stats["jobs"]["store"]["available_bytes"].is_null()) << "unknown is null, not a sentinel";
}

TEST(StatusPagesTest, InfoListsDepartedWorkersAndLocalRestarts) {
  PoolSnapshot pool;
  pool.workers = {Worker("a", "ok", 0)};
  DepartedWorker gone;
  gone.description = Worker("b", "ok", 0).description;
  gone.description.host = "gpu-node-2";
  gone.reason = "no heartbeat for 3 intervals";
  gone.gone_unix_ms = 1'796'000'000'000;  // 2026-11-30T00:53:20Z
  gone.jobs_done = 42;
  pool.departed = {gone};
  ServiceInfo service;
  service.expected_workers = 2;
  service.local_restarts = 3;
  auto info = InfoJson(pool, service, JobsReport{}, LoadReport{});
  ASSERT_EQ(info["departed_workers"].size(), 1u);
  const auto& departed = info["departed_workers"][0];
  EXPECT_EQ(departed["id"], "b");
  EXPECT_EQ(departed["host"], "gpu-node-2");
  EXPECT_EQ(departed["gpu"], "NVIDIA H100");
  EXPECT_EQ(departed["reason"], "no heartbeat for 3 intervals");
  EXPECT_EQ(departed["gone"], "2026-11-30T00:53:20Z");
  EXPECT_EQ(departed["jobs_done"], 42);
  EXPECT_EQ(info["local_workers"], nlohmann::json({{"expected", 2}, {"restarts", 3}}));
  EXPECT_EQ(InfoJson(PoolSnapshot{}, service, JobsReport{}, LoadReport{})["departed_workers"],
            nlohmann::json::array())
      << "an empty list, not null";
}

TEST(StatusPagesTest, ClientDepthsAreTheDeepestAndTheRestSummed) {
  PoolSnapshot pool;
  pool.queued_by_client = {{"a", 3}, {"b", 1}, {"c", 5}};
  JobsReport jobs;
  jobs.unfinished_by_client = {{"a", 10}, {"d", 2}};
  using Depths = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(ClientDepths(pool, jobs, 10), (Depths{{"a", 13}, {"c", 5}, {"d", 2}, {"b", 1}}));
  EXPECT_EQ(ClientDepths(pool, jobs, 2), (Depths{{"a", 13}, {"c", 5}, {"(other)", 3}}));
  EXPECT_EQ(ClientsJson(ClientDepths(pool, jobs, 1))[1], nlohmann::json({{"client", "(other)"}, {"waiting", 8}}));
}

}  // namespace
}  // namespace tsdsr::dispatcher
