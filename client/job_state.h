// Bookkeeping for --async: the Idempotency-Key of a submission, and the small JSON file that remembers the
// ids of submitted jobs that have not finished, so that a restarted client follows them instead of
// submitting again. The file is `<output dir>/.tsdsr-client-jobs.json` for --batch/--watch and
// `<output>.tsdsr-job.json` for -i; it is rewritten atomically after each change and removed when empty:
//   {"version": 1, "jobs": {"/abs/input.png": {"id": "j-17", "key": "tsdsr-0123456789abcdef"}}}
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsdsr::client {

// 64-bit FNV-1a of `bytes` (offset basis 0xcbf29ce484222325, prime 0x100000001b3). Thread-safe.
std::uint64_t Fnv1a64(std::string_view bytes);

// The Idempotency-Key for submitting `input` with these parameters: "tsdsr-" and 16 hex digits of the
// FNV-1a hash of the absolute path, the file's size and mtime (ns) and the parameters, so it is the same
// after a restart and changes when the file does. InvalidArgument when the file cannot be stat'ed.
Result<std::string> IdempotencyKeyFor(const std::string& input, int upscale, int process_size,
                                      const std::string& format);

// The key after `key` once the job `id` submitted with it is known to be dead (failed, cancelled, result
// expired): "tsdsr-" and the FNV-1a hash of both, so every client derives the same chain. Thread-safe.
std::string NextIdempotencyKey(const std::string& key, const std::string& id);

// The state file of --batch/--watch in `output_dir`, and of a single `output` file.
std::string BatchStatePath(const std::string& output_dir);
std::string SingleStatePath(const std::string& output);

// A submitted job: its id and the IdempotencyKeyFor its input when it was submitted (which tells whether
// the job is for the file as it is now).
struct RememberedJob {
  std::string id;
  std::string key;
};

// The jobs in one state file, keyed by absolute input path. Thread-safe: the batch threads share one.
class JobStateFile {
 public:
  // Reads `path`; a missing file is an empty state. InvalidArgument naming the file when it cannot be read
  // or is not a state file (the caller may then start from Empty(path), which overwrites it).
  static Result<std::unique_ptr<JobStateFile>> Open(std::string path);
  // An empty state that will be written to `path`.
  static std::unique_ptr<JobStateFile> Empty(std::string path);

  // The job remembered for `input`, if any.
  std::optional<RememberedJob> Find(const std::string& input) const;
  // Remembers `job` for `input` (replacing an older one) and rewrites the file. InvalidArgument when the
  // write fails (the entry stays in memory).
  Status Remember(const std::string& input, const RememberedJob& job);
  // Forgets `input`, rewriting the file (removing it when no job is left); nothing when it is not there.
  Status Forget(const std::string& input);

  std::size_t size() const;
  const std::string& path() const { return path_; }

 private:
  explicit JobStateFile(std::string path) : path_(std::move(path)) {}
  Status SaveLocked() const;  // requires mu_

  const std::string path_;
  mutable std::mutex mu_;
  std::map<std::string, RememberedJob> jobs_;  // guarded by mu_
};

// JobStateFile::Open(path), or an empty state when the file is not usable, with `*warning` saying so
// ("" otherwise): the Idempotency-Keys make submitting again safe, so a damaged file is not fatal.
std::unique_ptr<JobStateFile> OpenStateOrStartEmpty(const std::string& path, std::string* warning);

}  // namespace tsdsr::client
