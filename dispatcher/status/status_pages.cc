#include "dispatcher/status/status_pages.h"

#include "common/time_text.h"

namespace tsdsr::dispatcher {
namespace {

using nlohmann::json;

constexpr double kGb = 1e9;

// The worker whose devices fill the single-GPU fields the Python server had.
const WorkerView* FirstWorker(const PoolSnapshot& pool) {
  for (const auto& w : pool.workers) {
    if (w.description.status == "ok") return &w;
  }
  return pool.workers.empty() ? nullptr : &pool.workers.front();
}

const proto::MemoryStats& MemoryOf(const WorkerView& w) {
  return w.live.memory.total > 0 ? w.live.memory : w.description.memory;
}

json MemoryJson(const proto::MemoryStats& m) {
  return json{{"total_gb", m.total / kGb},
              {"reserved_gb", m.reserved / kGb},
              {"allocated_gb", m.allocated / kGb},
              {"free_gb", m.free / kGb}};
}

json WorkerJson(const WorkerView& w) {
  const auto& d = w.description;
  return json{{"id", d.id},
              {"host", d.host},
              {"pid", d.pid},
              {"device", d.device},
              {"gpu", d.device_name},
              {"model", d.model},
              {"model_name", d.model_name},
              {"scales", d.scales},
              {"encoders", d.encoders},
              {"dtype", d.dtype},
              {"slots", d.slots},
              {"memory_budget_bytes", d.memory_budget},
              {"status", d.status},
              {"error", d.error},
              {"in_flight", w.in_flight},
              {"jobs_done", w.jobs_done},
              {"live", {{"busy", w.live.busy}, {"queued", w.live.queued}, {"jobs_done", w.live.jobs_done},
                        {"jobs_failed", w.live.jobs_failed}}},
              {"utilization", w.live.utilization},
              {"memory", MemoryJson(MemoryOf(w))},
              {"last_seen_ms_ago", w.last_seen_ms_ago},
              {"uptime_s", w.uptime_s},
              {"version", d.version}};
}

json DepartedJson(const std::vector<DepartedWorker>& departed) {
  json list = json::array();
  for (const auto& w : departed) {
    const auto& d = w.description;
    list.push_back({{"id", d.id},
                    {"host", d.host},
                    {"pid", d.pid},
                    {"device", d.device},
                    {"gpu", d.device_name},
                    {"model_name", d.model_name},
                    {"reason", w.reason},
                    {"gone", FormatUtc(w.gone_unix_ms, /*millis=*/false)},
                    {"jobs_done", w.jobs_done}});
  }
  return list;
}

}  // namespace

bool IsHealthy(const PoolSnapshot& pool) { return pool.usable_workers() > 0; }

json JobsJson(const JobsReport& jobs) {
  json by_status = json::object();
  for (const char* state : kJobStatuses) {
    auto it = jobs.by_state.find(state);
    by_status[state] = it == jobs.by_state.end() ? 0 : it->second;
  }
  return json{{"by_status", by_status},
              {"waiting", jobs.waiting},
              {"in_pool", jobs.in_pool},
              {"store",
               {{"data_dir", jobs.data_dir},
                {"results", jobs.stored_results},
                {"result_bytes", jobs.result_bytes},
                {"input_bytes", jobs.input_bytes},
                {"max_bytes", jobs.max_result_bytes},
                {"result_ttl_s", jobs.result_ttl_ms / 1000},
                {"available_bytes", jobs.available_bytes >= 0 ? json(jobs.available_bytes) : json(nullptr)}}}};
}

json HealthJson(const PoolSnapshot& pool, const ServiceInfo& service) {
  int ready = 0;
  int busy = 0;
  json models = json::object();
  for (const auto& w : pool.workers) {
    if (w.description.status != "ok") continue;
    (w.in_flight > 0 ? busy : ready) += 1;
    models[w.description.model_name] = true;
  }
  const int usable = ready + busy;
  const int total = static_cast<int>(pool.workers.size());
  std::string status = "ok";
  if (usable == 0) {
    status = "unavailable";
  } else if (usable < total || usable < service.expected_workers || service.draining) {
    status = "degraded";
  }
  if (const WorkerView* first = FirstWorker(pool)) {
    models["device"] = first->description.device;
    models["dtype"] = first->description.dtype;
  }
  return json{{"status", status},
              {"models_loaded", models},
              {"workers", {{"ready", ready}, {"busy", busy}, {"total", total}, {"expected", service.expected_workers}}},
              {"queue_depth", pool.queue_depth},
              {"draining", service.draining}};
}

json InfoJson(const PoolSnapshot& pool, const ServiceInfo& service, const JobsReport& jobs, const LoadReport& load) {
  json workers = json::array();
  json devices = json::array();
  for (const auto& w : pool.workers) {
    workers.push_back(WorkerJson(w));
    devices.push_back(w.description.device);
  }
  const WorkerView* first = FirstWorker(pool);
  bool cuda = false;
  for (const auto& w : pool.workers) cuda = cuda || OnGpu(w.description);
  return json{{"name", service.name},
              {"version", service.version},
              {"description", "One-step diffusion super-resolution served from a pool of GPU workers"},
              {"model", service.model},
              {"scales", pool.scales},
              {"default_upscale", service.default_upscale},
              {"default_process_size", service.default_process_size},
              {"device", first ? first->description.device : ""},
              {"cuda_available", cuda},
              {"gpu", first && cuda ? first->description.device_name : "N/A"},
              {"gpu_memory_gb", first && cuda ? MemoryOf(*first).total / kGb : 0.0},
              {"devices", devices},
              {"workers", workers},
              {"departed_workers", DepartedJson(pool.departed)},
              {"local_workers", {{"expected", service.expected_workers}, {"restarts", service.local_restarts}}},
              {"jobs", JobsJson(jobs)},
              {"limits", LoadJson(load)},
              {"endpoints",
               {{"POST /upscale", "Upscale one image (multipart field 'file' or a raw image body)"},
                {"POST /upscale_batch", "Upscale many images (multipart fields 'files'); outputs kept for download"},
                {"POST /jobs", "Submit a durable asynchronous job (202 and its id)"},
                {"GET /jobs", "Jobs, newest first (?status=&limit=&after=)"},
                {"GET /jobs/{id}", "A job's status and progress"},
                {"GET /jobs/{id}/events", "A job's status and progress as server-sent events"},
                {"GET /jobs/{id}/result", "A finished job's output"},
                {"DELETE /jobs/{id}", "Cancel a queued or running job"},
                {"GET /health", "Pool health; 200 when a worker can serve"},
                {"GET /health/live", "Liveness probe"},
                {"GET /health/ready", "Readiness probe"},
                {"GET /info", "Service and worker information"},
                {"GET /stats", "Queue, jobs and device memory"},
                {"GET /metrics", "Prometheus metrics"},
                {"GET /openapi.yaml", "This API described in OpenAPI 3"},
                {"GET /", "The web console (its files under /ui/)"}}}};
}

std::vector<std::pair<std::string, std::int64_t>> ClientDepths(const PoolSnapshot& pool, const JobsReport& jobs,
                                                               size_t top) {
  std::map<std::string, std::int64_t> waiting(jobs.unfinished_by_client.begin(), jobs.unfinished_by_client.end());
  for (const auto& [client, depth] : pool.queued_by_client) waiting[client] += static_cast<std::int64_t>(depth);
  std::vector<std::pair<std::string, std::int64_t>> sorted(waiting.begin(), waiting.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (sorted.size() > top) {
    std::int64_t other = 0;
    for (size_t i = top; i < sorted.size(); ++i) other += sorted[i].second;
    sorted.resize(top);
    sorted.emplace_back("(other)", other);
  }
  return sorted;
}

json LoadJson(const LoadReport& load) {
  return json{{"memory",
               {{"held_bytes", load.held_bytes},
                {"max_bytes", load.max_held_bytes},
                {"peak_bytes", load.peak_held_bytes},
                {"refused", load.refused_memory}}},
              {"connections",
               {{"open", load.open_connections}, {"max", load.max_connections}, {"refused", load.refused_connections}}},
              {"max_client_jobs", load.max_client_jobs}};
}

json ClientsJson(const std::vector<std::pair<std::string, std::int64_t>>& clients) {
  json list = json::array();
  for (const auto& [client, waiting] : clients) list.push_back({{"client", client}, {"waiting", waiting}});
  return list;
}

json StatsJson(const PoolSnapshot& pool, const ServiceInfo& service, const JobsReport& jobs, const LoadReport& load) {
  json workers = json::array();
  for (const auto& w : pool.workers) workers.push_back(WorkerJson(w));
  json stats{{"timestamp", FormatUtc(UnixMillisNow(), /*millis=*/false)},
             {"queue_depth", pool.queue_depth},
             {"in_flight", pool.in_flight},
             {"jobs_done", pool.jobs_ok},
             {"jobs_failed", pool.jobs_failed},
             {"workers_lost", pool.workers_lost},
             {"draining", service.draining},
             {"workers", workers},
             {"jobs", JobsJson(jobs)},
             {"load", LoadJson(load)},
             {"clients", ClientsJson(ClientDepths(pool, jobs, 20))}};
  if (const WorkerView* first = FirstWorker(pool)) {
    const auto& m = MemoryOf(*first);
    stats["device"] = first->description.device;
    stats["dtype"] = first->description.dtype;
    stats["gpu_name"] = first->description.device_name;
    stats["gpu_memory_total_gb"] = m.total / kGb;
    stats["gpu_memory_reserved_gb"] = m.reserved / kGb;
    stats["gpu_memory_allocated_gb"] = m.allocated / kGb;
    stats["gpu_memory_free_gb"] = m.free / kGb;
  }
  return stats;
}

}  // namespace tsdsr::dispatcher
