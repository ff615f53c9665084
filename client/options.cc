#include "client/options.h"

#include <filesystem>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/cli.h"
#include "common/image_codec.h"
#include "common/media_names.h"

namespace tsdsr::client {
namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok; 1 usage or input/output file error; 2 the server answered 4xx (bad parameter or "
    "image); 3 the server answered 5xx; 4 cannot connect, connection lost or timed out.\n"
    "With --batch: 0 when no file failed; 2 when every failure was a 4xx or a local file error; 4 when the "
    "server could never be reached; 3 otherwise. --watch exits 0 on SIGINT/SIGTERM after the files in flight.";

// CLI11 2.1.2 refuses a multi-letter single-dash name such as "-ps" when the option is registered
// (BadNameString "Invalid one char name"), and on the command line would read "-ps" as "-p" + "s".
// So the Python client's "-ps" is rewritten to "--process-size" before parsing.
std::vector<std::string> RewriteLegacyFlags(int argc, const char* const argv[]) {
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i] != nullptr ? argv[i] : "";
    if (i > 0 && arg == "-ps") {
      args.emplace_back("--process-size");
    } else if (i > 0 && arg.substr(0, 4) == "-ps=") {
      args.push_back("--process-size=" + std::string(arg.substr(4)));
    } else {
      args.emplace_back(arg);
    }
  }
  return args;
}

void AddOptions(CLI::App* app, ClientOptions* o) {
  app->add_option("-i,--input", o->input, "Image (png, jpeg, webp, bmp, tiff) or video to upscale")->type_name("FILE");
  app->add_option("-o,--output", o->output,
                  "Where to write the result (default: <input stem>_x<scale>.<format> next to the input); "
                  "the output folder with --batch and --watch")
      ->type_name("PATH");
  app->add_option("-u,--upscale", o->upscale, "Scale factor, e.g. 2 or 4")->capture_default_str();
  app->add_option("--process-size", o->process_size, "LR tile edge in pixels (also spelled -ps)")
      ->capture_default_str();
  app->add_option("--host", o->host, "Dispatcher host")->capture_default_str();
  app->add_option("--port", o->port, "Dispatcher port")->capture_default_str()->check(CLI::Range(1, 65535));
  app->add_flag("--health", o->health, "Print the server's health (GET /health)");
  app->add_flag("--info", o->info, "Print server and worker information (GET /info)");
  app->add_flag("--stats", o->stats, "Print server statistics (GET /stats)");
  app->add_option("--format", o->format, "Output format: png (default), jpeg or webp");
  app->add_option("--timeout", o->timeout_s, "Seconds to wait for the server's answer (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--verbose", o->verbose, "Also print the worker and the timings");
  app->add_option("--api-key", o->api_key, "The server's API key (sent as 'Authorization: Bearer KEY')")
      ->envname("TSDSR_API_KEY");
}

void AddFolderOptions(CLI::App* app, ClientOptions* o) {
  app->add_option("--batch", o->batch,
                  "Upscale every image in this folder into --output DIR as <stem>.<format>; outputs that "
                  "exist are skipped, so an interrupted run can simply be restarted")
      ->type_name("DIR");
  app->add_option("--watch", o->watch,
                  "Upscale images as they are written into this folder (until SIGINT/SIGTERM), moving each "
                  "source into DIR/done/ or DIR/failed/ (with <name>.error.txt)")
      ->type_name("DIR");
  app->add_option("--pattern", o->pattern,
                  "Comma-separated globs on file names for --batch/--watch (default: the image extensions "
                  "png, jpg, jpeg, webp, bmp, tif, tiff in any case)")
      ->type_name("GLOBS");
  app->add_flag("--recursive", o->recursive, "--batch: also subfolders, mirrored under --output");
  app->add_flag("--overwrite", o->overwrite, "--batch/--watch: redo files whose output already exists");
  app->add_option("-j,--jobs", o->jobs,
                  "Requests in flight (default: the slots of the server's ready workers from /info, 4 if "
                  "that fails)")
      ->type_name("N");
  app->add_option("--retries", o->retries,
                  "Retries per file after a lost connection, 502, 504 or 507, with exponential backoff (503 and "
                  "429 are retried for up to 10 minutes, as Retry-After says)")
      ->type_name("N")
      ->capture_default_str();
  app->add_flag("--json", o->json, "--batch: print a JSON report on stdout instead of the summary");
  app->add_flag("--async", o->async_jobs,
                "Submit through POST /jobs and follow the job; a restarted client follows the jobs it "
                "submitted (ids kept in <output>.tsdsr-job.json or <output dir>/.tsdsr-client-jobs.json)");
}

void AddVideoOptions(CLI::App* app, ClientOptions* o) {
  app->add_option("--video", o->video,
                  "Video to upscale (mp4, mkv, mov, webm, ...), through the job API with frames, fps and ETA; "
                  "videos met by -i, --batch and --watch go the same way")
      ->type_name("FILE");
  app->add_option("--codec", o->codec, "Video output codec: h264, hevc or av1")->capture_default_str();
  app->add_option("--crf", o->crf, "Video quality (0-51; 0-63 for av1; -1: the codec's default)")
      ->capture_default_str();
  app->add_option("--preset", o->preset, "Video encoder speed, e.g. fast, medium (a number for av1, p1-p7 for nvenc)");
  app->add_option("--encoder", o->encoder,
                  "Video encoder: auto (NVENC when every ready worker has it), software or nvenc")
      ->capture_default_str();
  app->add_option("--container", o->container, "Video output container: mp4 or mkv")->capture_default_str();
}

Status ValidateVideoOptions(const ClientOptions& o) {
  if (o.codec != "h264" && o.codec != "hevc" && o.codec != "av1") {
    return Status::InvalidArgument("--codec must be h264, hevc or av1");
  }
  if (o.container != "mp4" && o.container != "mkv") return Status::InvalidArgument("--container must be mp4 or mkv");
  if (o.encoder != "auto" && o.encoder != "software" && o.encoder != "nvenc") {
    return Status::InvalidArgument("--encoder must be auto, software or nvenc");
  }
  const int max_crf = o.codec == "av1" ? 63 : 51;
  if (o.crf < -1 || o.crf > max_crf) {
    return Status::InvalidArgument("--crf must be -1 or 0 to " + std::to_string(max_crf) + " for " + o.codec);
  }
  if (!o.video.empty() && !o.input.empty() && o.video != o.input) {
    return Status::InvalidArgument("give the file once: --video FILE or --input FILE");
  }
  return Status::Ok();
}

// Exactly one action, and only the flags that belong to it.
Status ValidateAction(const ClientOptions& o) {
  const bool folder = !o.batch.empty() || !o.watch.empty();
  int actions = !o.input.empty() + !o.batch.empty() + !o.watch.empty() + o.health + o.info + o.stats;
  if (actions == 0) {
    return Status::InvalidArgument(
        "nothing to do: give --input FILE, --batch DIR, --watch DIR, --health, --info or --stats");
  }
  if (actions > 1) {
    return Status::InvalidArgument("choose one of --input, --batch, --watch, --health, --info and --stats");
  }
  if (!o.output.empty() && o.input.empty() && !folder) {
    return Status::InvalidArgument("--output needs --input, --batch or --watch");
  }
  if (folder && o.output.empty()) {
    return Status::InvalidArgument(std::string(o.batch.empty() ? "--watch" : "--batch") +
                                   " needs --output DIR, the folder for the results");
  }
  if (!folder && !o.pattern.empty()) return Status::InvalidArgument("--pattern needs --batch or --watch");
  if (!folder && o.overwrite) return Status::InvalidArgument("--overwrite needs --batch or --watch");
  if (o.recursive && o.batch.empty()) {
    return Status::InvalidArgument("--recursive needs --batch (--watch watches one folder)");
  }
  if (o.json && o.batch.empty()) return Status::InvalidArgument("--json needs --batch");
  if (o.async_jobs && o.input.empty() && !folder) {
    return Status::InvalidArgument("--async needs --input, --batch or --watch");
  }
  return Status::Ok();
}

}  // namespace

ParsedCommandLine ParseCommandLine(int argc, const char* const argv[]) {
  ParsedCommandLine parsed;
  CLI::App app("tsdsr-client: upscale an image with a TSD-SR Serve dispatcher, or query its state.",
               "tsdsr-client");
  app.footer(kExitCodesHelp);
  AddOptions(&app, &parsed.options);
  AddFolderOptions(&app, &parsed.options);
  AddVideoOptions(&app, &parsed.options);
  CliOutcome outcome = tsdsr::ParseCommandLine(app, RewriteLegacyFlags(argc, argv));
  if (!parsed.options.video.empty() && parsed.options.input.empty()) parsed.options.input = parsed.options.video;
  parsed.exit_now = outcome.exit;
  parsed.exit_code = outcome.exit_code == 0 ? kExitOk : kExitUsage;
  parsed.message = outcome.output;
  return parsed;
}

Status ValidateOptions(const ClientOptions& options) {
  TSDSR_RETURN_IF_ERROR(ValidateVideoOptions(options));
  TSDSR_RETURN_IF_ERROR(ValidateAction(options));
  if (options.upscale <= 0) return Status::InvalidArgument("--upscale must be a positive integer");
  if (options.process_size <= 0) return Status::InvalidArgument("--process-size must be a positive integer");
  if (options.host.empty()) return Status::InvalidArgument("--host must not be empty");
  if (options.port < 1 || options.port > 65535) return Status::InvalidArgument("--port must be in 1..65535");
  if (!(options.timeout_s >= 0)) return Status::InvalidArgument("--timeout must be 0 or more seconds");
  if (options.jobs.has_value() && *options.jobs < 1) return Status::InvalidArgument("--jobs must be at least 1");
  if (options.retries < 0) return Status::InvalidArgument("--retries must be 0 or more");
  if (!options.format.empty()) {
    Result<ImageFormat> format = ParseOutputFormat(options.format);
    if (!format.ok()) return Status::InvalidArgument("--format: " + format.status().message());
  }
  return Status::Ok();
}

std::string OutputExtension(const std::string& format) {
  Result<ImageFormat> parsed = ParseOutputFormat(format);
  if (parsed.ok() && *parsed == ImageFormat::kJpeg) return ".jpg";
  if (parsed.ok() && *parsed == ImageFormat::kWebp) return ".webp";
  return ".png";
}

std::string CanonicalFormat(const std::string& format) {
  if (format.empty()) return "";
  Result<ImageFormat> parsed = ParseOutputFormat(format);
  return parsed.ok() ? std::string(FormatName(*parsed)) : format;
}

std::string VideoOutputExtension(const std::string& container) { return container == "mkv" ? ".mkv" : ".mp4"; }

std::string DefaultOutputPath(const std::string& input, int upscale, const std::string& format,
                              const std::string& container) {
  std::filesystem::path path(input);
  const std::string extension = IsVideoFileName(input) ? VideoOutputExtension(container) : OutputExtension(format);
  std::string name = path.stem().string() + "_x" + std::to_string(upscale) + extension;
  return (path.parent_path() / name).string();
}

std::string BaseUrlOf(const ClientOptions& options) {
  bool ipv6 = options.host.find(':') != std::string::npos && options.host.front() != '[';
  std::string host = ipv6 ? "[" + options.host + "]" : options.host;
  return "http://" + host + ":" + std::to_string(options.port);
}

}  // namespace tsdsr::client
