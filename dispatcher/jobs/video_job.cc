#include "dispatcher/jobs/video_job.h"

#include <algorithm>

#include "common/media_names.h"
#include "common/text.h"
#include "video/chunk_source.h"
#include "video/encoders.h"
#include "video/output_check.h"
#include "video/segment_encoder.h"
#include "video/segment_join.h"

namespace tsdsr::dispatcher {
namespace {

Status CheckSpec(const JobSpec& spec, const video::MediaInfo& source, const VideoLimits& limits) {
  video::EncodeOptions options;
  options.codec = spec.codec;
  options.encoder = spec.encoder.empty() ? "software" : spec.encoder;
  options.crf = spec.crf;
  options.preset = spec.preset;
  options.container = spec.format;
  TSDSR_RETURN_IF_ERROR(ValidateEncodeOptions(options));
  const video::VideoInfo& v = source.video;
  const std::int64_t pixels = std::int64_t{v.width} * v.height * spec.scale * spec.scale;
  if (pixels > limits.max_pixels) {
    return Status::TooLarge("frames of " + std::to_string(v.width) + "x" + std::to_string(v.height) + " at x" +
                            std::to_string(spec.scale) + " make " + std::to_string(pixels) + " pixels; the limit is " +
                            std::to_string(limits.max_pixels));
  }
  // A rotated video keeps its display matrix (JoinSegments); FFmpeg 5.1's Matroska muxer writes none, and the
  // check would fail the job only after every chunk was upscaled.
  if (v.rotation != 0 && spec.format == "matroska") {
    return Status::InvalidArgument("the video is rotated by " + std::to_string(v.rotation) +
                                   " degrees, which only an MP4 output keeps: ask for container=mp4");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> ChooseEncoder(const JobSpec& spec, const std::vector<WorkerView>& workers) {
  if (spec.encoder == "software") return spec.encoder;
  const video::EncoderSpec* nvenc = video::FindEncoder(spec.codec, video::EncoderFamily::kNvenc);
  if (nvenc == nullptr) return Status::InvalidArgument("codec must be h264, hevc or av1 (got '" + spec.codec + "')");
  int usable = 0;
  int with_nvenc = 0;
  for (const WorkerView& w : workers) {
    if (w.description.status != "ok") continue;
    ++usable;
    with_nvenc += video::HasEncoder(w.description.encoders, nvenc->ffmpeg) ? 1 : 0;
  }
  if (spec.encoder == "nvenc") {
    if (usable > 0 && with_nvenc == 0) {
      return Status::InvalidArgument("no ready worker can encode " + spec.codec + " with NVENC (" +
                                     std::string(nvenc->ffmpeg) + "); ask for encoder=software or auto");
    }
    return spec.encoder;  // with no worker ready yet, the chunks wait for one that has it
  }
  // auto: NVENC only when every ready worker has it, so that any of them can make (and remake) every chunk.
  const bool fits = spec.crf <= nvenc->max_quality;
  return std::string(usable > 0 && with_nvenc == usable && fits ? "nvenc" : "software");
}

bool LooksLikeVideo(const std::string& content_type, const std::string& filename) {
  return AsciiLower(content_type).rfind("video/", 0) == 0 || IsVideoFileName(filename);
}

Result<std::unique_ptr<VideoJob>> VideoJob::Plan(const std::string& input, const JobSpec& spec,
                                                 const VideoLimits& limits, int workers) {
  std::unique_ptr<VideoJob> job(new VideoJob(input, spec));
  auto probed = video::ProbeFile(input);
  if (!probed.ok()) {
    const Status& s = probed.status();
    return Status(s.code() == StatusCode::kNotFound ? StatusCode::kInternal : s.code(),
                  "not a video this service can read: " + s.message());
  }
  job->source_ = std::move(*probed);
  TSDSR_RETURN_IF_ERROR(CheckSpec(spec, job->source_, limits));
  const auto ranges = video::PlanChunks(job->source_.video, limits.chunk_seconds, workers);
  for (size_t i = 0; i < ranges.size(); ++i) {
    job->chunks_.push_back({static_cast<int>(i), static_cast<std::int64_t>(ranges[i].first),
                            static_cast<std::int64_t>(ranges[i].last), false, 0});
  }
  return job;
}

Result<std::unique_ptr<VideoJob>> VideoJob::Resume(const std::string& input, const JobSpec& spec,
                                                   std::vector<ChunkRecord> chunks) {
  std::unique_ptr<VideoJob> job(new VideoJob(input, spec));
  TSDSR_ASSIGN_OR_RETURN(job->source_, video::ProbeFile(input));
  const auto frames = static_cast<std::int64_t>(job->source_.video.frames.size());
  if (chunks.empty() || chunks.back().last != frames - 1) {
    return Status::Internal("the stored chunks of this job no longer fit its upload");
  }
  job->chunks_ = std::move(chunks);
  return job;
}

std::vector<int> VideoJob::Pending() const {
  std::vector<int> pending;
  for (const auto& c : chunks_) {
    if (!c.done) pending.push_back(c.index);
  }
  return pending;
}

proto::JobHeader VideoJob::ChunkHeader(int index) const {
  const ChunkRecord& c = chunks_.at(static_cast<size_t>(index));
  const video::VideoInfo& v = source_.video;
  proto::JobHeader h;
  h.kind = std::string(proto::kVideoChunkJob);
  h.first_pts = v.frames[static_cast<size_t>(c.first)].pts;
  h.last_pts = v.frames[static_cast<size_t>(c.last)].pts;
  h.frames = static_cast<int>(c.last - c.first + 1);
  h.codec = spec_.codec;
  h.encoder = spec_.encoder.empty() ? "software" : spec_.encoder;
  h.crf = spec_.crf;
  h.preset = spec_.preset;
  h.container = "mp4";  // segments; the output's container is the join's business
  h.tb_num = v.time_base.num;
  h.tb_den = v.time_base.den;
  h.rate_num = v.frame_rate.num > 0 ? v.frame_rate.num : 25;
  h.rate_den = v.frame_rate.num > 0 ? v.frame_rate.den : 1;
  h.sar_num = v.sample_aspect.num;
  h.sar_den = v.sample_aspect.den;
  h.color_range = v.color.range;
  h.color_space = v.color.space;
  h.color_primaries = v.color.primaries;
  h.color_transfer = v.color.transfer;
  return h;
}

Result<std::string> VideoJob::ChunkPayload(int index) const {
  const ChunkRecord& c = chunks_.at(static_cast<size_t>(index));
  return video::ExtractChunk(input_, source_.video, {static_cast<size_t>(c.first), static_cast<size_t>(c.last)});
}

void VideoJob::OnProgress(int index, int frames) {
  if (first_progress_ == std::chrono::steady_clock::time_point{}) {
    first_progress_ = std::chrono::steady_clock::now();
    frames_at_first_progress_ = frames_done();
  }
  progress_[index] = frames;
}

void VideoJob::OnStored(int index, std::int64_t bytes, const proto::ResultHeader& result) {
  decode_ms_ += result.decode_ms;
  compute_ms_ += result.compute_ms;
  encode_ms_ += result.encode_ms;
  timed_frames_ += result.frames;
  ChunkRecord& c = chunks_.at(static_cast<size_t>(index));
  c.done = true;
  c.bytes = bytes;
  progress_.erase(index);
}

bool VideoJob::AllStored() const {
  return std::all_of(chunks_.begin(), chunks_.end(), [](const ChunkRecord& c) { return c.done; });
}

std::int64_t VideoJob::frames_done() const {
  std::int64_t done = 0;
  for (const auto& c : chunks_) done += c.done ? c.last - c.first + 1 : 0;
  for (const auto& [index, frames] : progress_) done += frames;
  return done;
}

double VideoJob::frames_per_second() const {
  if (first_progress_ == std::chrono::steady_clock::time_point{}) return 0;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_progress_).count();
  const std::int64_t made = frames_done() - frames_at_first_progress_;
  return seconds > 0.5 && made > 0 ? double(made) / seconds : 0;
}

double VideoJob::eta_seconds() const {
  const double fps = frames_per_second();
  return fps > 0 ? double(total_frames() - frames_done()) / fps : 0;
}

Status VideoJob::Finish(const std::vector<std::string>& segments, const std::string& output,
                        nlohmann::json* details) const {
  *details = Summary();
  if (timed_frames_ > 0) {
    const double n = double(timed_frames_);
    (*details)["worker_ms_per_frame"] = {
        {"decode", decode_ms_ / n}, {"model", compute_ms_ / n}, {"encode", encode_ms_ / n}, {"frames", timed_frames_}};
  }
  auto joined = video::JoinSegments(segments, input_, output, spec_.format);
  if (!joined.ok()) return joined.status();
  (*details)["streams"] = video::JoinReportJson(*joined)["streams"];
  video::OutputExpectation expected;
  expected.scale = spec_.scale;
  expected.codec = spec_.codec;
  const bool millis = spec_.format == "matroska" || source_.container.find("matroska") != std::string::npos;
  expected.timestamp_tolerance_s = millis ? 0.001 : 1e-6;
  TSDSR_ASSIGN_OR_RETURN(video::OutputCheck check, video::CheckOutput(input_, source_, output, expected));
  (*details)["check"] = video::OutputCheckJson(check);
  if (!check.ok()) {
    std::string problems;
    for (const auto& p : check.problems) problems += (problems.empty() ? "" : "; ") + p;
    return Status::Internal("the joined video is not what was asked: " + problems);
  }
  return Status::Ok();
}

nlohmann::json VideoJob::Summary() const {
  nlohmann::json summary = video::MediaInfoJson(source_);
  summary["chunks"] = chunks_.size();
  return {
      {"source", summary},
      {"output",
       {{"codec", spec_.codec}, {"encoder", EncoderName()}, {"container", spec_.format}, {"crf", spec_.crf},
        {"preset", spec_.preset}}}};
}

std::string VideoJob::EncoderName() const {
  auto family = video::EncoderFamilyFromName(spec_.encoder.empty() ? "software" : spec_.encoder);
  const video::EncoderSpec* encoder = family ? video::FindEncoder(spec_.codec, *family) : nullptr;
  return encoder ? std::string(encoder->ffmpeg) : "";
}

}  // namespace tsdsr::dispatcher
