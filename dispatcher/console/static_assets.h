// The web console's files as HTTP answers: content type by extension, a strong ETag per file (If-None-Match gives
// 304), revalidation on every use (the names carry no version), and the security headers every console page needs
// (a Content-Security-Policy without inline scripts or styles, no sniffing, no framing, no referrer).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/embedded_file.h"

namespace tsdsr::dispatcher {

struct AssetAnswer {
  int status = 404;       // 200, 304 or 404
  std::string_view body;  // the file for 200; empty otherwise
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // ETag, Cache-Control and the security headers
};

class StaticAssets {
 public:
  // Serves `files` (which must outlive this object). Unknown extensions are served as application/octet-stream.
  explicit StaticAssets(const std::vector<EmbeddedFile>& files);

  // The answer for the file `name` (relative to the assets' folder, e.g. "js/main.js") to a request carrying
  // `if_none_match` (the header's value, when present). 404 with a plain-text body for an unknown name.
  AssetAnswer Answer(std::string_view name, std::optional<std::string_view> if_none_match) const;

 private:
  struct Entry {
    const EmbeddedFile* file;
    std::string etag;
    std::string content_type;
  };
  std::vector<Entry> entries_;
};

// The media type of a file by its extension: text/html, text/css, text/javascript (with charset=utf-8),
// image/svg+xml, image/png, application/json; application/octet-stream for any other.
std::string ContentTypeOf(std::string_view name);

// A strong entity tag of `content`: a quoted 64-bit FNV-1a hash in hexadecimal.
std::string EntityTagOf(std::string_view content);

// True when an If-None-Match value ("*", or a comma-separated list of tags, weak or not) matches `etag`.
bool MatchesEntityTag(std::string_view if_none_match, std::string_view etag);

// The Content-Security-Policy of the console: scripts, styles, fonts and fetches from this origin only; images
// and media also from blob: (outputs fetched with the API key) and data:; no inline code, frames, forms or base.
inline constexpr std::string_view kConsolePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

}  // namespace tsdsr::dispatcher
