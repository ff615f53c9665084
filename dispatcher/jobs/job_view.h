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
  std::int64_t done = 0;           // tiles (frames of a video) done, from the workers; equal to total once succeeded
  std::int64_t total = 0;          // tiles (frames) in all; 0 until known
  std::optional<size_t> position;  // queued jobs: async jobs that go to the pool before it (0 once in the pool)
  double frames_per_second = 0;    // videos being made: the pace so far; 0 when unknown
  double eta_seconds = 0;          // and the time left at that pace
  int chunks = 0;                  // videos being made: chunks in all,
  int chunks_stored = 0;           // and those whose segment is stored
};

// "/jobs/<id>" and "/jobs/<id>/result".
std::string JobUrl(const std::string& id);
std::string ResultUrl(const std::string& id);

// {"id", "kind", "status", "position", "progress": {"done", "total"}, "created", "started", "finished", "filename",
//  "params": {"upscale", "process_size", "format", "priority", "timeout_ms"}, "input_size", "output_size",
//  "worker", "attempts", "error", "error_code", "result_url", "result", "expires", "url"}: times in ISO 8601 UTC,
// null where not known yet. `result_ttl_ms` gives "expires" for a stored result. Videos add "frames_per_s",
// "eta_s", "chunks" ({"total", "stored"} while being made) and "video" (the source, the streams kept, the
// output's check).
nlohmann::json JobViewJson(const JobView& view, std::int64_t result_ttl_ms);

}  // namespace tsdsr::dispatcher
