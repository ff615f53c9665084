#include "dispatcher/http/chunked_body.h"

#include <algorithm>

namespace tsdsr::dispatcher {
namespace {

constexpr size_t kMaxLineBytes = 8 << 10;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ChunkedBody::TakeLine(std::string_view input, size_t* used, std::string_view* line) {
  const size_t lf = input.find('\n');
  const size_t take = lf == std::string_view::npos ? input.size() : lf + 1;
  line_.append(input.substr(0, take));
  *used = take;
  if (lf == std::string_view::npos) return false;
  std::string_view text = line_;
  text.remove_suffix(1);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  *line = text;
  return true;
}

Status ChunkedBody::OnSizeLine(std::string_view line) {
  line = line.substr(0, line.find(';'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.empty() || line.size() > 15) return Status::InvalidArgument("bad chunk size line in a chunked body");
  std::uint64_t size = 0;
  for (char c : line) {
    const int digit = HexDigit(c);
    if (digit < 0) return Status::InvalidArgument("bad chunk size '" + std::string(line) + "' in a chunked body");
    size = size * 16 + static_cast<std::uint64_t>(digit);
  }
  left_ = size;
  state_ = size == 0 ? State::kTrailer : State::kData;
  return Status::Ok();
}

Result<size_t> ChunkedBody::Feed(std::string_view input, std::string* body) {
  size_t consumed = 0;
  while (consumed < input.size() && state_ != State::kDone) {
    std::string_view rest = input.substr(consumed);
    if (state_ == State::kData) {
      const size_t take = static_cast<size_t>(std::min<std::uint64_t>(left_, rest.size()));
      body->append(rest.substr(0, take));
      consumed += take;
      left_ -= take;
      if (left_ == 0) state_ = State::kDataEnd;
      continue;
    }
    size_t used = 0;
    std::string_view line;
    const bool complete = TakeLine(rest, &used, &line);
    consumed += used;
    if (!complete) {
      if (line_.size() > kMaxLineBytes) return Status::InvalidArgument("a chunked body's line exceeds 8 KiB");
      continue;
    }
    if (state_ == State::kSize) {
      TSDSR_RETURN_IF_ERROR(OnSizeLine(line));
    } else if (state_ == State::kDataEnd) {
      if (!line.empty()) return Status::InvalidArgument("chunk data longer than its size in a chunked body");
      state_ = State::kSize;
    } else {  // kTrailer: fields until the empty line
      trailer_bytes_ += line_.size();
      if (trailer_bytes_ > kMaxLineBytes) return Status::InvalidArgument("a chunked body's trailer exceeds 8 KiB");
      if (line.empty()) state_ = State::kDone;
    }
    line_.clear();
  }
  return consumed;
}

}  // namespace tsdsr::dispatcher
