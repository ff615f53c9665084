#include "dispatcher/http/multipart.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/text.h"

namespace tsdsr::dispatcher {
namespace {

constexpr size_t kMaxBoundaryLength = 70;  // RFC 2046 §5.1.1
constexpr size_t kMaxPartHeaderBytes = size_t{16} << 10;
constexpr std::string_view kBoundaryPunctuation = "'()+_,-./:=? ";  // bchars besides letters and digits

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// A printable excerpt of client data for error messages.
std::string Excerpt(std::string_view s) {
  constexpr size_t kMaxExcerpt = 60;
  std::string out;
  for (char c : s.substr(0, kMaxExcerpt)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > kMaxExcerpt) out += "...";
  return out;
}

std::string PartPrefix(size_t index) { return "multipart part " + std::to_string(index) + ": "; }

Status Truncated(size_t index) {
  return Status::InvalidArgument("multipart body is truncated: part " + std::to_string(index) +
                                 " is not followed by a boundary line (a closing \"--boundary--\" is required)");
}

struct Param {
  std::string name;  // lower-cased
  std::string value;
};

// Parses the `; name=value; name="quoted"` list that follows a media or disposition type (RFC 9110 §5.6.6).
// In a quoted string a backslash escapes only `"` and `\`, so a quoted Windows path keeps its backslashes.
Result<std::vector<Param>> ParseParams(std::string_view s) {
  std::vector<Param> params;
  size_t i = 0;
  auto skip_blanks = [&] {
    while (i < s.size() && IsBlank(s[i])) ++i;
  };
  while (true) {
    skip_blanks();
    if (i == s.size()) return params;
    if (s[i] != ';') return Status::InvalidArgument("expected ';' before \"" + Excerpt(s.substr(i)) + "\"");
    ++i;
    skip_blanks();
    if (i == s.size()) return params;  // a trailing ';'
    size_t eq = s.find_first_of("=;", i);
    if (eq == std::string_view::npos || s[eq] != '=') {
      return Status::InvalidArgument("parameter \"" + Excerpt(TrimBlanks(s.substr(i, eq - i))) + "\" has no value");
    }
    Param param;
    for (char c : TrimBlanks(s.substr(i, eq - i))) param.name += AsciiLower(c);
    if (param.name.empty()) return Status::InvalidArgument("a parameter has an empty name");
    i = eq + 1;
    skip_blanks();
    if (i < s.size() && s[i] == '"') {
      bool closed = false;
      for (++i; i < s.size();) {
        char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < s.size() && (s[i] == '"' || s[i] == '\\')) c = s[i++];
        param.value += c;
      }
      if (!closed) return Status::InvalidArgument("the quoted value of parameter " + param.name + " is not closed");
    } else {
      size_t end = std::min(s.find(';', i), s.size());
      param.value = std::string(TrimBlanks(s.substr(i, end - i)));
      i = end;
    }
    params.push_back(std::move(param));
  }
}

const std::string* FindParam(const std::vector<Param>& params, std::string_view name) {
  for (const auto& param : params) {
    if (param.name == name) return &param.value;
  }
  return nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes an RFC 8187 ext-value (`UTF-8'en'na%C3%AFve.png`) to UTF-8; nullopt when malformed or another charset.
std::optional<std::string> DecodeExtValue(std::string_view value) {
  size_t quote1 = value.find('\'');
  size_t quote2 = quote1 == std::string_view::npos ? quote1 : value.find('\'', quote1 + 1);
  if (quote2 == std::string_view::npos) return std::nullopt;
  std::string_view charset = value.substr(0, quote1);
  const bool latin1 = EqualsIgnoreCase(charset, "iso-8859-1");
  if (!latin1 && !EqualsIgnoreCase(charset, "utf-8")) return std::nullopt;
  std::string out;
  for (size_t i = quote2 + 1; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c == '%') {
      if (i + 2 >= value.size()) return std::nullopt;
      int hi = HexValue(value[i + 1]);
      int lo = HexValue(value[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<unsigned char>(hi * 16 + lo);
      i += 2;
    }
    if (latin1 && c >= 0x80) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Status ParseDisposition(std::string_view value, size_t index, MultipartPart& part) {
  size_t semi = value.find(';');
  std::string_view type = TrimBlanks(value.substr(0, semi));
  if (!EqualsIgnoreCase(type, "form-data")) {
    return Status::InvalidArgument(PartPrefix(index) + "Content-Disposition is \"" + Excerpt(type) +
                                   "\", expected form-data");
  }
  std::vector<Param> params;
  if (semi != std::string_view::npos) {
    auto parsed = ParseParams(value.substr(semi));
    if (!parsed.ok()) {
      return Status::InvalidArgument(PartPrefix(index) + "bad Content-Disposition: " + parsed.status().message());
    }
    params = std::move(parsed).value();
  }
  const std::string* name = FindParam(params, "name");
  if (name == nullptr) return Status::InvalidArgument(PartPrefix(index) + "Content-Disposition has no name");
  part.name = *name;
  if (const std::string* filename = FindParam(params, "filename")) part.filename = *filename;
  if (const std::string* extended = FindParam(params, "filename*")) {
    if (auto decoded = DecodeExtValue(*extended)) part.filename = std::move(*decoded);
  }
  return Status::Ok();
}

// Reads the header lines of part `index` starting at `pos` (CRLF or bare LF, obsolete folding joined) up to the
// empty line; fills `part` and returns the offset of the part's body.
Result<size_t> ParsePartHeaders(std::string_view body, size_t pos, size_t index, MultipartPart& part) {
  const size_t start = pos;
  std::string disposition;
  bool has_disposition = false;
  std::string* last = nullptr;  // the value a folded line continues
  while (true) {
    size_t newline = body.find('\n', pos);
    if (newline == std::string_view::npos) {
      return Status::InvalidArgument("multipart body is truncated in the headers of part " + std::to_string(index));
    }
    if (newline - start > kMaxPartHeaderBytes) {
      return Status::InvalidArgument(PartPrefix(index) + "headers are longer than 16 KiB");
    }
    std::string_view line = body.substr(pos, newline - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = newline + 1;
    if (line.empty()) break;
    if (IsBlank(line.front()) && last != nullptr) {  // obsolete line folding: one space joins the pieces
      std::string_view more = TrimBlanks(line);
      if (!last->empty() && !more.empty()) last->push_back(' ');
      last->append(more);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument(PartPrefix(index) + "malformed header line \"" + Excerpt(line) +
                                     "\" (each part needs header lines, then an empty line, then its body)");
    }
    std::string_view name = TrimBlanks(line.substr(0, colon));
    std::string_view value = TrimBlanks(line.substr(colon + 1));
    last = nullptr;
    if (EqualsIgnoreCase(name, "Content-Disposition")) {
      disposition = std::string(value);
      has_disposition = true;
      last = &disposition;
    } else if (EqualsIgnoreCase(name, "Content-Type")) {
      part.content_type = std::string(value);
      last = &part.content_type;
    }
  }
  if (!has_disposition) return Status::InvalidArgument(PartPrefix(index) + "no Content-Disposition header");
  TSDSR_RETURN_IF_ERROR(ParseDisposition(disposition, index, part));
  return pos;
}

enum class LineKind { kNotDelimiter, kNext, kClose, kTruncated };

struct Delimiter {
  LineKind kind = LineKind::kNotDelimiter;
  size_t next = 0;    // first byte after the delimiter line
  bool crlf = false;  // the line ended with CRLF (not bare LF)
};

// Classifies the "--boundary" found at `pos`: a delimiter line is followed by optional blanks and a line end,
// a close delimiter by "--"; anything else (e.g. "--boundaryX") is part of a body.
Delimiter ClassifyDelimiter(std::string_view body, size_t pos, size_t dash_boundary_size) {
  size_t i = pos + dash_boundary_size;
  if (body.compare(i, 2, "--") == 0) return {LineKind::kClose, i + 2, false};
  while (i < body.size() && IsBlank(body[i])) ++i;  // transport padding
  if (i == body.size()) return {LineKind::kTruncated, i, false};
  if (body[i] == '\n') return {LineKind::kNext, i + 1, false};
  if (body[i] == '\r') {
    if (i + 1 == body.size()) return {LineKind::kTruncated, i, false};
    if (body[i + 1] == '\n') return {LineKind::kNext, i + 2, true};
  }
  return {};
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type_header) {
  size_t semi = content_type_header.find(';');
  std::string_view type = TrimBlanks(content_type_header.substr(0, semi));
  if (!EqualsIgnoreCase(type, "multipart/form-data")) {
    return Status::InvalidArgument("Content-Type must be multipart/form-data, got \"" + Excerpt(type) + "\"");
  }
  std::vector<Param> params;
  if (semi != std::string_view::npos) {
    auto parsed = ParseParams(content_type_header.substr(semi));
    if (!parsed.ok()) return Status::InvalidArgument("bad Content-Type parameters: " + parsed.status().message());
    params = std::move(parsed).value();
  }
  const std::string* boundary = FindParam(params, "boundary");
  if (boundary == nullptr || boundary->empty()) {
    return Status::InvalidArgument("the multipart/form-data Content-Type has no boundary parameter");
  }
  if (boundary->size() > kMaxBoundaryLength) {
    return Status::InvalidArgument("the multipart boundary has " + std::to_string(boundary->size()) +
                                   " characters; at most 70 are allowed");
  }
  for (char c : *boundary) {
    if (!IsAlnum(c) && kBoundaryPunctuation.find(c) == std::string_view::npos) {
      return Status::InvalidArgument("the multipart boundary contains a character RFC 2046 does not allow: \"" +
                                     Excerpt(*boundary) + "\"");
    }
  }
  if (boundary->back() == ' ') return Status::InvalidArgument("the multipart boundary must not end with a space");
  return *boundary;
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary, size_t max_parts) {
  if (boundary.empty() || boundary.size() > kMaxBoundaryLength) {
    return Status::InvalidArgument("the multipart boundary must have 1 to 70 characters");
  }
  const std::string dash_boundary = "--" + std::string(boundary);
  // The first delimiter starts the body or a line; whatever comes before it is the preamble.
  Delimiter delimiter;
  for (size_t pos = 0;; ++pos) {
    pos = body.find(dash_boundary, pos);
    if (pos == std::string_view::npos) {
      return Status::InvalidArgument("multipart body does not contain the boundary line \"" + dash_boundary + "\"");
    }
    if (pos > 0 && body[pos - 1] != '\n') continue;
    delimiter = ClassifyDelimiter(body, pos, dash_boundary.size());
    if (delimiter.kind != LineKind::kNotDelimiter) break;
  }
  std::vector<MultipartPart> parts;
  if (delimiter.kind == LineKind::kClose) return parts;  // an empty form
  if (delimiter.kind == LineKind::kTruncated) return Truncated(1);
  // Bodies end at CRLF "--boundary", or at LF "--boundary" when the sender uses bare LF line ends throughout.
  const std::string eol = delimiter.crlf ? "\r\n" : "\n";
  const std::string eol_dash_boundary = eol + dash_boundary;
  for (size_t index = 1;; ++index) {
    MultipartPart part;
    TSDSR_ASSIGN_OR_RETURN(size_t body_start, ParsePartHeaders(body, delimiter.next, index, part));
    // The empty line's own line end may double as the one before the next delimiter (an empty body).
    size_t from = body.compare(body_start - eol.size(), eol.size(), eol) == 0 ? body_start - eol.size() : body_start;
    size_t found;
    while (true) {
      found = body.find(eol_dash_boundary, from);
      if (found == std::string_view::npos) return Truncated(index);
      delimiter = ClassifyDelimiter(body, found + eol.size(), dash_boundary.size());
      if (delimiter.kind != LineKind::kNotDelimiter) break;
      from = found + 1;
    }
    if (delimiter.kind == LineKind::kTruncated) return Truncated(index);
    if (parts.size() == max_parts) {
      return Status::TooLarge("multipart body has more than " + std::to_string(max_parts) + " parts");
    }
    part.body = body.substr(body_start, found > body_start ? found - body_start : 0);
    parts.push_back(std::move(part));
    if (delimiter.kind == LineKind::kClose) return parts;
  }
}

}  // namespace tsdsr::dispatcher
