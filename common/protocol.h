// The dispatcher ⇄ worker wire protocol (DESIGN.md, "Wire protocol").
//
// A message is a ZeroMQ multipart message: [tag "TSR1"] [command, one byte] [JSON header] [payload frames...].
// The ROUTER side sees the worker's identity frame in front; that frame is not part of a Message.
// Encode/Decode work on plain frames so they are testable (and fuzzable) without sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace tsdsr::proto {

inline constexpr std::string_view kTag = "TSR1";
inline constexpr int kProtocolVersion = 1;

enum class Command : std::uint8_t {
  kReady = 1,       // worker → dispatcher: WorkerDescription
  kHeartbeat = 2,   // both ways; the worker's carries WorkerLiveStats
  kJob = 3,         // dispatcher → worker: JobHeader, payload[0] = encoded image
  kProgress = 4,    // worker → dispatcher: ProgressHeader
  kResult = 5,      // worker → dispatcher: ResultHeader, payload[0] = encoded image when ok
  kCancel = 6,      // dispatcher → worker: CancelHeader
  kDisconnect = 7,  // either way: DisconnectHeader; the sender is going away
};

std::string_view CommandName(Command command);

struct Message {
  Command command = Command::kHeartbeat;
  nlohmann::json header = nlohmann::json::object();
  std::vector<std::string> payload;
};

// Frames of `message`, tag first.
std::vector<std::string> Encode(const Message& message);
// Parses frames (without any routing identity). InvalidArgument names what was wrong: tag, frame count,
// command byte, or header JSON (which must be an object).
Result<Message> Decode(std::vector<std::string> frames);

// Device memory in bytes; zero where unknown (CPU builds report process memory as `allocated`).
struct MemoryStats {
  std::int64_t total = 0;
  std::int64_t reserved = 0;
  std::int64_t allocated = 0;
  std::int64_t free = 0;
};

// READY: what a worker is. `status` is "ok", or "error" with `error` saying why the model failed to load.
struct WorkerDescription {
  std::string id;           // stable name, e.g. "host-1234-cuda0"
  std::int64_t pid = 0;
  std::string host;
  std::string device;       // "cpu", "cuda:0"
  std::string device_name;  // GPU name, or the CPU model
  std::string model;        // the model spec it was started with
  std::string model_name;   // what actually runs, e.g. "bicubic"
  std::vector<int> scales;  // upscale factors it accepts
  // Per entry of `scales`: LR pixels of margin a piece of an image needs for the pieces' blended outputs to equal
  // the whole image's (the model's context and the colour fix's reach); 0 = the output depends on how the image
  // is cut, so it must not be split. Empty from workers that predate it: never split.
  std::vector<int> split_margins;
  // FFmpeg names of the video encoders that open on this worker (video::UsableEncoders), e.g. "libx265",
  // "hevc_nvenc". Empty from workers that predate it: the software encoders only.
  std::vector<std::string> encoders;
  std::string dtype;        // "float32", "float16", ...
  int slots = 2;            // jobs it accepts at once (one computing, the rest prefetched)
  // Bytes its jobs may hold at once (WorkerJobBytes of each): the dispatcher sends it no more; 0 = no bound.
  std::int64_t memory_budget = 0;
  std::string status = "ok";
  std::string error;
  MemoryStats memory;
  std::string version;
};

// The live part of a worker's HEARTBEAT. GPU readings are -1 when the driver does not say (and on a CPU).
struct WorkerLiveStats {
  int busy = 0;                // jobs being computed now
  int queued = 0;              // jobs accepted and waiting on the worker
  std::int64_t jobs_done = 0;  // since start
  std::int64_t jobs_failed = 0;
  std::int64_t progress = 0;   // tiles and video frames finished since start
  double utilization = -1;     // GPU utilisation 0..1
  double power_watts = -1;     // the GPU board's draw
  double energy_joules = -1;   // the GPU's energy since its driver loaded
  double temperature_celsius = -1;
  MemoryStats memory;
};

inline constexpr std::string_view kImageJob = "image";
inline constexpr std::string_view kVideoChunkJob = "video_chunk";

struct JobHeader {
  std::uint64_t job_id = 0;
  int scale = 2;
  int process_size = 128;
  std::string format = "png";  // output encoding: png, jpeg, webp
  std::int64_t timeout_ms = 0; // time left when sent; 0 = none
  int attempt = 1;
  std::string kind = std::string(kImageJob);  // kImageJob: payload[0] is an image; kVideoChunkJob: a video chunk
  int input_width = 0;   // of the image or of the video's frames, as the dispatcher probed it; 0 = unknown
  int input_height = 0;
  // Video chunks: payload[0] holds the source's video packets from the keyframe before the range (a NUT file);
  // the worker makes the frames whose presentation timestamps (in that stream's time base) are within
  // [first_pts, last_pts], `frames` of them, and encodes them as one segment.
  std::int64_t first_pts = 0;
  std::int64_t last_pts = 0;
  int frames = 0;
  std::string codec;    // h264, hevc or av1
  std::string encoder = "software";  // the encoder family: software or nvenc (on the worker's own GPU)
  int crf = -1;         // -1: the codec's default
  std::string preset;   // empty: the codec's default
  std::string container = "mp4";  // of the segment
  // The source video's time base (of first_pts/last_pts and the segment's timestamps), nominal frame rate,
  // sample aspect and colour tags (FFmpeg's enum values): the same for every chunk of a video, so that its
  // segments have the same parameter sets and join by stream copy.
  int tb_num = 1;
  int tb_den = 25;
  int rate_num = 25;
  int rate_den = 1;
  int sar_num = 1;
  int sar_den = 1;
  int color_range = 0;
  int color_space = 2;
  int color_primaries = 2;
  int color_transfer = 2;
};

struct ProgressHeader {
  std::uint64_t job_id = 0;
  int done = 0;
  int total = 0;
};

struct ResultHeader {
  std::uint64_t job_id = 0;
  std::string status = "ok";  // a StatusCodeName
  std::string error;
  int input_width = 0;
  int input_height = 0;
  int output_width = 0;
  int output_height = 0;
  std::string content_type;   // of payload[0], e.g. "image/png"
  double decode_ms = 0;
  double compute_ms = 0;
  double encode_ms = 0;
  int frames = 0;  // video chunks: frames encoded into the segment
};

struct CancelHeader {
  std::uint64_t job_id = 0;
};

struct DisconnectHeader {
  std::string reason;
};

void to_json(nlohmann::json& j, const MemoryStats& v);
void to_json(nlohmann::json& j, const WorkerDescription& v);
void to_json(nlohmann::json& j, const WorkerLiveStats& v);
void to_json(nlohmann::json& j, const JobHeader& v);
void to_json(nlohmann::json& j, const ProgressHeader& v);
void to_json(nlohmann::json& j, const ResultHeader& v);
void to_json(nlohmann::json& j, const CancelHeader& v);
void to_json(nlohmann::json& j, const DisconnectHeader& v);

// Typed parsers: InvalidArgument naming the field when a required field is missing or has the wrong type.
Result<MemoryStats> ParseMemoryStats(const nlohmann::json& j);
Result<WorkerDescription> ParseWorkerDescription(const nlohmann::json& j);
Result<WorkerLiveStats> ParseWorkerLiveStats(const nlohmann::json& j);
Result<JobHeader> ParseJobHeader(const nlohmann::json& j);
Result<ProgressHeader> ParseProgressHeader(const nlohmann::json& j);
Result<ResultHeader> ParseResultHeader(const nlohmann::json& j);
Result<CancelHeader> ParseCancelHeader(const nlohmann::json& j);
Result<DisconnectHeader> ParseDisconnectHeader(const nlohmann::json& j);

// Builds a Message from a typed header.
template <typename Header>
Message Make(Command command, const Header& header, std::vector<std::string> payload = {}) {
  Message m;
  m.command = command;
  m.header = header;
  m.payload = std::move(payload);
  return m;
}

}  // namespace tsdsr::proto
