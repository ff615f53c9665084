// libFuzzer target for the multipart/form-data parser, which reads bytes straight from clients.
// Each input is used three ways:
//  1. the whole input as a body with the fixed boundary kBoundary;
//  2. its first line as a Content-Type header (MultipartBoundary) and the rest as the body;
//  3. every form that parses is written out again canonically and must parse back to the same parts.
// Besides memory errors and undefined behaviour, the checks below fail on any broken invariant.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/fuzz_check.h"
#include "dispatcher/http/multipart.h"

namespace tsdsr::dispatcher {
namespace {

constexpr std::string_view kBoundary = "XyZ";  // the boundary of most seeds in fuzz/corpus/multipart_fuzz
constexpr size_t kSmallMaxParts = 2;

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// What MultipartBoundary promises about a boundary it returns.
void CheckBoundary(const std::string& boundary) {
  TSDSR_FUZZ_CHECK(!boundary.empty() && boundary.size() <= 70);
  TSDSR_FUZZ_CHECK(boundary.back() != ' ');
  for (char c : boundary) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    TSDSR_FUZZ_CHECK(alnum || std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos);
  }
  auto quoted = MultipartBoundary("multipart/form-data; boundary=\"" + boundary + "\"");
  TSDSR_FUZZ_CHECK(quoted.ok() && *quoted == boundary);
}

// Invariants of a successful parse: bodies are views into `body`, in order, not overlapping, each (when not
// empty) followed by a line end and "--boundary", none containing a close delimiter.
void CheckParts(std::string_view body, std::string_view boundary, const std::vector<MultipartPart>& parts) {
  const std::string dash_boundary = "--" + std::string(boundary);
  const std::string close = "\r\n" + dash_boundary + "--";
  const char* previous_end = body.data();
  for (const MultipartPart& part : parts) {
    const char* begin = part.body.data();
    const char* end = begin + part.body.size();
    TSDSR_FUZZ_CHECK(begin >= body.data() && end <= body.data() + body.size());
    TSDSR_FUZZ_CHECK(begin >= previous_end);
    previous_end = end;
    if (!part.body.empty()) {
      std::string_view after = body.substr(end - body.data());
      TSDSR_FUZZ_CHECK(after.substr(0, 1 + dash_boundary.size()) == "\n" + dash_boundary ||
                       after.substr(0, 2 + dash_boundary.size()) == "\r\n" + dash_boundary);
    }
    TSDSR_FUZZ_CHECK(!Contains(part.body, close));
    TSDSR_FUZZ_CHECK(part.name.find('\n') == std::string::npos);
    TSDSR_FUZZ_CHECK(part.content_type.find('\n') == std::string::npos);
  }
}

// A parse with a lower part limit agrees with the unlimited one: the same parts, or TooLarge when there are more.
void CheckPartLimit(std::string_view body, std::string_view boundary, const std::vector<MultipartPart>& parts) {
  auto limited = ParseMultipart(body, boundary, kSmallMaxParts);
  if (parts.size() > kSmallMaxParts) {
    TSDSR_FUZZ_CHECK(!limited.ok() && limited.status().code() == StatusCode::kTooLarge);
    return;
  }
  TSDSR_FUZZ_CHECK(limited.ok() && limited->size() == parts.size());
  for (size_t i = 0; i < parts.size(); ++i) TSDSR_FUZZ_CHECK((*limited)[i].body.data() == parts[i].body.data());
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// RFC 8187 ext-value with every byte percent-encoded, so any filename survives a header line.
std::string ExtValue(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "UTF-8''";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

// Writes `parts` out as a canonical CRLF form and parses it again: the parts must come back unchanged.
// A body that starts with "--boundary" right after the header's empty line is ambiguous (the parser reads an
// empty body and a delimiter), so such forms are skipped, as are forms whose headers would grow too long.
void CheckRoundTrip(std::string_view boundary, const std::vector<MultipartPart>& parts) {
  const std::string dash_boundary = "--" + std::string(boundary);
  std::string form;
  for (const MultipartPart& part : parts) {
    if (part.body.substr(0, dash_boundary.size()) == dash_boundary) return;
    // Keeps the written headers under the parser's 16 KiB limit (quoting and %XX make them up to 3x longer).
    if (part.name.size() + part.filename.size() + part.content_type.size() > 4000) return;
    form += dash_boundary + "\r\nContent-Disposition: form-data; name=" + Quote(part.name);
    if (!part.filename.empty()) form += "; filename*=" + ExtValue(part.filename);
    form += "\r\n";
    if (!part.content_type.empty()) form += "Content-Type: " + part.content_type + "\r\n";
    form += "\r\n";
    form.append(part.body);
    form += "\r\n";
  }
  form += dash_boundary + "--\r\n";
  auto again = ParseMultipart(form, boundary);
  TSDSR_FUZZ_CHECK(again.ok());
  TSDSR_FUZZ_CHECK(again->size() == parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const MultipartPart& a = parts[i];
    const MultipartPart& b = (*again)[i];
    TSDSR_FUZZ_CHECK(a.name == b.name);
    TSDSR_FUZZ_CHECK(a.filename == b.filename);
    TSDSR_FUZZ_CHECK(a.content_type == b.content_type);
    TSDSR_FUZZ_CHECK(a.body == b.body);
  }
}

void CheckBody(std::string_view body, std::string_view boundary) {
  auto parts = ParseMultipart(body, boundary);
  if (!parts.ok()) {
    TSDSR_FUZZ_CHECK(parts.status().code() == StatusCode::kInvalidArgument ||
                     parts.status().code() == StatusCode::kTooLarge);
    return;
  }
  TSDSR_FUZZ_CHECK(parts->size() <= kMaxMultipartParts);
  CheckParts(body, boundary, *parts);
  CheckPartLimit(body, boundary, *parts);
  CheckRoundTrip(boundary, *parts);
}

void FuzzOne(std::string_view input) {
  CheckBody(input, kBoundary);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return;
  auto boundary = MultipartBoundary(input.substr(0, newline));
  if (!boundary.ok()) return;
  CheckBoundary(*boundary);
  CheckBody(input.substr(newline + 1), *boundary);
}

}  // namespace
}  // namespace tsdsr::dispatcher

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A view of libFuzzer's own buffer (no copy), so that ASan sees any read past its end.
  tsdsr::dispatcher::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
