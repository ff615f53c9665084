// The body of a request sent with `Transfer-Encoding: chunked` (RFC 9112 §7.1), decoded as it arrives: chunk sizes
// in hex (extensions after `;` ignored), each chunk's data and CRLF, then a zero chunk and a trailer section that
// ends with an empty line (trailer fields are read and dropped). Not thread-safe: one per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsdsr::dispatcher {

class ChunkedBody {
 public:
  // Consumes bytes from the front of `input`, appending chunk data to `*body`; returns how many were consumed
  // (fewer than input.size() only once the body is complete: the rest is the next request). InvalidArgument for a
  // malformed size line or chunk end, or a size line or trailer over 8 KiB.
  Result<size_t> Feed(std::string_view input, std::string* body);
  // True once the zero chunk and the trailer section have been read.
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone };
  // A complete line (without its LF or CRLF) accumulated in line_; false when more input is needed.
  bool TakeLine(std::string_view input, size_t* used, std::string_view* line);
  Status OnSizeLine(std::string_view line);

  State state_ = State::kSize;
  std::uint64_t left_ = 0;  // data bytes of the current chunk still to come
  std::string line_;        // the line being read
  size_t trailer_bytes_ = 0;
};

}  // namespace tsdsr::dispatcher
