// The JSON of GET /health, /info and /stats, built from a PoolSnapshot. Shapes follow the Python server
// this service replaces (same field names where it had them) plus the pool-wide fields. Pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dispatcher/pool_snapshot.h"

namespace tsdsr::dispatcher {

struct ServiceInfo {
  std::string name = "TSD-SR Serve";
  std::string version;
  std::string model;  // the spec local workers were started with
  int default_upscale = 2;
  int default_process_size = 128;
  int expected_workers = 0;  // local workers the supervisor runs
  bool draining = false;
};

// {"status": "ok"|"degraded"|"unavailable", "models_loaded": {...}, "workers": {"ready","busy","total"}}.
// "unavailable" when no worker can serve; "degraded" when some expected or registered worker cannot.
nlohmann::json HealthJson(const PoolSnapshot& pool, const ServiceInfo& service);
// True when /health answers 200: at least one worker can serve.
bool IsHealthy(const PoolSnapshot& pool);

nlohmann::json InfoJson(const PoolSnapshot& pool, const ServiceInfo& service);
nlohmann::json StatsJson(const PoolSnapshot& pool, const ServiceInfo& service);

}  // namespace tsdsr::dispatcher
