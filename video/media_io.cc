#include "video/media_io.h"

#include <algorithm>
#include <cstring>

namespace tsdsr::video {
namespace {

constexpr int kIoBufferSize = 1 << 16;

template <typename Memory>
int64_t SeekIn(Memory* memory, int64_t size, int64_t offset, int whence) {
  if (whence & AVSEEK_SIZE) return size;
  std::int64_t target = offset;
  switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET:
      break;
    case SEEK_CUR:
      target = memory->position + offset;
      break;
    case SEEK_END:
      target = size + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0) return AVERROR(EINVAL);
  memory->position = target;
  return target;
}

// AVIOContext callbacks over bytes in memory.
template <typename Memory>
int ReadMemory(void* opaque, uint8_t* buffer, int size) {
  auto* memory = static_cast<Memory*>(opaque);
  const auto total = static_cast<std::int64_t>(memory->bytes.size());
  if (memory->position >= total) return AVERROR_EOF;
  const int n = static_cast<int>(std::min<std::int64_t>(size, total - memory->position));
  std::memcpy(buffer, memory->bytes.data() + memory->position, static_cast<size_t>(n));
  memory->position += n;
  return n;
}

template <typename Memory>
int64_t SeekMemory(void* opaque, int64_t offset, int whence) {
  auto* memory = static_cast<Memory*>(opaque);
  return SeekIn(memory, static_cast<int64_t>(memory->bytes.size()), offset, whence);
}

template <typename Memory>
int WriteMemory(void* opaque, uint8_t* buffer, int size) {
  auto* memory = static_cast<Memory*>(opaque);
  const auto end = static_cast<size_t>(memory->position) + static_cast<size_t>(size);
  if (memory->bytes.size() < end) memory->bytes.resize(end);
  std::memcpy(memory->bytes.data() + memory->position, buffer, static_cast<size_t>(size));
  memory->position += size;
  return size;
}

// An AVIOContext with its own buffer that reads `memory`, or writes into it; null when FFmpeg cannot allocate.
template <typename Memory>
AVIOContext* ReaderIo(Memory* memory) {
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return nullptr;
  AVIOContext* io =
      avio_alloc_context(buffer, kIoBufferSize, 0, memory, &ReadMemory<Memory>, nullptr, &SeekMemory<Memory>);
  if (io == nullptr) av_free(buffer);
  return io;
}

template <typename Memory>
AVIOContext* WriterIo(Memory* memory) {
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return nullptr;
  AVIOContext* io =
      avio_alloc_context(buffer, kIoBufferSize, 1, memory, nullptr, &WriteMemory<Memory>, &SeekMemory<Memory>);
  if (io == nullptr) av_free(buffer);
  return io;
}

void FreeIo(AVIOContext** io) {
  if (*io == nullptr) return;
  av_freep(&(*io)->buffer);
  avio_context_free(io);
}

}  // namespace

Result<std::unique_ptr<Demuxer>> Demuxer::OpenFile(const std::string& path) {
  std::unique_ptr<Demuxer> demuxer(new Demuxer());
  demuxer->name_ = path;
  TSDSR_RETURN_IF_ERROR(demuxer->Open(path.c_str()));
  return demuxer;
}

Result<std::unique_ptr<Demuxer>> Demuxer::OpenBytes(std::string_view bytes, const std::string& name) {
  std::unique_ptr<Demuxer> demuxer(new Demuxer());
  demuxer->name_ = name;
  demuxer->memory_ = std::make_unique<Memory>(Memory{bytes, 0});
  demuxer->io_ = ReaderIo(demuxer->memory_.get());
  if (demuxer->io_ == nullptr) return Status::Internal("cannot allocate an FFmpeg reader");
  TSDSR_RETURN_IF_ERROR(demuxer->Open(nullptr));
  return demuxer;
}

Status Demuxer::Open(const char* url) {
  RouteFfmpegLogs();
  AVFormatContext* context = avformat_alloc_context();
  if (context == nullptr) return Status::Internal("cannot allocate an FFmpeg demuxer");
  if (io_ != nullptr) {
    context->pb = io_;
    context->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  int rc = avformat_open_input(&context, url, nullptr, nullptr);  // frees `context` when it fails
  if (rc < 0) return AvError(rc, "cannot read " + name_ + " as a media file");
  input_.reset(context);
  rc = avformat_find_stream_info(context, nullptr);
  if (rc < 0) return AvError(rc, "cannot read the streams of " + name_);
  return Status::Ok();
}

Demuxer::~Demuxer() {
  input_.reset();  // before the I/O context it reads through
  FreeIo(&io_);
}

Result<bool> Demuxer::Read(AVPacket* packet) {
  av_packet_unref(packet);
  const int rc = av_read_frame(input_.get(), packet);
  if (rc == AVERROR_EOF) return false;
  if (rc < 0) return AvError(rc, "cannot read " + name_);
  return true;
}

Result<std::unique_ptr<Muxer>> Muxer::Create(const std::string& format, const std::string& path) {
  RouteFfmpegLogs();
  std::unique_ptr<Muxer> muxer(new Muxer());
  muxer->path_ = path;
  AVFormatContext* context = nullptr;
  int rc = avformat_alloc_output_context2(&context, nullptr, format.c_str(), path.empty() ? nullptr : path.c_str());
  if (rc < 0 || context == nullptr) return AvError(rc < 0 ? rc : AVERROR_MUXER_NOT_FOUND, "no muxer " + format);
  muxer->output_.reset(context);
  if (path.empty()) {
    muxer->memory_ = std::make_unique<Memory>();
    muxer->io_ = WriterIo(muxer->memory_.get());
    if (muxer->io_ == nullptr) return Status::Internal("cannot allocate an FFmpeg writer");
    context->pb = muxer->io_;
    context->flags |= AVFMT_FLAG_CUSTOM_IO;
  } else {
    rc = avio_open(&context->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (rc < 0) return AvError(rc, "cannot create " + path);
  }
  return muxer;
}

Muxer::~Muxer() {
  if (output_ && memory_ == nullptr) avio_closep(&output_->pb);
  output_.reset();
  FreeIo(&io_);
}

Status Muxer::WriteHeader(AVDictionary** options) {
  const int rc = avformat_write_header(output_.get(), options);
  if (rc < 0) return AvError(rc, "cannot start writing " + (path_.empty() ? std::string("a segment") : path_));
  header_written_ = true;
  return Status::Ok();
}

Status Muxer::Write(AVPacket* packet) {
  const int rc = av_interleaved_write_frame(output_.get(), packet);
  if (rc < 0) return AvError(rc, "cannot write " + (path_.empty() ? std::string("a segment") : path_));
  return Status::Ok();
}

Status Muxer::Finish() {
  if (finished_ || !header_written_) return Status::Ok();
  finished_ = true;
  int rc = av_write_trailer(output_.get());
  if (rc >= 0 && output_->pb != nullptr) {
    avio_flush(output_->pb);
    rc = output_->pb->error;
  }
  if (rc < 0) return AvError(rc, "cannot finish " + (path_.empty() ? std::string("a segment") : path_));
  return Status::Ok();
}

std::string Muxer::TakeBytes() { return memory_ ? std::move(memory_->bytes) : std::string(); }

}  // namespace tsdsr::video
