// What every file of a run shares: the upscale parameters, the mode, and the timing seams tests change.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "client/options.h"
#include "client/retry_policy.h"
#include "client/retrying_sender.h"

namespace tsdsr::client {

class JobStateFile;

// What tests change about timing and the terminal; the defaults are the program's.
struct ClientTuning {
  RetrySettings retry;                        // backoff and budgets (max_retries comes from --retries)
  std::chrono::milliseconds poll_first{250};  // first wait between GET /jobs/{id} polls
  std::chrono::milliseconds poll_max{2000};   // the wait doubles up to this
  SleepFunction sleep;                        // empty: std::this_thread::sleep_for
  bool err_is_terminal = false;               // draw self-rewriting progress on the error stream
};

// The parameters of every file of one run; read-only while the run's threads use it.
struct JobSettings {
  int upscale = 2;
  int process_size = 128;
  std::string format;             // canonical ("png", "jpeg", "webp") or "" for the server's default
  bool async_jobs = false;        // POST /jobs and follow, instead of POST /upscale
  bool overwrite = false;         // redo files whose output exists
  ClientTuning tuning;            // with tuning.retry.max_retries = --retries
  JobStateFile* state = nullptr;  // --async: the shared state file (thread-safe); not owned, may be null
  std::string codec = "hevc";     // videos: --codec, --crf, --preset, --container
  int crf = -1;
  std::string preset;
  std::string encoder = "auto";
  std::string container = "mp4";
};

// Called with the tiles done and the total of a followed job, from the thread running it.
using TileProgress = std::function<void(int done, int total)>;

// The settings of `options` (already validated) with `tuning`; `state` as JobSettings::state.
JobSettings JobSettingsFrom(const ClientOptions& options, const ClientTuning& tuning, JobStateFile* state);

// The query string of a submission, "?upscale=2&process_size=128[&format=jpeg]", for /upscale and /jobs.
std::string UpscaleQuery(const JobSettings& settings);
// The query string of a video submission to /jobs: the scale and tile size, codec, container, crf and preset.
std::string VideoQuery(const JobSettings& settings);

}  // namespace tsdsr::client
