// A stored job: what was asked, where it stands, and what it produced. The one shape every JobStore keeps
// and every route answers from. Times are Unix milliseconds (wall clock: they outlive the process), 0 = not yet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tsdsr::dispatcher {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };

// "queued", "running", "succeeded", "failed", "cancelled".
std::string_view JobStateName(JobState state);
// The inverse of JobStateName; nullopt for any other text.
std::optional<JobState> JobStateFromName(std::string_view name);
// True for succeeded, failed and cancelled: nothing changes a finished job any more.
inline bool IsFinished(JobState state) { return state != JobState::kQueued && state != JobState::kRunning; }

// Where a job came from: POST /jobs with an image (durable, runs again after a restart), one file of
// POST /upscale_batch (stored once it succeeded, so that its output can be downloaded), or POST /jobs with a
// video (durable, cut into chunks that the pool makes in parallel).
enum class JobKind { kAsync, kBatch, kVideo };
std::string_view JobKindName(JobKind kind);
std::optional<JobKind> JobKindFromName(std::string_view name);

// What became of a job's output file.
enum class ResultState { kNone, kStored, kExpired, kEvicted };
std::string_view ResultStateName(ResultState state);
std::optional<ResultState> ResultStateFromName(std::string_view name);

// What the client asked for; the same parameters as POST /upscale.
struct JobSpec {
  int scale = 2;
  int process_size = 128;
  std::string format = "png";   // output encoding: png, jpeg, webp
  int priority = 0;             // 0..9, higher first
  std::int64_t timeout_ms = 0;  // from creation; 0 = no deadline
  int input_width = 0;
  int input_height = 0;
  std::string filename;  // as uploaded; may be empty
  std::string client;    // who asked: an API key's name, an X-Client-Id or a peer address (turns, limits)
  // Videos: `format` is the container (mp4 or matroska), these the encoder's settings.
  std::string codec;   // h264, hevc or av1
  // The encoder family (video::EncoderFamilyName): "software" or "nvenc" once accepted; "auto" only on the way in,
  // until the job manager picks one from the pool's workers. Every chunk of the video is made with it.
  std::string encoder;
  int crf = -1;        // -1: the codec's default
  std::string preset;  // empty: the codec's default
};

// One chunk of a video job: frames [first, last] in presentation order, and whether its segment is stored.
struct ChunkRecord {
  int index = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;
  bool done = false;
  std::int64_t bytes = 0;  // of the stored segment
};

struct JobRecord {
  std::string id;  // NewJobId()
  JobKind kind = JobKind::kAsync;
  JobState state = JobState::kQueued;
  JobSpec spec;
  std::string idempotency_key;   // empty when none; unique among stored jobs otherwise
  std::string fingerprint;       // of spec + input, to tell a retry from a different request with the same key
  std::int64_t input_bytes = 0;  // size of the stored input; 0 once it is removed (the job finished)
  std::int64_t created_ms = 0;
  std::int64_t started_ms = 0;  // first time a worker took it
  std::int64_t finished_ms = 0;
  int attempts = 0;        // times a worker took it, restarts included
  std::string worker;      // the worker that took it last
  std::string error;       // why it failed or was cancelled
  std::string error_code;  // StatusCodeName of that
  int output_width = 0;
  int output_height = 0;
  std::string result_type;        // Content-Type of the output
  std::int64_t result_bytes = 0;  // size of the stored output; 0 once it is gone
  ResultState result = ResultState::kNone;
  std::int64_t seq = 0;  // order of creation, assigned by the store (for listing newest first)
  std::string details;   // videos: JSON of what the source is and how the output was checked
};

}  // namespace tsdsr::dispatcher
