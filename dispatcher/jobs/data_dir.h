// The files of the job store under --data-dir: jobs.db (the JobStore's database), inputs/<id> (uploads of
// jobs not finished yet), results/<id> (outputs), chunks/<id>-<n> (encoded segments of videos being made),
// tmp/ (files being written; emptied at start). Every file is
// written to tmp/, flushed to disk and renamed into place, so a reader — or a restarted dispatcher — never sees
// a partial file. The directory is locked (flock on its LOCK file) for as long as the DataDir lives: two
// dispatchers cannot share one. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tsdsr::dispatcher {

enum class StoredFile { kInput, kResult, kChunk };

// The name of chunk `index`'s segment of job `id`, as a StoredFile::kChunk name, and back (nullopt for a name
// that is not one).
std::string ChunkFileName(std::string_view id, int index);
std::optional<std::pair<std::string, int>> ParseChunkFileName(std::string_view name);

class DataDir {
 public:
  // Creates the directory and its folders when absent, takes the lock and empties tmp/. FailedPrecondition when
  // another process holds the lock; InsufficientStorage when the directory cannot be created or written.
  static Result<std::unique_ptr<DataDir>> Open(const std::string& path);
  ~DataDir();  // releases the lock
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }
  std::string DatabasePath() const { return path_ + "/jobs.db"; }
  // Absolute path of a stored file (whether it exists or not); `id` is a job id, or a ChunkFileName.
  std::string PathOf(StoredFile kind, std::string_view id) const;
  // A fresh path under tmp/ for a file being made (e.g. a video being joined); Publish moves it into place.
  std::string TemporaryPath(std::string_view name) const;
  // Moves `temporary` (from TemporaryPath, complete and flushed) to the stored file; InsufficientStorage on failure.
  Status Publish(const std::string& temporary, StoredFile kind, std::string_view id);

  // Stores `bytes` as the file of `id` (replacing an older one). InsufficientStorage saying what and why (no space,
  // read-only, I/O error, ...) when it cannot; nothing is left behind then.
  Status Write(StoredFile kind, std::string_view id, std::string_view bytes);
  // The file's bytes. NotFound when it is not there, Internal when it cannot be read.
  Result<std::string> Read(StoredFile kind, std::string_view id) const;
  // Removes the file; a file that is not there is not an error.
  void Remove(StoredFile kind, std::string_view id);
  // Names of the files of `kind` present now (for removing the ones no job refers to).
  std::vector<std::string> List(StoredFile kind) const;
  // Bytes the file system still gives this process, -1 when unknown.
  std::int64_t AvailableBytes() const;

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}

  const std::string path_;
  const int lock_fd_;
};

}  // namespace tsdsr::dispatcher
