#include "client/options.h"

#include <filesystem>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/cli.h"
#include "common/image_codec.h"

namespace tsdsr::client {
namespace {

constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok; 1 usage or input/output file error; 2 the server answered 4xx (bad parameter or "
    "image); 3 the server answered 5xx; 4 cannot connect, connection lost or timed out.";

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
  app->add_option("-i,--input", o->input, "Image to upscale (png, jpeg, webp, bmp, tiff)");
  app->add_option("-o,--output", o->output,
                  "Where to write the result (default: <input stem>_x<scale>.<format> next to the input)");
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

}  // namespace

ParsedCommandLine ParseCommandLine(int argc, const char* const argv[]) {
  ParsedCommandLine parsed;
  CLI::App app("tsdsr-client: upscale an image with a TSD-SR Serve dispatcher, or query its state.",
               "tsdsr-client");
  app.footer(kExitCodesHelp);
  AddOptions(&app, &parsed.options);
  CliOutcome outcome = tsdsr::ParseCommandLine(app, RewriteLegacyFlags(argc, argv));
  parsed.exit_now = outcome.exit;
  parsed.exit_code = outcome.exit_code == 0 ? kExitOk : kExitUsage;
  parsed.message = outcome.output;
  return parsed;
}

Status ValidateOptions(const ClientOptions& options) {
  int actions = !options.input.empty() + options.health + options.info + options.stats;
  if (actions == 0) return Status::InvalidArgument("nothing to do: give --input FILE, --health, --info or --stats");
  if (actions > 1) return Status::InvalidArgument("choose one of --input, --health, --info and --stats");
  if (!options.output.empty() && options.input.empty()) return Status::InvalidArgument("--output needs --input");
  if (options.upscale <= 0) return Status::InvalidArgument("--upscale must be a positive integer");
  if (options.process_size <= 0) return Status::InvalidArgument("--process-size must be a positive integer");
  if (options.host.empty()) return Status::InvalidArgument("--host must not be empty");
  if (options.port < 1 || options.port > 65535) return Status::InvalidArgument("--port must be in 1..65535");
  if (!(options.timeout_s >= 0)) return Status::InvalidArgument("--timeout must be 0 or more seconds");
  if (!options.format.empty()) {
    Result<ImageFormat> format = ParseOutputFormat(options.format);
    if (!format.ok()) return Status::InvalidArgument("--format: " + format.status().message());
  }
  return Status::Ok();
}

std::string DefaultOutputPath(const std::string& input, int upscale, const std::string& format) {
  std::string extension = ".png";
  Result<ImageFormat> parsed = ParseOutputFormat(format);
  if (parsed.ok() && *parsed == ImageFormat::kJpeg) extension = ".jpg";
  if (parsed.ok() && *parsed == ImageFormat::kWebp) extension = ".webp";
  std::filesystem::path path(input);
  std::string name = path.stem().string() + "_x" + std::to_string(upscale) + extension;
  return (path.parent_path() / name).string();
}

std::string BaseUrlOf(const ClientOptions& options) {
  bool ipv6 = options.host.find(':') != std::string::npos && options.host.front() != '[';
  std::string host = ipv6 ? "[" + options.host + "]" : options.host;
  return "http://" + host + ":" + std::to_string(options.port);
}

}  // namespace tsdsr::client
