// --watch: upscale images as they appear in a folder. Files already there are done first (skipping ones a
// process still has open for writing: they come on their IN_CLOSE_WRITE), then each file that is closed
// after writing or moved in. Each source is then moved into DIR/done/ (ok, or skipped because its output
// exists) or DIR/failed/ with the error beside it as DIR/failed/<name>.error.txt. Output names are those of
// --batch, where a name collides with the sources in DIR and DIR/done/. Runs until SIGINT/SIGTERM or
// Stop(), then lets the files in flight finish (queued ones stay in DIR for the next start).
#pragma once

#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "client/batch_plan.h"
#include "client/file_job.h"
#include "client/folder_watch.h"
#include "client/http_client.h"
#include "client/job_settings.h"
#include "client/job_state.h"
#include "client/options.h"
#include "client/progress.h"
#include "client/request_pool.h"

namespace tsdsr::client {

class WatchRunner {
 public:
  // Checks the folders (creating --output, DIR/done and DIR/failed) and starts watching `options.watch`.
  // With `read_signals`, Run() stops on SIGINT/SIGTERM. `http` is the prototype each thread clones;
  // it and the streams must outlive the runner. InvalidArgument with a message for the user otherwise.
  static Result<std::unique_ptr<WatchRunner>> Create(const ClientOptions& options, HttpClient& http,
                                                     const ClientTuning& tuning, bool read_signals, std::ostream& out,
                                                     std::ostream& err);
  ~WatchRunner();

  // Blocks (see the file comment); one line per processed file on `err`, the summary on `out` at the
  // end. Returns 0 after a stop, 1 when watching failed (e.g. the folder was removed). Call once.
  int Run();
  // Makes Run() stop as a signal would. Thread-safe.
  void Stop() { watch_->Stop(); }

 private:
  WatchRunner(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err);
  void EnqueueExisting();
  void Enqueue(const std::string& name);
  void Process(HttpClient& http, const std::string& name);
  std::string OutputFor(const std::string& name) const;
  void Settle(const std::string& name, const FileOutcome& outcome);
  void Release(const std::string& name);

  const ClientOptions options_;
  HttpClient& http_;
  std::ostream& out_;
  std::ostream& err_;
  FileFilter filter_;
  JobSettings settings_;
  std::unique_ptr<JobStateFile> state_;  // --async only
  std::unique_ptr<FolderWatch> watch_;
  std::unique_ptr<ProgressReporter> progress_;
  std::unique_ptr<RequestPool> pool_;  // exists while Run() runs; declared last: joined first

  std::mutex mu_;
  std::set<std::string> active_;       // guarded by mu_: names queued or being processed
  std::set<std::string> again_;        // guarded by mu_: active names that were written again meanwhile
  std::vector<FileOutcome> outcomes_;  // guarded by mu_: for the summary
};

// The --watch action of the program: Create with signals (blocking them in this thread, so start no
// threads before) and Run. Returns the exit code; errors as "error: ..." on `err`.
int RunWatch(const ClientOptions& options, HttpClient& http, const ClientTuning& tuning, std::ostream& out,
             std::ostream& err);

}  // namespace tsdsr::client
