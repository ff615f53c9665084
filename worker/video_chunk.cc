#include "worker/video_chunk.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "video/encoders.h"
#include "video/frame_decoder.h"
#include "video/segment_encoder.h"

namespace tsdsr::worker {
namespace {

using Stopwatch = std::chrono::steady_clock;

video::SegmentFormat FormatOf(const proto::JobHeader& job, int width, int height) {
  video::SegmentFormat f;
  f.width = width * job.scale;
  f.height = height * job.scale;
  f.time_base = {job.tb_num, job.tb_den};
  f.frame_rate = {job.rate_num, job.rate_den};
  f.sample_aspect = {job.sar_num, job.sar_den};
  f.color = {job.color_range, job.color_space, job.color_primaries, job.color_transfer};
  return f;
}

video::EncodeOptions EncodeOptionsOf(const proto::JobHeader& job, const std::string& device) {
  video::EncodeOptions o;
  o.codec = job.codec;
  o.encoder = job.encoder;
  o.gpu = std::max(0, video::CudaIndexOf(device));  // NVENC on the model's GPU
  o.crf = job.crf;
  o.preset = job.preset;
  o.container = job.container;
  return o;
}

// Upscales and encodes each decoded frame; the encoder is made for the first one (its size is the chunk's).
class ChunkEncoder {
 public:
  ChunkEncoder(Upscaler& upscaler, const proto::JobHeader& job, std::int64_t max_pixels,
               const std::function<bool()>& cancelled, const std::function<void(int, int)>& on_progress,
               proto::ResultHeader& timing)
      : upscaler_(upscaler),
        job_(job),
        max_pixels_(max_pixels),
        cancelled_(cancelled),
        on_progress_(on_progress),
        timing_(timing) {}

  Status Add(video::DecodedFrame frame) {
    if (cancelled_ && cancelled_()) return Status::Cancelled("cancelled");
    if (encoder_ == nullptr) TSDSR_RETURN_IF_ERROR(Start(frame.bgr.cols, frame.bgr.rows));
    UpscaleRequest request;
    request.scale = job_.scale;
    request.process_size = job_.process_size;
    request.cancelled = cancelled_;
    auto start = Stopwatch::now();
    TSDSR_ASSIGN_OR_RETURN(cv::Mat output, upscaler_.Upscale(frame.bgr, request));
    timing_.compute_ms += MillisSince(start);
    start = Stopwatch::now();
    TSDSR_RETURN_IF_ERROR(encoder_->Add(output, frame.pts));
    timing_.encode_ms += MillisSince(start);
    if (on_progress_) on_progress_(encoder_->frames(), job_.frames);
    return Status::Ok();
  }

  Result<std::string> Finish() {
    if (encoder_ == nullptr) return Status::InvalidArgument("the chunk holds none of its frames");
    return encoder_->Finish();
  }
  int frames() const { return encoder_ ? encoder_->frames() : 0; }
  int width() const { return width_ * job_.scale; }
  int height() const { return height_ * job_.scale; }

 private:
  Status Start(int width, int height) {
    width_ = width;
    height_ = height;
    const std::int64_t pixels = std::int64_t{width} * height * job_.scale * job_.scale;
    if (max_pixels_ > 0 && pixels > max_pixels_) {
      return Status::InvalidArgument("frames of " + std::to_string(width) + "x" + std::to_string(height) + " x" +
                                     std::to_string(job_.scale) + " are over the limit of " +
                                     std::to_string(max_pixels_) + " output pixels");
    }
    TSDSR_ASSIGN_OR_RETURN(encoder_, video::SegmentEncoder::Create(EncodeOptionsOf(job_, upscaler_.description().device),
                                                                  FormatOf(job_, width, height), ""));
    return Status::Ok();
  }

  Upscaler& upscaler_;
  const proto::JobHeader& job_;
  const std::int64_t max_pixels_;
  const std::function<bool()>& cancelled_;
  const std::function<void(int, int)>& on_progress_;
  proto::ResultHeader& timing_;
  std::unique_ptr<video::SegmentEncoder> encoder_;
  int width_ = 0;
  int height_ = 0;
};

}  // namespace

JobReply RunVideoChunk(Upscaler* upscaler, const std::string& load_error, const proto::JobHeader& job,
                       std::string_view chunk, std::int64_t max_pixels, const std::function<bool()>& cancelled,
                       const std::function<void(int done, int total)>& on_progress) {
  JobReply reply;
  reply.header.job_id = job.job_id;
  if (upscaler == nullptr)
    return FailedReply(std::move(reply), Status::FailedPrecondition("model not loaded: " + load_error));
  auto start = Stopwatch::now();
  auto demuxer = video::Demuxer::OpenBytes(chunk, "chunk of job " + std::to_string(job.job_id));
  if (!demuxer.ok()) return FailedReply(std::move(reply), demuxer.status());
  auto decoder = video::FrameDecoder::Open(**demuxer, /*threads=*/1, video::Rational{job.tb_num, job.tb_den});
  if (!decoder.ok()) return FailedReply(std::move(reply), decoder.status());
  ChunkEncoder encoder(*upscaler, job, max_pixels, cancelled, on_progress, reply.header);
  Status decoded = (*decoder)->Decode(job.first_pts, job.last_pts,
                                      [&](video::DecodedFrame frame) { return encoder.Add(std::move(frame)); });
  if (!decoded.ok()) return FailedReply(std::move(reply), decoded);
  if (encoder.frames() != job.frames) {
    return FailedReply(std::move(reply),
                       Status::InvalidArgument("the chunk decoded to " + std::to_string(encoder.frames()) +
                                               " frames, not the " + std::to_string(job.frames) + " of its range"));
  }
  auto segment = encoder.Finish();
  if (!segment.ok()) return FailedReply(std::move(reply), segment.status());
  reply.header.decode_ms = MillisSince(start) - reply.header.compute_ms - reply.header.encode_ms;
  reply.header.frames = encoder.frames();
  reply.header.output_width = encoder.width();
  reply.header.output_height = encoder.height();
  reply.header.content_type = job.container == "mp4" ? "video/mp4" : "video/x-matroska";
  reply.image = std::move(*segment);
  return reply;
}

}  // namespace tsdsr::worker
