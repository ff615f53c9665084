#include "common/media_names.h"

#include <string>
#include <utility>

#include "common/text.h"

namespace tsdsr {
namespace {

// The extension of `name` from its last dot, lower-cased; "" when it has none.
std::string ExtensionOf(std::string_view name) {
  const size_t slash = name.find_last_of('/');
  const std::string_view file = slash == std::string_view::npos ? name : name.substr(slash + 1);
  const size_t dot = file.find_last_of('.');
  return dot == std::string_view::npos ? std::string() : AsciiLower(file.substr(dot));
}

const std::vector<std::pair<std::string_view, std::string_view>>& Types() {
  static const std::vector<std::pair<std::string_view, std::string_view>> types = {
      {".mp4", "video/mp4"},       {".m4v", "video/mp4"},   {".mkv", "video/x-matroska"},
      {".mov", "video/quicktime"}, {".webm", "video/webm"}, {".avi", "video/x-msvideo"},
      {".ts", "video/mp2t"},       {".mts", "video/mp2t"},  {".m2ts", "video/mp2t"}};
  return types;
}

}  // namespace

const std::vector<std::string_view>& VideoExtensions() {
  static const std::vector<std::string_view> extensions = [] {
    std::vector<std::string_view> list;
    for (const auto& [extension, type] : Types()) list.push_back(extension);
    return list;
  }();
  return extensions;
}

bool IsVideoFileName(std::string_view name) { return VideoContentType(name) != "application/octet-stream"; }

std::string_view VideoContentType(std::string_view name) {
  const std::string extension = ExtensionOf(name);
  for (const auto& [known, type] : Types()) {
    if (extension == known) return type;
  }
  return "application/octet-stream";
}

}  // namespace tsdsr
