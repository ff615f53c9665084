// Reading inputs and writing outputs for tsdsr-client: whole files, written atomically so that a result on
// disk is always complete (which is what lets an interrupted --batch or --watch resume by skipping it).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tsdsr::client {

// The whole content of `path`. InvalidArgument "input file 'x' not found", "... is a directory, not an
// image file" or "cannot read input file 'x': <OS error>". Thread-safe.
Result<std::string> ReadInputFile(const std::string& path);

// Writes `bytes` to `path` atomically: a temporary file in the same folder, then rename over `path`.
// On failure (InvalidArgument naming the path and the OS error) nothing is left behind. Thread-safe for
// different paths.
Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// Creates the folder that will hold `path` (and its parents) when missing. InvalidArgument naming the
// folder and the OS error otherwise. Thread-safe.
Status CreateParentFolders(const std::string& path);

// `path` made absolute (against the current folder) and lexically normalised; `path` itself when the
// current folder cannot be read. Thread-safe.
std::string AbsolutePath(const std::string& path);

}  // namespace tsdsr::client
