#include "client/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace tsdsr::client {
namespace {

constexpr int kBarWidth = 24;

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

// "0:07", "12:34", "1:02:03".
std::string Clock(double seconds) {
  long long total = std::llround(std::max(0.0, seconds));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof(text), "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof(text), "%lld:%02lld", total / 60, total % 60);
  }
  return text;
}

ProgressCounts CountsOf(const std::vector<FileOutcome>& outcomes) {
  ProgressCounts counts;
  counts.total = static_cast<int>(outcomes.size());
  for (const FileOutcome& outcome : outcomes) {
    counts.ok += outcome.status == FileStatus::kOk;
    counts.skipped += outcome.status == FileStatus::kSkipped;
    counts.failed += outcome.status == FileStatus::kFailed;
  }
  return counts;
}

}  // namespace

std::string RenderBar(int done, int total, int width) {
  int filled = total > 0 ? static_cast<int>(static_cast<long long>(std::clamp(done, 0, total)) * width / total) : 0;
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string RenderProgressLine(const ProgressCounts& counts, double elapsed_s) {
  int processed = counts.ok + counts.failed;  // skipped files cost nothing: they do not count for the rate
  double rate = elapsed_s > 0 ? processed / elapsed_s : 0;
  std::string line = RenderBar(counts.finished(), counts.total, kBarWidth) + " " + std::to_string(counts.finished()) +
                     "/" + std::to_string(counts.total);
  if (counts.failed > 0) line += "  " + std::to_string(counts.failed) + " failed";
  line += "  " + Fixed(rate, 2) + " img/s  ETA ";
  int remaining = std::max(0, counts.total - counts.finished());
  line += processed > 0 && rate > 0 ? Clock(remaining / rate) : "--:--";
  return line;
}

std::string OutcomeLine(int index, int total, const FileOutcome& outcome) {
  std::string line = "[" + std::to_string(index) + "/" + std::to_string(total) + "] ";
  switch (outcome.status) {
    case FileStatus::kOk:
      return line + "ok " + outcome.input + " -> " + outcome.output +
             (outcome.output_size.empty() ? "" : " (" + outcome.output_size + ")");
    case FileStatus::kSkipped:
      return line + "skipped " + outcome.input + " -> " + outcome.output + " (exists)";
    case FileStatus::kFailed:
      break;
  }
  return line + "FAILED " + outcome.input + ": " + outcome.error;
}

ProgressReporter::ProgressReporter(std::ostream& err, bool terminal, int total)
    : err_(err), terminal_(terminal), start_(std::chrono::steady_clock::now()) {
  counts_.total = total;
}

void ProgressReporter::AddToTotal(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  counts_.total += count;
}

void ProgressReporter::OnFinished(const FileOutcome& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  counts_.ok += outcome.status == FileStatus::kOk;
  counts_.skipped += outcome.status == FileStatus::kSkipped;
  counts_.failed += outcome.status == FileStatus::kFailed;
  if (terminal_) {
    DrawLocked();
  } else {
    err_ << OutcomeLine(counts_.finished(), counts_.total, outcome) << "\n" << std::flush;
  }
}

void ProgressReporter::Note(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  err_ << (drawn_ ? "\r\x1b[K" : "") << line << "\n";
  if (drawn_) DrawLocked();
  err_ << std::flush;
}

void ProgressReporter::DrawLocked() {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  err_ << "\r" << RenderProgressLine(counts_, elapsed) << "\x1b[K" << std::flush;
  drawn_ = true;
}

void ProgressReporter::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (drawn_) err_ << "\n" << std::flush;
  drawn_ = false;
}

ProgressCounts ProgressReporter::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

void WriteSummary(std::ostream& out, const std::vector<FileOutcome>& outcomes, double seconds) {
  ProgressCounts counts = CountsOf(outcomes);
  double rate = seconds > 0 ? counts.ok / seconds : 0;
  out << counts.ok << " ok, " << counts.skipped << " skipped, " << counts.failed << " failed in " << Fixed(seconds, 1)
      << " s (" << Fixed(rate, 2) << " images/s)\n";
  for (const FileOutcome& outcome : outcomes) {
    if (outcome.status == FileStatus::kFailed) out << "FAILED " << outcome.input << ": " << outcome.error << "\n";
  }
}

void WriteJsonReport(std::ostream& out, const std::vector<FileOutcome>& outcomes, double seconds) {
  ProgressCounts counts = CountsOf(outcomes);
  nlohmann::json files = nlohmann::json::array();
  for (const FileOutcome& o : outcomes) {
    files.push_back({{"input", o.input},
                     {"output", o.output},
                     {"status", std::string(FileStatusName(o.status))},
                     {"error", o.error.empty() ? nlohmann::json() : nlohmann::json(o.error)},
                     {"http_status", o.http_status == 0 ? nlohmann::json() : nlohmann::json(o.http_status)},
                     {"output_size", o.output_size.empty() ? nlohmann::json() : nlohmann::json(o.output_size)},
                     {"attempts", o.attempts},
                     {"seconds", std::round(o.seconds * 1000) / 1000}});
  }
  nlohmann::json report = {{"total", counts.total},
                           {"ok", counts.ok},
                           {"skipped", counts.skipped},
                           {"failed", counts.failed},
                           {"seconds", std::round(seconds * 1000) / 1000},
                           {"files", files}};
  out << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace tsdsr::client
