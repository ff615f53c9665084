#include "dispatcher/console/static_assets.h"

#include <array>
#include <cstdint>
#include <cstdio>

#include "common/text.h"

namespace tsdsr::dispatcher {
namespace {

struct TypeByExtension {
  std::string_view extension;
  std::string_view type;
};

constexpr std::array<TypeByExtension, 7> kTypes = {{
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
}};

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::vector<std::pair<std::string, std::string>> HeadersFor(const std::string& etag) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Cache-Control", "no-cache"},  // revalidate each time: a new build serves new files under the same names
      {"Content-Security-Policy", std::string(kConsolePolicy)},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
  if (!etag.empty()) headers.emplace_back("ETag", etag);
  return headers;
}

}  // namespace

std::string ContentTypeOf(std::string_view name) {
  for (const auto& [extension, type] : kTypes) {
    if (EndsWith(name, extension)) return std::string(type);
  }
  return "application/octet-stream";
}

std::string EntityTagOf(std::string_view content) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : content) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[24];
  std::snprintf(text, sizeof(text), "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

bool MatchesEntityTag(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const size_t comma = if_none_match.find(',');
    std::string_view tag = TrimBlanks(if_none_match.substr(0, comma));
    if_none_match = comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);  // If-None-Match compares weakly
    if (tag == etag) return true;
  }
  return false;
}

StaticAssets::StaticAssets(const std::vector<EmbeddedFile>& files) {
  for (const EmbeddedFile& file : files) {
    entries_.push_back({&file, EntityTagOf(file.content), ContentTypeOf(file.name)});
  }
}

AssetAnswer StaticAssets::Answer(std::string_view name, std::optional<std::string_view> if_none_match) const {
  for (const Entry& entry : entries_) {
    if (entry.file->name != name) continue;
    AssetAnswer answer;
    answer.content_type = entry.content_type;
    answer.headers = HeadersFor(entry.etag);
    if (if_none_match && MatchesEntityTag(*if_none_match, entry.etag)) {
      answer.status = 304;
    } else {
      answer.status = 200;
      answer.body = entry.file->content;
    }
    return answer;
  }
  AssetAnswer missing;
  missing.body = "no such file in the console\n";
  missing.content_type = "text/plain; charset=utf-8";
  missing.headers = HeadersFor("");
  return missing;
}

}  // namespace tsdsr::dispatcher
