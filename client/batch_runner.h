// --batch: every matching image of a folder through the server on -j threads, with resume (existing
// outputs are skipped), progress on the error stream and a summary or JSON report at the end.
#pragma once

#include <ostream>

#include "client/http_client.h"
#include "client/job_settings.h"
#include "client/options.h"

namespace tsdsr::client {

// How many requests to keep in flight when -j is not given: the sum of `slots` of the workers whose status
// is "ok" in GET /info (at least 1), or kFallbackConcurrency when /info fails. Sets `*answered` when the
// server gave any HTTP answer. Uses `http` from the calling thread.
inline constexpr int kFallbackConcurrency = 4;
int DefaultConcurrency(HttpClient& http, bool* answered);

// Runs --batch for `options` (validated): plans the folder, creates the output folders, processes the
// files (ProcessFile) on options.jobs (or DefaultConcurrency) threads that each clone `http`, reports
// progress on `err` and the summary (or --json report) on `out`. Returns the exit code (ExitCodeOf; 1 for
// a missing input folder or an unusable output folder). Blocks until every file is done.
int RunBatch(const ClientOptions& options, HttpClient& http, const ClientTuning& tuning, std::ostream& out,
             std::ostream& err);

}  // namespace tsdsr::client
