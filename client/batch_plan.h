// Which files --batch and --watch take and where their results go. Listing reads the file system; naming
// (AssignOutputNames) is pure. Output names use the requested format's extension, never the input's:
// `<stem>.<ext>`, or `<file name>.<ext>` for every input whose `<stem>.<ext>` another input also maps to.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tsdsr::client {

// File-name globs (fnmatch) that select the inputs.
struct FileFilter {
  std::vector<std::string> globs;  // e.g. {"*.png", "*.jpg"}
  bool ignore_case = false;        // true for the default list
};

// The extensions outputs get: images the requested format's, videos the container's (with their dots).
struct OutputExtensions {
  // A plain image extension converts: videos then get ".mp4".
  OutputExtensions(std::string image_extension, std::string video_extension = ".mp4")  // NOLINT
      : image(std::move(image_extension)), video(std::move(video_extension)) {}
  OutputExtensions(const char* image_extension) : OutputExtensions(std::string(image_extension)) {}  // NOLINT
  std::string image;
  std::string video;
  // The extension of the output of input `name`.
  const std::string& For(std::string_view name) const;
};

// One input and the output it maps to.
struct PlannedFile {
  std::string input;   // <input dir>/<relative path>, spelled as the user gave the folder
  std::string output;  // <output dir>/<relative folder>/<output name>
};

// Splits a comma-separated `pattern_list` into globs (spaces around entries and empty entries dropped).
// An empty list gives the default image extensions (kDefaultPatterns), matched ignoring case.
FileFilter MakeFileFilter(const std::string& pattern_list);

// True when `file_name` (no folder) is not hidden (does not start with '.') and matches one of the globs.
bool MatchesFilter(const FileFilter& filter, std::string_view file_name);

// The regular files (symlinks followed) in `dir` that match `filter`, as relative paths with '/' separators,
// sorted. With `recursive`, subfolders too, except hidden ones and the folder `exclude` (the output folder,
// when it lies inside `dir`; "" for none). InvalidArgument naming `dir` when it is missing or unreadable.
Result<std::vector<std::string>> ListMatchingFiles(const std::string& dir, const FileFilter& filter, bool recursive,
                                                   const std::string& exclude);

// The relative output path of each relative input path (same order): `<folder>/<stem><extension>`, or
// `<folder>/<file name><extension>` for all inputs that would otherwise share an output (repeated until no
// two share one), so the result does not depend on the order of `inputs`. The extension is each input's kind's.
std::vector<std::string> AssignOutputNames(const std::vector<std::string>& inputs, const OutputExtensions& extensions);

// The output name of `name` when the files `siblings` (names in the same folder; may include `name`) are
// named together by AssignOutputNames. Used by --watch, where files arrive one at a time.
std::string OutputNameAmong(const std::string& name, const std::vector<std::string>& siblings,
                            const OutputExtensions& extensions);

// Lists `input_dir` as ListMatchingFiles (excluding `output_dir`) and maps each file to its output under
// `output_dir`. Errors as ListMatchingFiles.
Result<std::vector<PlannedFile>> PlanBatch(const std::string& input_dir, const std::string& output_dir,
                                           const FileFilter& filter, bool recursive,
                                           const OutputExtensions& extensions);

}  // namespace tsdsr::client
