// TEST ONLY (header-only): test clips made by Debian's ffmpeg program (an independent encoder) from frames that
// carry their own index as a pattern, so that after decoding, upscaling and encoding every frame can still say
// which it is; and reading that index back.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace tsdsr::video::testing {

inline constexpr int kIndexBits = 12;  // up to 4095 frames

struct ClipSpec {
  int width = 96;
  int height = 64;
  int frames = 30;
  std::string rate = "25";        // ffmpeg's -r: "25", "30000/1001", ...
  std::string codec = "libx264";  // ffmpeg's encoder
  int gop = 12;                   // keyframe interval
  bool audio = false;             // a 440 Hz sine track (AAC in MP4, FLAC in MKV)
  bool subtitle = false;          // an SRT subtitle track (MKV only)
  bool variable_rate = false;     // frame times wobble: 0, 40, 90, 120, 170 ms, ... (container time base 1/1000)
  std::string extra;              // more output options
  int rotate = 0;                 // a display matrix: players turn the picture this many degrees clockwise, as
                                  // ProbeFile's rotation says (MP4 or MOV only)
};

// Frame `index`: a grey gradient with the index as kIndexBits black or white blocks along the top.
inline cv::Mat IndexFrame(int index, int width, int height) {
  cv::Mat frame(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      frame.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 200 / width + 20), uchar(y * 200 / height + 20), 128);
    }
  }
  const int block = width / kIndexBits;
  for (int bit = 0; bit < kIndexBits; ++bit) {
    const uchar v = ((index >> bit) & 1) ? 255 : 0;
    cv::rectangle(frame, cv::Rect(bit * block, 0, block, height / 4), cv::Scalar(v, v, v), cv::FILLED);
  }
  return frame;
}

// The index an IndexFrame of `width` (scaled by any factor) carries; -1 when the blocks are not clear.
inline int ReadIndex(const cv::Mat& frame) {
  const int block = frame.cols / kIndexBits;
  int index = 0;
  for (int bit = 0; bit < kIndexBits; ++bit) {
    const cv::Rect inner(bit * block + block / 4, frame.rows / 16, block / 2, frame.rows / 8);
    const double mean = cv::mean(frame(inner))[1];
    if (mean > 100 && mean < 155) return -1;
    if (mean >= 155) index |= 1 << bit;
  }
  return index;
}

// Writes the clip to `path` with ffmpeg; the program's exit status (0 when it worked).
inline int MakeClip(const std::string& path, const ClipSpec& spec) {
  std::string command = "ffmpeg -hide_banner -loglevel error -y -f rawvideo -pix_fmt bgr24 -s " +
                        std::to_string(spec.width) + "x" + std::to_string(spec.height) + " -r " + spec.rate + " -i -";
  const bool mkv = path.size() > 4 && path.substr(path.size() - 4) == ".mkv";
  if (spec.audio) {  // as long as the video (the subtitles may end sooner: no -shortest)
    const size_t slash = spec.rate.find('/');
    const double rate = slash == std::string::npos
                            ? std::stod(spec.rate)
                            : std::stod(spec.rate.substr(0, slash)) / std::stod(spec.rate.substr(slash + 1));
    const double seconds = spec.variable_rate ? spec.frames * 0.04 : spec.frames / rate;
    command += " -f lavfi -i sine=frequency=440:sample_rate=48000:duration=" + std::to_string(seconds);
  }
  std::string srt;
  if (spec.subtitle) {
    srt = path + ".srt";
    if (FILE* f = std::fopen(srt.c_str(), "w")) {
      std::fputs("1\n00:00:00,000 --> 00:00:00,500\nfirst line\n\n2\n00:00:00,600 --> 00:00:01,000\nsecond\n\n", f);
      std::fclose(f);
    }
    command += " -i " + srt;
  }
  command += " -map 0:v";
  if (spec.audio) command += " -map 1:a -c:a " + std::string(mkv ? "flac" : "aac");
  if (spec.subtitle) command += " -map " + std::string(spec.audio ? "2" : "1") + ":s -c:s srt";
  command += " -c:v " + spec.codec + " -pix_fmt yuv420p -g " + std::to_string(spec.gop);
  if (spec.codec == "libx265") command += " -x265-params log-level=error";
  if (spec.variable_rate) {
    command +=
        " -vf \"settb=1/1000,setpts='(N*40+10*mod(N\\,3))/1000/TB'\" -fps_mode passthrough -enc_time_base 1/1000";
  }
  // FFmpeg 5.1 sets a display matrix only when stream-copying (its rotate= turns counterclockwise): a second pass.
  const std::string encoded = spec.rotate != 0 ? path + ".unrotated" + path.substr(path.rfind('.')) : path;
  command += " " + spec.extra + " " + encoded;
  FILE* pipe = popen(command.c_str(), "w");
  if (pipe == nullptr) return -1;
  for (int i = 0; i < spec.frames; ++i) {
    const cv::Mat frame = IndexFrame(i, spec.width, spec.height);
    std::fwrite(frame.data, 1, frame.total() * frame.elemSize(), pipe);
  }
  int status = pclose(pipe);
  if (!srt.empty()) std::remove(srt.c_str());
  if (spec.rotate != 0 && status == 0) {
    const std::string remux = "ffmpeg -hide_banner -loglevel error -y -i " + encoded +
                              " -map 0 -c copy -metadata:s:v:0 rotate=" + std::to_string((360 - spec.rotate) % 360) +
                              " " + path;
    status = std::system(remux.c_str());
  }
  if (encoded != path) std::remove(encoded.c_str());
  return status;
}

}  // namespace tsdsr::video::testing
