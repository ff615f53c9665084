// --async: one file through the server's job API (POST /jobs, GET /jobs/{id}, GET /jobs/{id}/result),
// surviving a client restart through the state file of job_state.h.
#pragma once

#include <string>

#include "client/http_client.h"
#include "client/job_settings.h"
#include "client/retrying_sender.h"

namespace tsdsr::client {

// How many earlier, dead attempts (failed, cancelled, result expired) a submission may replay before the
// file is reported failed; see RunAsyncJob.
inline constexpr int kMaxReplayedJobs = 3;

// Submits `part` (the image of `input`) with its Idempotency-Key, or follows the job `settings.state`
// remembers for `input` (submitting again when the server answers 404 for it), polls the job (every
// settings.tuning.poll_first, doubling up to poll_max) until it ends, and downloads its result.
// When the key replays a job that had already failed, been cancelled or lost its result (an earlier run's
// attempt), the file is submitted again with NextIdempotencyKey, so a rerun retries it; deterministic, so
// a restart finds the same jobs.
// Returns the result answer (2xx, the image), the error answer the server gave (4xx/5xx), Aborted for a job
// that failed, was cancelled or whose result expired, InvalidArgument when the state file cannot be
// written, or the transport error. Forgets the state entry once the job's end is known.
// `on_tiles` (may be empty) gets the job's progress. Thread-safe with a different `sender` per thread.
Result<HttpResponse> RunAsyncJob(RetryingSender& sender, const JobSettings& settings, const std::string& input,
                                 const FilePart& part, const TileProgress& on_tiles);

}  // namespace tsdsr::client
