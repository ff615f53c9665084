// Command-line options of tsdsr-client, with the flags of the Python client it replaces.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace tsdsr::client {

// Exit codes of tsdsr-client (also listed by --help). For --batch: 2 when every failed file failed with a
// 4xx or a local input/output error, 4 when the server could never be reached at all, 3 otherwise.
enum ExitCode : int {
  kExitOk = 0,           // success
  kExitUsage = 1,        // bad command line, unreadable input, unwritable output
  kExitClientError = 2,  // the server answered 4xx (bad parameter, not an image, too large)
  kExitServerError = 3,  // the server answered 5xx (or anything else that is not 2xx/4xx)
  kExitUnreachable = 4,  // cannot connect, connection dropped, or timed out
};

// The files --batch and --watch pick up when --pattern is not given (matched case-insensitively): images, and
// the videos of common/media_names.h (which go through the job API).
inline constexpr const char* kDefaultPatterns =
    "*.png,*.jpg,*.jpeg,*.webp,*.bmp,*.tif,*.tiff,*.mp4,*.m4v,*.mkv,*.mov,*.webm,*.avi,*.ts,*.mts,*.m2ts";

struct ClientOptions {
  std::string input;              // -i/--input (or --video): image or video to upscale
  std::string output;             // -o/--output: file for -i (default <input stem>_x<upscale>.<ext> next to
                                  // the input); the output folder for --batch and --watch (required there)
  std::string batch;              // --batch DIR: upscale every matching image in DIR
  std::string watch;              // --watch DIR: upscale images as they appear in DIR, until SIGINT/SIGTERM
  std::string pattern;            // --pattern: comma-separated fnmatch globs on file names; empty: the
                                  // default image extensions (kDefaultPatterns, any case)
  bool recursive = false;         // --recursive: --batch also takes subfolders, mirrored under --output
  bool overwrite = false;         // --overwrite: redo files whose output exists (default: skip them)
  std::optional<int> jobs;        // -j/--jobs: requests in flight; unset: the slots of ready workers (/info)
  int retries = 5;                // --retries: retries after a lost connection, 502, 504, 507 (per file)
  bool json = false;              // --json: --batch prints a JSON report on stdout instead of the summary
  bool async_jobs = false;        // --async: submit through POST /jobs and follow the job (survives restarts)
  int upscale = 2;                // -u/--upscale: scale factor (the server decides which are allowed)
  int process_size = 128;         // -ps/--process-size: LR tile edge in pixels
  std::string host = "127.0.0.1"; // --host: the dispatcher
  int port = 8090;                // --port
  bool health = false;            // --health: print GET /health
  bool info = false;              // --info: print GET /info
  bool stats = false;             // --stats: print GET /stats
  std::string format;             // --format png|jpeg|webp; empty: the server's default (png)
  double timeout_s = 300;         // --timeout: seconds to wait for each request; 0 = no limit
  bool verbose = false;           // --verbose: also print worker and timings
  std::string api_key;            // --api-key, else TSDSR_API_KEY: sent as `Authorization: Bearer KEY`
  // Videos (--video FILE, or videos met by -i, --batch and --watch): always through the job API.
  std::string video;              // --video FILE: as -i FILE
  std::string codec = "hevc";     // --codec h264|hevc|av1
  int crf = -1;                   // --crf: -1 = the codec's default
  std::string preset;             // --preset: empty = the codec's default
  std::string encoder = "auto";   // --encoder auto|software|nvenc
  std::string container = "mp4";  // --container mp4|mkv
};

// What parsing the command line decided.
struct ParsedCommandLine {
  ClientOptions options;
  bool exit_now = false;  // true for --help (exit_code 0, text on stdout) or a usage error (1, on stderr)
  int exit_code = kExitOk;
  std::string message;    // help text or "error: ..." line(s) to print when exit_now
};

// Parses argv (argv[0] is the program name). `-ps N` and `-ps=N` are accepted as the Python client's
// spelling of `--process-size N`. Never throws; does not validate combinations (see ValidateOptions).
ParsedCommandLine ParseCommandLine(int argc, const char* const argv[]);

// Checks that exactly one action is chosen (-i, --batch, --watch, --health, --info, --stats), that the
// flags given belong to it and that values are in range. InvalidArgument with a message naming the flag
// otherwise.
Status ValidateOptions(const ClientOptions& options);

// The default output path: `<input dir>/<input stem>_x<upscale>.<ext>`, where ext follows `format` (png when
// empty, jpg for jpeg, webp), or for a video `container` (mp4, mkv).
std::string DefaultOutputPath(const std::string& input, int upscale, const std::string& format,
                              const std::string& container = "mp4");

// The file extension, with its dot, of output `format`: ".png" when empty or unknown, ".jpg", ".webp".
std::string OutputExtension(const std::string& format);
// The extension of a video output in `container`: ".mkv" for mkv, else ".mp4".
std::string VideoOutputExtension(const std::string& container);

// The canonical name of `format` for the query string ("png", "jpeg", "webp"), or "" when empty.
// An unknown name is returned as given (ValidateOptions refuses it first).
std::string CanonicalFormat(const std::string& format);

// "http://<host>:<port>", with an IPv6 host put in brackets.
std::string BaseUrlOf(const ClientOptions& options);

}  // namespace tsdsr::client
