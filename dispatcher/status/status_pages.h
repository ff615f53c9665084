// The JSON of GET /health, /info and /stats, built from a PoolSnapshot. Shapes follow the Python server
// this service replaces (same field names where it had them) plus the pool-wide fields. Pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dispatcher/status/pool_snapshot.h"

namespace tsdsr::dispatcher {

struct ServiceInfo {
  std::string name = "TSD-SR Serve";
  std::string version;
  std::string model;  // the spec local workers were started with
  int default_upscale = 2;
  int default_process_size = 128;
  int expected_workers = 0;  // local workers the supervisor runs
  std::int64_t local_restarts = 0;  // times the supervisor restarted one
  bool draining = false;
};

// Every job status, in lifecycle order: what /stats and /metrics list (with 0 for a status no job has).
inline constexpr std::array<const char*, 5> kJobStatuses = {"queued", "running", "succeeded", "failed", "cancelled"};

// The job store as /stats, /info and /metrics show it (filled by the jobs layer).
struct JobsReport {
  std::map<std::string, std::int64_t> by_state;  // stored jobs by state name ("queued", "succeeded", ...)
  std::int64_t stored_results = 0;               // outputs on disk
  std::int64_t result_bytes = 0;                 // their size
  std::int64_t input_bytes = 0;                  // uploads of jobs not finished
  std::int64_t max_result_bytes = 0;             // --result-max-gb; 0 = no cap
  std::int64_t result_ttl_ms = 0;                // --result-ttl; 0 = outputs never expire
  std::int64_t waiting = 0;                      // accepted jobs not handed to the pool yet
  std::int64_t in_pool = 0;                      // handed to the pool, not answered
  std::map<std::string, std::int64_t> unfinished_by_client;  // async jobs accepted and not finished, by client
  std::string data_dir;
  std::int64_t available_bytes = -1;             // free space of the data dir; -1 = unknown
};

// The front door under load: the memory held for requests and jobs against its budget, open connections against
// their maximum, and what was refused for either.
struct LoadReport {
  std::int64_t held_bytes = 0;      // request bodies, responses and job inputs in memory now
  std::int64_t max_held_bytes = 0;  // the budget (--max-queued-mb); 0 = none
  std::int64_t peak_held_bytes = 0;
  std::int64_t refused_memory = 0;  // requests refused for the budget, since start
  std::int64_t open_connections = 0;
  std::int64_t max_connections = 0;
  std::int64_t refused_connections = 0;  // connections refused over the maximum, since start
  std::int64_t max_client_jobs = 0;      // --max-client-jobs; 0 = no limit
};

// Jobs waiting per client (the pool's queue and the async jobs accepted): the `top` deepest, deepest first, and the
// rest summed as "(other)" so that the list (and the metric's labels) stay bounded.
std::vector<std::pair<std::string, std::int64_t>> ClientDepths(const PoolSnapshot& pool, const JobsReport& jobs,
                                                               size_t top);

// {"memory": {"held_bytes", "max_bytes", "peak_bytes", "refused"}, "connections": {"open", "max", "refused"},
//  "max_client_jobs"}.
nlohmann::json LoadJson(const LoadReport& load);
// [{"client", "waiting"}, ...].
nlohmann::json ClientsJson(const std::vector<std::pair<std::string, std::int64_t>>& clients);

// {"by_status": {...every state...}, "waiting", "in_pool", "store": {"data_dir", "results", "result_bytes",
//  "input_bytes", "max_bytes", "result_ttl_s", "available_bytes"}}.
nlohmann::json JobsJson(const JobsReport& jobs);

// {"status": "ok"|"degraded"|"unavailable", "models_loaded": {...}, "workers": {"ready","busy","total"}}.
// "unavailable" when no worker can serve; "degraded" when some expected or registered worker cannot.
nlohmann::json HealthJson(const PoolSnapshot& pool, const ServiceInfo& service);
// True when /health answers 200: at least one worker can serve.
bool IsHealthy(const PoolSnapshot& pool);

// Both carry JobsJson(jobs) as "jobs"; /info has LoadJson(load) as "limits", /stats as "load" with the 20 deepest
// clients (ClientDepths) as "clients".
nlohmann::json InfoJson(const PoolSnapshot& pool, const ServiceInfo& service, const JobsReport& jobs,
                        const LoadReport& load);
nlohmann::json StatsJson(const PoolSnapshot& pool, const ServiceInfo& service, const JobsReport& jobs,
                         const LoadReport& load);

}  // namespace tsdsr::dispatcher
