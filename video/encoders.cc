#include "video/encoders.h"

#include <algorithm>

extern "C" {
#include <libavutil/opt.h>
}

#include "video/av_handles.h"

namespace tsdsr::video {
namespace {

using F = EncoderFamily;

// NVENC: constant quality is `cq` under VBR rate control, presets p1 (fastest) to p7 (best).
const std::vector<EncoderSpec> kEncoders = {
    {"h264", F::kSoftware, "libx264", "crf", 20, 51, "fast"},
    {"hevc", F::kSoftware, "libx265", "crf", 22, 51, "fast"},
    {"av1", F::kSoftware, "libsvtav1", "crf", 30, 63, "8"},
    {"h264", F::kNvenc, "h264_nvenc", "cq", 21, 51, "p5"},
    {"hevc", F::kNvenc, "hevc_nvenc", "cq", 24, 51, "p5"},
    {"av1", F::kNvenc, "av1_nvenc", "cq", 30, 51, "p5"},
};

// True when `spec`'s encoder opens a session on CUDA device `gpu` for a small frame.
bool NvencOpens(const EncoderSpec& spec, int gpu) {
  const AVCodec* codec = avcodec_find_encoder_by_name(std::string(spec.ffmpeg).c_str());
  if (codec == nullptr) return false;
  CodecContext context(avcodec_alloc_context3(codec));
  if (!context) return false;
  context->width = 256;
  context->height = 256;
  context->pix_fmt = AV_PIX_FMT_YUV420P;
  context->time_base = AVRational{1, 25};
  av_opt_set_int(context->priv_data, "gpu", gpu, 0);
  return avcodec_open2(context.get(), codec, nullptr) >= 0;
}

}  // namespace

std::string_view EncoderFamilyName(EncoderFamily family) {
  return family == EncoderFamily::kNvenc ? "nvenc" : "software";
}

std::optional<EncoderFamily> EncoderFamilyFromName(std::string_view name) {
  if (name == "software") return EncoderFamily::kSoftware;
  if (name == "nvenc") return EncoderFamily::kNvenc;
  return std::nullopt;
}

const EncoderSpec* FindEncoder(std::string_view codec, EncoderFamily family) {
  for (const EncoderSpec& e : kEncoders) {
    if (e.codec == codec && e.family == family) return &e;
  }
  return nullptr;
}

const std::vector<EncoderSpec>& AllEncoders() { return kEncoders; }

std::vector<std::string> UsableEncoders(int gpu) {
  RouteFfmpegLogs();
  std::vector<std::string> usable;
  for (const EncoderSpec& e : kEncoders) {
    const bool ok = e.family == EncoderFamily::kSoftware
                        ? avcodec_find_encoder_by_name(std::string(e.ffmpeg).c_str()) != nullptr
                        : gpu >= 0 && NvencOpens(e, gpu);
    if (ok) usable.emplace_back(e.ffmpeg);
  }
  return usable;
}

int CudaIndexOf(std::string_view device) {
  if (device == "cuda") return 0;
  if (device.substr(0, 5) != "cuda:" || device.size() == 5 || device.size() > 8) return -1;
  int index = 0;
  for (char c : device.substr(5)) {
    if (c < '0' || c > '9') return -1;
    index = index * 10 + (c - '0');
  }
  return index;
}

bool HasEncoder(const std::vector<std::string>& encoders, std::string_view ffmpeg_name) {
  if (encoders.empty()) {
    return std::any_of(kEncoders.begin(), kEncoders.end(), [&](const EncoderSpec& e) {
      return e.family == EncoderFamily::kSoftware && e.ffmpeg == ffmpeg_name;
    });
  }
  return std::find(encoders.begin(), encoders.end(), ffmpeg_name) != encoders.end();
}

}  // namespace tsdsr::video
