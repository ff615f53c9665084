// A unit of work as the dispatcher sees it: one image to upscale, its parameters, and who to answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/memory_budget.h"
#include "common/protocol.h"
#include "common/status.h"

namespace tsdsr::dispatcher {

using Clock = std::chrono::steady_clock;

struct JobParams {
  int scale = 2;
  int process_size = 128;
  std::string format = "png";  // output encoding
  int input_width = 0;         // from the dispatcher's probe of the image header
  int input_height = 0;
  // A video chunk's fields of the JOB header (kind, range, encode settings, the video's parameters); the broker
  // fills in the id, scale, process size, format, attempt and time left. An image job leaves it as it is.
  proto::JobHeader chunk;
};

// What a job ends with. `status` OK means `image` holds the encoded output described by `result`.
struct JobOutcome {
  Status status;
  proto::ResultHeader result;
  std::string image;
  std::string worker_id;  // the worker that answered, empty when none did
  double queue_ms = 0;    // from submission to the first send to a worker
  double total_ms = 0;    // from submission to the answer
  int retry_after_s = 0;  // for Unavailable: when a retry is likely to be accepted (Retry-After)
};

// Called exactly once per job, on the broker thread, with the outcome. Must not block for long.
using JobCallback = std::function<void(JobOutcome)>;
// Called on the broker thread each time a worker takes the job, with the worker's id. Must not block.
using StartCallback = std::function<void(const std::string& worker_id)>;
// Called on the broker thread with the worker's progress (tiles done of total). Must not block.
using ProgressCallback = std::function<void(int done, int total)>;

struct Job {
  std::uint64_t id = 0;
  JobParams params;
  std::string image;  // encoded input as uploaded
  MemoryBudget::Lease memory;  // `image` in the dispatcher's memory budget, when its holder counted it there
  std::int64_t worker_bytes = 0;  // what it holds on a worker (WorkerJobBytes); set by the scheduler
  Clock::time_point submitted{};
  Clock::time_point deadline = Clock::time_point::max();
  int priority = 0;   // 0..9, higher first; within a level, turns between clients, FIFO for each
  std::string client;  // who asked (an API key's name, a client id or a peer address); empty is one client
  bool stored = false;  // an async job or video chunk: the job manager counts it among its client's jobs
  int attempts = 0;  // sends to a worker so far
  std::string worker;                  // identity of the worker holding it, empty while queued
  Clock::time_point first_sent{};      // set on the first send
  Clock::time_point last_sent{};       // set on every send
  JobCallback done;
  StartCallback on_started;    // may be empty
  ProgressCallback on_progress;  // may be empty
};

using JobPtr = std::unique_ptr<Job>;

}  // namespace tsdsr::dispatcher
