// JobManager's private records, shared by its two source files only (job_manager.cc, job_manager_loop.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dispatcher/jobs/job_manager.h"
#include "dispatcher/jobs/video_job.h"

namespace tsdsr::dispatcher {

// A job the manager is responsible for: an async job not finished yet, or a batch file not answered yet.
struct JobManager::Active {
  JobRecord record;
  std::string input;             // batch files: the upload (async jobs read theirs from the data dir when fed)
  std::shared_ptr<Batch> batch;  // null for async jobs
  size_t batch_index = 0;
  std::int64_t order = 0;  // admission order
  int done = 0;            // tiles, from the worker's PROGRESS
  int total = 0;
  std::uint64_t pool_id = 0;  // the pool's id for it while the pool holds it
  bool cancelled = false;     // cancelled while the pool held it: the pool's answers are dropped
  std::unique_ptr<VideoJob> video;          // video jobs
  std::map<int, std::uint64_t> chunk_pool;  // video jobs: the pool's ids of the chunks it holds
  bool finishing = false;  // video jobs: being joined and checked on the finisher's thread (video is read there)

  // True while the pool (or the finisher) holds some of it: it is forgotten only once that answers.
  bool in_pool() const { return pool_id != 0 || !chunk_pool.empty() || finishing; }
};

// Admission and event keys: a job id, or "<id>#<chunk>" for a chunk of a video.
std::string ChunkKey(const std::string& id, int chunk);
// The job id of `key`, and its chunk (-1 for a whole job).
std::pair<std::string, int> SplitKey(const std::string& key);

struct JobManager::Batch {
  std::uint64_t id = 0;
  std::vector<BatchFileOutcome> outcomes;  // by file
  size_t remaining = 0;                    // files not answered yet
  std::function<void(std::vector<BatchFileOutcome>)> done;
};

}  // namespace tsdsr::dispatcher
