#include "dispatcher/http/http_request_head.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "common/text.h"

namespace tsdsr::dispatcher {
namespace {

// True when the comma-separated `list` holds `token` (case-insensitive), as in `Connection: keep-alive, Upgrade`.
bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = std::min(list.find(','), list.size());
    if (EqualsIgnoreCase(TrimBlanks(list.substr(0, comma)), token)) return true;
    list.remove_prefix(std::min(comma + 1, list.size()));
  }
  return false;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

size_t FindRequestHeadEnd(std::string_view head, size_t from) {
  for (size_t i = head.find('\n', from); i != std::string_view::npos; i = head.find('\n', i + 1)) {
    if (i + 1 < head.size() && head[i + 1] == '\n') return i + 2;
    if (i + 2 < head.size() && head[i + 1] == '\r' && head[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

Result<RequestHead> ParseRequestHead(std::string_view head) {
  RequestHead out;
  bool close = false, keep_alive = false, has_length = false;
  for (size_t pos = 0, line_no = 0;; ++line_no) {
    size_t newline = head.find('\n', pos);
    if (newline == std::string_view::npos) break;
    std::string_view line = head.substr(pos, newline - pos);
    pos = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 0) {
      size_t space = line.rfind(' ');
      if (space == std::string_view::npos || line.find(' ') == space) {
        return Status::InvalidArgument("malformed request line \"" + Printable(line) + "\"");
      }
      std::string_view version = line.substr(space + 1);
      if (version == "HTTP/1.0") {
        out.http11 = false;
      } else if (version != "HTTP/1.1") {
        return Status::InvalidArgument("unsupported HTTP version \"" + Printable(version) + "\"");
      }
      continue;
    }
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("malformed header line \"" + Printable(line) + "\"");
    }
    std::string_view name = TrimBlanks(line.substr(0, colon));
    std::string_view value = TrimBlanks(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Length")) {
      uint64_t length = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
        return Status::InvalidArgument("invalid Content-Length \"" + Printable(value) + "\"");
      }
      if (has_length && length != out.content_length) return Status::InvalidArgument("conflicting Content-Length");
      has_length = true;
      out.content_length = length;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      if (!EqualsIgnoreCase(value, "chunked")) {
        return Status::InvalidArgument("Transfer-Encoding \"" + Printable(value) +
                                       "\" is not supported (only chunked)");
      }
      out.chunked = true;
    } else if (EqualsIgnoreCase(name, "Connection")) {
      close = close || HasToken(value, "close");
      keep_alive = keep_alive || HasToken(value, "keep-alive");
    } else if (EqualsIgnoreCase(name, "Expect")) {
      out.expect_continue = EqualsIgnoreCase(value, "100-continue");
    }
  }
  if (has_length && out.chunked) {
    return Status::InvalidArgument("a request must not have both Content-Length and Transfer-Encoding");
  }
  out.keep_alive = !close && (out.http11 || keep_alive);
  out.expect_continue = out.expect_continue && out.http11;  // RFC 9110 §10.1.1: ignored from HTTP/1.0 clients
  return out;
}

std::string WithoutBodyFraming(std::string_view head) {
  std::string out;
  out.reserve(head.size());
  for (size_t pos = 0; pos < head.size();) {
    const size_t newline = head.find('\n', pos);
    const size_t end = newline == std::string_view::npos ? head.size() : newline + 1;
    const std::string_view line = head.substr(pos, end - pos);
    const std::string_view name = TrimBlanks(line.substr(0, std::min(line.find(':'), line.size())));
    const bool framing = pos > 0 && line.find(':') != std::string_view::npos &&
                         (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
                          EqualsIgnoreCase(name, "Expect"));
    if (!framing) out.append(line);
    pos = end;
  }
  return out;
}

}  // namespace tsdsr::dispatcher
