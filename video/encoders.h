// The video encoders the service uses: for each codec (h264, hevc, av1) a software encoder (libx264, libx265,
// libsvtav1) and NVIDIA's hardware one (h264_nvenc, hevc_nvenc, av1_nvenc), with their defaults; and which of them
// work on this machine. Every segment of one video must come from the same encoder (their parameter sets must
// match to join by stream copy), so a video job names an encoder family and the pool places its chunks on the
// workers that have it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tsdsr::video {

// An encoder family, as a job asks for it.
enum class EncoderFamily { kSoftware, kNvenc };

// "software", "nvenc".
std::string_view EncoderFamilyName(EncoderFamily family);
// The inverse of EncoderFamilyName; nullopt for anything else ("auto" is the dispatcher's, not an encoder).
std::optional<EncoderFamily> EncoderFamilyFromName(std::string_view name);

// How one FFmpeg encoder is driven.
struct EncoderSpec {
  std::string_view codec;    // ours: h264, hevc or av1
  EncoderFamily family;
  std::string_view ffmpeg;   // FFmpeg's encoder name
  std::string_view quality;  // the private option that takes `crf`: "crf" (x264, x265, SVT-AV1) or "cq" (NVENC)
  int default_quality;
  int max_quality;
  std::string_view default_preset;
};

// The encoder of `codec` in `family`; nullptr for an unknown codec.
const EncoderSpec* FindEncoder(std::string_view codec, EncoderFamily family);

// Every encoder in the table.
const std::vector<EncoderSpec>& AllEncoders();

// FFmpeg names of the encoders that open on this machine: the software ones FFmpeg was built with, and, when
// `gpu` >= 0, the NVENC encoders that open a session on that CUDA device (a GPU without NVENC, such as an
// A100 or H100, or no driver at all, gives none). Opening NVENC takes up to a few hundred milliseconds: call it
// once, at start. Thread-safe.
std::vector<std::string> UsableEncoders(int gpu);

// The CUDA device index of a device name: "cuda:N" is N, "cuda" is 0, anything else (cpu) is -1.
int CudaIndexOf(std::string_view device);

// True when a worker announcing `encoders` can encode with `ffmpeg_name`. A worker that announced none predates
// the announcement, and has the software encoders only.
bool HasEncoder(const std::vector<std::string>& encoders, std::string_view ffmpeg_name);

}  // namespace tsdsr::video
