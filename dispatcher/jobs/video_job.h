// One video job's plan and state: the probed source, its chunks (frame ranges), which segments are stored, the
// frames made so far, and the last step (joining the segments with the source's other streams, then checking the
// output against the source). Not thread-safe: the job manager's thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/protocol.h"
#include "common/status.h"
#include "dispatcher/jobs/job_record.h"
#include "dispatcher/status/pool_snapshot.h"
#include "video/chunk_plan.h"
#include "video/media_info.h"

namespace tsdsr::dispatcher {

struct VideoLimits {
  std::int64_t max_pixels = 4096LL * 4096;  // of an output frame
  double chunk_seconds = 2.0;
};

class VideoJob {
 public:
  // Probes the stored upload `input` (no pixel is decoded) and cuts it into chunks, more of them for more
  // `workers`. InvalidArgument saying what is wrong for what cannot be upscaled: not a video, no video stream, no
  // frames, a frame over limits.max_pixels once scaled, an encode setting that is not allowed.
  static Result<std::unique_ptr<VideoJob>> Plan(const std::string& input, const JobSpec& spec,
                                                const VideoLimits& limits, int workers);
  // The same job after a restart, with the chunks the store kept (probed again, planned as before).
  static Result<std::unique_ptr<VideoJob>> Resume(const std::string& input, const JobSpec& spec,
                                                  std::vector<ChunkRecord> chunks);

  const std::vector<ChunkRecord>& chunks() const { return chunks_; }
  const video::MediaInfo& source() const { return source_; }
  // The chunks whose segment is not stored yet, in order.
  std::vector<int> Pending() const;

  // The JOB fields of chunk `index` (kind, range, frames, encode settings, the video's parameters).
  proto::JobHeader ChunkHeader(int index) const;
  // The packets a worker needs for chunk `index`, read from the upload now.
  Result<std::string> ChunkPayload(int index) const;

  // A worker reports `frames` of chunk `index` done; its segment is stored (`bytes` long), the worker's `result`
  // saying where its time went.
  void OnProgress(int index, int frames);
  void OnStored(int index, std::int64_t bytes, const proto::ResultHeader& result);
  bool AllStored() const;

  std::int64_t total_frames() const { return static_cast<std::int64_t>(source_.video.frames.size()); }
  std::int64_t frames_done() const;
  // Frames per second since the first frame was made, and the seconds left at that pace; 0 when unknown.
  double frames_per_second() const;
  double eta_seconds() const;

  // Joins `segments` (the stored ones, in chunk order) with the upload's other streams into `output`, and checks
  // it. The job's details (source, plan, streams kept or dropped, the check's figures) go to *details either way.
  // InvalidArgument naming what is wrong when the output is not what was asked.
  // Reads only what no longer changes once every segment is stored: safe on another thread from then on.
  Status Finish(const std::vector<std::string>& segments, const std::string& output, nlohmann::json* details) const;

  // What the source is and how the job is cut: for the job's status.
  nlohmann::json Summary() const;
  // FFmpeg's name of the encoder every chunk is made with, e.g. "libx265".
  std::string EncoderName() const;

 private:
  VideoJob(std::string input, JobSpec spec) : input_(std::move(input)), spec_(std::move(spec)) {}

  const std::string input_;
  const JobSpec spec_;
  video::MediaInfo source_;
  std::vector<ChunkRecord> chunks_;
  std::map<int, int> progress_;  // frames done of chunks being made
  std::chrono::steady_clock::time_point first_progress_{};
  double decode_ms_ = 0;  // the workers' time on the chunks made by this dispatcher
  double compute_ms_ = 0;
  double encode_ms_ = 0;
  std::int64_t timed_frames_ = 0;
  std::int64_t frames_at_first_progress_ = 0;
};

// The encoder family for a new video job asking for `spec.encoder` (auto, software or nvenc), given the pool's
// `workers`: auto is NVENC when every ready worker has NVENC for the codec (and crf fits its range), software
// otherwise. InvalidArgument for nvenc when workers are ready and none has it; with none ready it is kept, and its
// chunks wait for a worker that has it.
Result<std::string> ChooseEncoder(const JobSpec& spec, const std::vector<WorkerView>& workers);

// True when a job's upload is a video by what the client said: a video/* type, or a file name ending in a video
// container's extension (IsVideoFileName).
bool LooksLikeVideo(const std::string& content_type, const std::string& filename);

}  // namespace tsdsr::dispatcher
