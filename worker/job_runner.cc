#include "worker/job_runner.h"

#include <chrono>

#include "common/image_codec.h"
#include "worker/video_chunk.h"

namespace tsdsr::worker {
namespace {

using Stopwatch = std::chrono::steady_clock;

}  // namespace

JobReply FailedReply(JobReply reply, const Status& status) {
  reply.header.status = std::string(StatusCodeName(status.code()));
  reply.header.error = status.message();
  reply.image.clear();
  return reply;
}

JobReply RunJob(Upscaler* upscaler, const std::string& load_error, const proto::JobHeader& job,
                std::string_view image, std::int64_t max_pixels, const std::function<bool()>& cancelled,
                const std::function<void(int done, int total)>& on_progress) {
  if (job.kind == proto::kVideoChunkJob) {
    return RunVideoChunk(upscaler, load_error, job, image, max_pixels, cancelled, on_progress);
  }
  JobReply reply;
  reply.header.job_id = job.job_id;
  if (upscaler == nullptr) return FailedReply(std::move(reply), Status::FailedPrecondition("model not loaded: " + load_error));
  auto format = ParseOutputFormat(job.format);
  if (!format.ok()) return FailedReply(std::move(reply), format.status());

  auto start = Stopwatch::now();
  auto input = DecodeImage(image, max_pixels);
  reply.header.decode_ms = MillisSince(start);
  if (!input.ok()) return FailedReply(std::move(reply), input.status());
  reply.header.input_width = input->cols;
  reply.header.input_height = input->rows;

  UpscaleRequest request;
  request.scale = job.scale;
  request.process_size = job.process_size;
  request.cancelled = cancelled;
  request.on_progress = on_progress;
  start = Stopwatch::now();
  auto output = upscaler->Upscale(*input, request);
  reply.header.compute_ms = MillisSince(start);
  if (!output.ok()) return FailedReply(std::move(reply), output.status());
  reply.header.output_width = output->cols;
  reply.header.output_height = output->rows;

  start = Stopwatch::now();
  auto encoded = EncodeImage(*output, *format);
  reply.header.encode_ms = MillisSince(start);
  if (!encoded.ok()) return FailedReply(std::move(reply), encoded.status());
  reply.header.content_type = std::string(ContentTypeOf(*format));
  reply.image = std::move(*encoded);
  return reply;
}

}  // namespace tsdsr::worker
