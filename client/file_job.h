// One file of --batch/--watch (or -i --async): skip it when its output exists, read and probe it locally,
// upscale it through POST /upscale or the job API with retries, write the result atomically, and say how it
// went as a FileOutcome. Also the exit code of a run of many files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "client/batch_plan.h"
#include "client/http_client.h"
#include "client/job_settings.h"

namespace tsdsr::client {

enum class FileStatus { kOk, kSkipped, kFailed };

// Why a file failed, which decides the exit code.
enum class FailureKind {
  kNone,
  kLocal,        // not an image, unreadable input, unwritable output: no request or its result lost locally
  kClient,       // the server answered 4xx (other than 429)
  kServer,       // 5xx, a job that failed or was cancelled, an unexpected answer
  kUnreachable,  // no answer: cannot connect, connection lost, timed out
};

struct FileOutcome {
  std::string input;
  std::string output;
  FileStatus status = FileStatus::kFailed;
  FailureKind failure = FailureKind::kNone;
  std::string error;             // for kFailed: "server answered 400: ...", "cannot connect to ...", ...
  long http_status = 0;          // the last HTTP status received for this file; 0 when none
  std::string output_size;       // "WxH" from X-Output-Size, when ok
  int attempts = 0;              // requests sent for this file (submit, polls and download for --async)
  double seconds = 0;            // wall time spent on this file
  bool server_answered = false;  // whether any HTTP answer came back while doing this file
};

// Reads `input` and probes it locally (ProbeImage) into the multipart field "file" with the file's name
// and real content type. InvalidArgument as ReadInputFile, or "input file 'x' is not usable: <why>".
Result<FilePart> LoadImagePart(const std::string& input);

// Reads the video `input` into the multipart field "file" with its name and the type its extension says (the
// server probes it). InvalidArgument as ReadInputFile, or for an empty file.
Result<FilePart> LoadVideoPart(const std::string& input);

// "ok", "skipped", "failed".
std::string_view FileStatusName(FileStatus status);

// Does `file` (see the file comment): never throws, never retries a local error. Skipped when the output
// exists and !settings.overwrite (forgetting a remembered --async job). Creates the output's folder.
// Uses `http` only from the calling thread; thread-safe across threads with different `http`.
FileOutcome ProcessFile(HttpClient& http, const JobSettings& settings, const PlannedFile& file,
                        const TileProgress& on_tiles = {});

// The exit code of a run: 0 when nothing failed; 2 when every failure is kLocal or kClient; 4 when some
// failed for lack of an answer and the server never answered at all (`server_answered` also covers
// requests outside the files, e.g. /info); 3 otherwise.
int ExitCodeOf(const std::vector<FileOutcome>& outcomes, bool server_answered);

}  // namespace tsdsr::client
