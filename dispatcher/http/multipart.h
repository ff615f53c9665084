// multipart/form-data (RFC 7578 on top of RFC 2046 §5.1): the boundary from a Content-Type header, and a
// zero-copy split of a request body into its parts. Pistache has no multipart support.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tsdsr::dispatcher {

// Most parts ParseMultipart accepts by default; a form with more is refused as TooLarge.
inline constexpr size_t kMaxMultipartParts = 1000;

// One part of a multipart/form-data body.
struct MultipartPart {
  std::string name;          // the form field: Content-Disposition `name`
  std::string filename;      // `filename*` (decoded) or `filename`; empty when the part is not a file
  std::string content_type;  // the part's Content-Type, trimmed; empty when absent (RFC 7578 default: text/plain)
  std::string_view body;     // points into the buffer given to ParseMultipart, which must outlive this part
};

// Returns the boundary parameter of a Content-Type header value such as
// `multipart/form-data; boundary="abc"` (quoted or not; type and parameter names case-insensitive).
// InvalidArgument if the type is not multipart/form-data or the boundary is missing, over 70 chars or not RFC 2046.
Result<std::string> MultipartBoundary(std::string_view content_type_header);

// Splits `body` into its parts, in order, without copying: each part's body is a view into `body`, so the caller's
// buffer must outlive the parts. Skips preamble and epilogue; takes CRLF or bare-LF lines and binary part bodies.
// InvalidArgument when malformed or truncated (no closing boundary) or when a part lacks
// `Content-Disposition: form-data; name=...`; TooLarge above `max_parts` parts. Pure, thread-safe.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  size_t max_parts = kMaxMultipartParts);

}  // namespace tsdsr::dispatcher
