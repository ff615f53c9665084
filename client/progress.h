// What tsdsr-client shows while many files run and when they are done: on a terminal one self-rewriting
// line (bar, done/total, failures, rate, ETA), elsewhere one line per finished file; at the end a summary
// line (and the failed files) or a JSON report.
#pragma once

#include <chrono>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "client/file_job.h"

namespace tsdsr::client {

// Counts of a run so far.
struct ProgressCounts {
  int total = 0;
  int ok = 0;
  int skipped = 0;
  int failed = 0;
  int finished() const { return ok + skipped + failed; }
};

// "[#####.....]": `width` cells, the first done/total of them filled. Thread-safe.
std::string RenderBar(int done, int total, int width);

// The terminal line for `counts` after `elapsed_s`: bar, "12/200", "1 failed" (when any), the rate of
// images done per second and the ETA ("ETA 1:05"; "--:--" before the first image). No "\r". Thread-safe.
std::string RenderProgressLine(const ProgressCounts& counts, double elapsed_s);

// "[12/200] ok in/a.png -> out/a.png (128x96)", "[13/200] FAILED in/b.png: <error>",
// "[14/200] skipped in/c.png -> out/c.png (exists)"; `index` is the count of finished files. Thread-safe.
std::string OutcomeLine(int index, int total, const FileOutcome& outcome);

// Shows progress on `err` (borrowed) as the file comment says. Thread-safe: the batch threads share one.
class ProgressReporter {
 public:
  ProgressReporter(std::ostream& err, bool terminal, int total);

  // Adds `count` files to the total (--watch learns of files as they come).
  void AddToTotal(int count);
  // Counts `outcome` and redraws the line or prints its OutcomeLine.
  void OnFinished(const FileOutcome& outcome);
  // Prints `line` (a warning) on its own line, keeping the bar below it on a terminal.
  void Note(const std::string& line);
  // Ends the terminal line (a newline after the bar); nothing otherwise. Call once, after the last file.
  void Finish();

  ProgressCounts counts() const;

 private:
  void DrawLocked();  // requires mu_

  std::ostream& err_;
  const bool terminal_;
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  ProgressCounts counts_;  // guarded by mu_
  bool drawn_ = false;     // guarded by mu_: a bar is on the screen
};

// The summary on `out`: "N ok, S skipped, F failed in T s (R images/s)", then "FAILED <input>: <error>" per
// failed file. Thread-compatible.
void WriteSummary(std::ostream& out, const std::vector<FileOutcome>& outcomes, double seconds);

// The --json report on `out`: {"total", "ok", "skipped", "failed", "seconds", "files": [{"input", "output",
// "status", "error", "http_status", "output_size", "attempts", "seconds"}]}; absent values are null.
void WriteJsonReport(std::ostream& out, const std::vector<FileOutcome>& outcomes, double seconds);

}  // namespace tsdsr::client
