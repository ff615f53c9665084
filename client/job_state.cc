#include "client/job_state.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "client/files.h"

namespace tsdsr::client {
namespace {

constexpr int kStateVersion = 1;

std::string Hex64(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

std::uint64_t Fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

Result<std::string> IdempotencyKeyFor(const std::string& input, int upscale, int process_size,
                                      const std::string& format) {
  std::string absolute = AbsolutePath(input);
  struct stat info {};
  if (stat(absolute.c_str(), &info) != 0) {
    return Status::InvalidArgument("cannot stat input file '" + input + "': " + std::strerror(errno));
  }
  long long mtime_ns = static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec;
  // NUL separators: a path cannot contain one, so no two different tuples hash the same text.
  std::string text = absolute;
  for (const std::string& field : {std::to_string(info.st_size), std::to_string(mtime_ns), std::to_string(upscale),
                                   std::to_string(process_size), format}) {
    text += '\0';
    text += field;
  }
  return "tsdsr-" + Hex64(Fnv1a64(text));
}

std::string NextIdempotencyKey(const std::string& key, const std::string& id) {
  return "tsdsr-" + Hex64(Fnv1a64(key + '\0' + id));
}

std::string BatchStatePath(const std::string& output_dir) {
  return (std::filesystem::path(output_dir) / ".tsdsr-client-jobs.json").string();
}

std::string SingleStatePath(const std::string& output) { return output + ".tsdsr-job.json"; }

Result<std::unique_ptr<JobStateFile>> JobStateFile::Open(std::string path) {
  std::unique_ptr<JobStateFile> state = Empty(path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return state;
  TSDSR_ASSIGN_OR_RETURN(std::string text, ReadInputFile(path));
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const std::string bad = "'" + path + "' is not a tsdsr-client state file";
  if (!json.is_object() || json.value("version", 0) != kStateVersion || !json.contains("jobs") ||
      !json["jobs"].is_object()) {
    return Status::InvalidArgument(bad);
  }
  for (const auto& [input, job] : json["jobs"].items()) {
    if (!job.is_object() || !job.contains("id") || !job["id"].is_string() || !job.contains("key") ||
        !job["key"].is_string()) {
      return Status::InvalidArgument(bad);
    }
    state->jobs_[input] = {job["id"].get<std::string>(), job["key"].get<std::string>()};
  }
  return state;
}

std::unique_ptr<JobStateFile> JobStateFile::Empty(std::string path) {
  return std::unique_ptr<JobStateFile>(new JobStateFile(std::move(path)));
}

std::optional<RememberedJob> JobStateFile::Find(const std::string& input) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(input);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

Status JobStateFile::Remember(const std::string& input, const RememberedJob& job) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_[input] = job;
  return SaveLocked();
}

Status JobStateFile::Forget(const std::string& input) {
  std::lock_guard<std::mutex> lock(mu_);
  if (jobs_.erase(input) == 0) return Status::Ok();
  return SaveLocked();
}

std::size_t JobStateFile::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

Status JobStateFile::SaveLocked() const {
  if (jobs_.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    if (ec) return Status::InvalidArgument("cannot remove '" + path_ + "': " + ec.message());
    return Status::Ok();
  }
  nlohmann::json json = {{"version", kStateVersion}, {"jobs", nlohmann::json::object()}};
  for (const auto& [input, job] : jobs_) json["jobs"][input] = {{"id", job.id}, {"key", job.key}};
  return WriteFileAtomically(path_, json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

std::unique_ptr<JobStateFile> OpenStateOrStartEmpty(const std::string& path, std::string* warning) {
  Result<std::unique_ptr<JobStateFile>> state = JobStateFile::Open(path);
  warning->clear();
  if (state.ok()) return std::move(*state);
  *warning = state.status().message() + "; starting with no remembered jobs";
  return JobStateFile::Empty(path);
}

}  // namespace tsdsr::client
