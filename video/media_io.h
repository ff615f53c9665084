// Where FFmpeg reads and writes: demuxers over a file or over bytes in memory, and muxers into a file or into
// memory (seekable, as MP4 rewrites its index at the end). The worker gets a chunk and answers a segment as bytes;
// the dispatcher reads and writes files in its data dir. Not thread-safe: one thread per object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "video/av_handles.h"

namespace tsdsr::video {

class Demuxer {
 public:
  // Opens and reads the header (and, when the header leaves codec parameters open, a little of the stream).
  // InvalidArgument naming the file for what FFmpeg cannot read, NotFound for a missing file.
  static Result<std::unique_ptr<Demuxer>> OpenFile(const std::string& path);
  // The same over `bytes`, which must outlive the Demuxer; `name` is for messages.
  static Result<std::unique_ptr<Demuxer>> OpenBytes(std::string_view bytes, const std::string& name);
  ~Demuxer();
  Demuxer(const Demuxer&) = delete;
  Demuxer& operator=(const Demuxer&) = delete;

  AVFormatContext* context() const { return input_.get(); }
  const std::string& name() const { return name_; }

  // The next packet of any stream into `packet` (unreferenced first); false at the end. Errors other than the end
  // are InvalidArgument (a damaged or truncated file).
  Result<bool> Read(AVPacket* packet);

 private:
  struct Memory {
    std::string_view bytes;
    std::int64_t position = 0;
  };
  Demuxer() = default;
  Status Open(const char* url);

  std::string name_;
  std::unique_ptr<Memory> memory_;  // the bytes read through io_, when not a file
  AVIOContext* io_ = nullptr;       // owned when memory_ is set
  InputContext input_;
};

class Muxer {
 public:
  // A muxer of `format` ("mp4", "matroska", "nut", ...) writing to `path`, or to memory when `path` is empty.
  // InvalidArgument for an unknown format; the error of creating the file otherwise.
  static Result<std::unique_ptr<Muxer>> Create(const std::string& format, const std::string& path);
  ~Muxer();
  Muxer(const Muxer&) = delete;
  Muxer& operator=(const Muxer&) = delete;

  AVFormatContext* context() const { return output_.get(); }

  // Writes the header once the streams are added (with `options`, e.g. "movflags=+faststart"; may be null).
  Status WriteHeader(AVDictionary** options = nullptr);
  // Writes a packet with timestamps in its stream's time base; the muxer takes the packet's data.
  Status Write(AVPacket* packet);
  // Writes the trailer and flushes. Idempotent.
  Status Finish();
  // What was written to memory (empty for a file); call after Finish.
  std::string TakeBytes();

 private:
  struct Memory {
    std::string bytes;
    std::int64_t position = 0;
  };
  Muxer() = default;

  std::string path_;
  std::unique_ptr<Memory> memory_;
  AVIOContext* io_ = nullptr;  // owned
  OutputContext output_;
  bool header_written_ = false;
  bool finished_ = false;
};

}  // namespace tsdsr::video
