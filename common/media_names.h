// Which uploads are videos, by the name a user gave them: the one list that the dispatcher (a POST /jobs upload
// named *.mkv is a video job) and the client (videos in a folder go through the job API) share.
#pragma once

#include <string_view>
#include <vector>

namespace tsdsr {

// ".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi", ".ts", ".mts", ".m2ts" (lower case).
const std::vector<std::string_view>& VideoExtensions();

// True when `name` (a file name or a path) ends in one of VideoExtensions, in any case.
bool IsVideoFileName(std::string_view name);

// The media type to send a video named `name` as: video/mp4, video/x-matroska, video/quicktime, video/webm,
// video/x-msvideo, video/mp2t, else application/octet-stream.
std::string_view VideoContentType(std::string_view name);

}  // namespace tsdsr
