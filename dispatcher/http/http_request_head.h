// What the head of an HTTP/1.x request (RFC 9112) says about its framing and its connection: what the front door
// must know before Pistache parses the request, to answer `Expect: 100-continue`, to refuse an over-limit body before
// reading it, to find where the next request starts, and to keep the connection alive or close it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsdsr::dispatcher {

struct RequestHead {
  bool http11 = true;            // HTTP/1.1; false for HTTP/1.0
  bool keep_alive = true;        // the connection stays open after the response (see ParseRequestHead)
  bool expect_continue = false;  // `Expect: 100-continue` from an HTTP/1.1 client
  bool chunked = false;          // `Transfer-Encoding: chunked`
  uint64_t content_length = 0;   // 0 when absent
};

// Offset just past the empty line that ends the request head at the start of `bytes` (CRLF or bare-LF lines),
// considering line ends from offset `from` on; npos while the head is incomplete. Pure.
size_t FindRequestHeadEnd(std::string_view bytes, size_t from = 0);

// Parses a complete head: request line, then header lines up to the empty line. keep_alive is HTTP/1.1 without
// `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`. InvalidArgument naming the offending text for a
// malformed request or header line, a version other than HTTP/1.0 and 1.1, a bad or conflicting Content-Length, a
// Transfer-Encoding other than chunked, or both Content-Length and Transfer-Encoding. Pure.
Result<RequestHead> ParseRequestHead(std::string_view head);

// `head` (complete, as ParseRequestHead took it) without its Content-Length, Transfer-Encoding and Expect lines: a
// request without a body to Pistache, whose body the transport has read itself. Pure.
std::string WithoutBodyFraming(std::string_view head);

}  // namespace tsdsr::dispatcher
