// A job as a client sees it: the stored record, plus what only the running dispatcher knows (progress, place in
// line), and its JSON for GET /jobs/{id}, GET /jobs and the server-sent events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dispatcher/jobs/job_record.h"

namespace tsdsr::dispatcher {

struct JobView {
  JobRecord record;
  int done = 0;                    // tiles done, from the worker's PROGRESS; equal to total once succeeded
  int total = 0;                   // tiles in all; 0 until a worker reports
  std::optional<size_t> position;  // queued jobs: async jobs that go to the pool before it (0 once in the pool)
};

// "/jobs/<id>" and "/jobs/<id>/result".
std::string JobUrl(const std::string& id);
std::string ResultUrl(const std::string& id);

// {"id", "kind", "status", "position", "progress": {"done", "total"}, "created", "started", "finished", "filename",
//  "params": {"upscale", "process_size", "format", "priority", "timeout_ms"}, "input_size", "output_size",
//  "worker", "attempts", "error", "error_code", "result_url", "result", "expires", "url"}: times in ISO 8601 UTC,
// null where not known yet. `result_ttl_ms` gives "expires" for a stored result.
nlohmann::json JobViewJson(const JobView& view, std::int64_t result_ttl_ms);

}  // namespace tsdsr::dispatcher
