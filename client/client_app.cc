#include "client/client_app.h"

#include <algorithm>
#include <chrono>
#include <sstream>

#include <nlohmann/json.hpp>

#include "client/batch_runner.h"
#include "client/file_job.h"
#include "client/job_state.h"
#include "client/progress.h"
#include "client/watch.h"
#include "common/media_names.h"

namespace tsdsr::client {
namespace {

std::string FormatSeconds(double seconds) {
  std::ostringstream text;
  text << seconds;
  return text.str();
}

// One "error: ..." line for a request that got no HTTP answer. Returns kExitUnreachable.
int ReportTransportError(const Status& status, const ClientOptions& options, const HttpClient& http,
                         std::ostream& err) {
  if (status.code() == StatusCode::kDeadlineExceeded) {
    err << "error: no answer from " << http.host_port() << " within " << FormatSeconds(options.timeout_s)
        << " s (use --timeout to wait longer)\n";
  } else if (status.message().rfind("cannot connect", 0) == 0) {
    err << "error: " << status.message() << " \u2014 is tsdsr-dispatcher running?\n";
  } else {
    err << "error: " << status.message() << "\n";
  }
  return kExitUnreachable;
}

// One "error: server answered ..." line. Returns kExitClientError for 4xx, kExitServerError otherwise.
int ReportHttpError(const HttpResponse& response, std::ostream& err) {
  err << "error: server answered " << response.status << ": " << ErrorMessageOf(response);
  std::string retry_after = response.Header("retry-after");
  if (!retry_after.empty()) err << " (retry after " << retry_after << " s)";
  if (response.status == 401) err << " (give the server's key with --api-key or TSDSR_API_KEY)";
  err << "\n";
  return response.status >= 400 && response.status < 500 ? kExitClientError : kExitServerError;
}

// --health, --info, --stats: GET `path` and print the JSON answer indented.
int RunQuery(const std::string& path, const ClientOptions& options, HttpClient& http, std::ostream& out,
             std::ostream& err) {
  Result<HttpResponse> response = http.Get(path);
  if (!response.ok()) return ReportTransportError(response.status(), options, http, err);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  bool is_error_body = body.is_object() && body.contains("error");
  if (response->success() || !is_error_body) {  // a 503 /health still carries the health report
    if (!body.is_discarded()) {
      out << body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (!response->body.empty()) {
      out << response->body << (response->body.back() == '\n' ? "" : "\n");
    }
  }
  return response->success() ? kExitOk : ReportHttpError(*response, err);
}

std::string HeaderOr(const HttpResponse& response, const std::string& name, const std::string& fallback) {
  std::string value = response.Header(name);
  return value.empty() ? fallback : value;
}

int RunUpscale(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err) {
  Result<FilePart> part = LoadImagePart(options.input);
  if (!part.ok()) {
    err << "error: " << part.status().message() << "\n";
    return kExitUsage;
  }
  HttpRequest request;
  request.method = "POST";
  request.path = "/upscale" + UpscaleQuery(JobSettingsFrom(options, {}, nullptr));
  request.parts.push_back(std::move(*part));
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> response = http.Send(request);
  auto total_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  if (!response.ok()) return ReportTransportError(response.status(), options, http, err);
  if (!response->success()) return ReportHttpError(*response, err);

  std::string output =
      options.output.empty() ? DefaultOutputPath(options.input, options.upscale, options.format) : options.output;
  Status written = WriteFileAtomically(output, response->body);
  if (!written.ok()) {
    err << "error: " << written.message() << "\n";
    return kExitUsage;
  }
  out << "wrote " << output << " (" << HeaderOr(*response, "x-output-size", "size unknown") << ")";
  if (options.verbose) {
    out << " worker=" << HeaderOr(*response, "x-worker", "?")
        << " queue=" << HeaderOr(*response, "x-queue-ms", "?") << " ms"
        << " compute=" << HeaderOr(*response, "x-compute-ms", "?") << " ms"
        << " total=" << total_ms << " ms"
        << " bytes=" << response->body.size();
  }
  out << "\n";
  return kExitOk;
}

// -i FILE --async: one file through the job API, with a bar of tiles done on a terminal.
int RunAsyncUpscale(const ClientOptions& options, HttpClient& http, const ClientTuning& tuning, std::ostream& out,
                    std::ostream& err) {
  std::string output = options.output.empty()
                           ? DefaultOutputPath(options.input, options.upscale, options.format, options.container)
                           : options.output;
  std::string warning;
  std::unique_ptr<JobStateFile> state = OpenStateOrStartEmpty(SingleStatePath(output), &warning);
  if (!warning.empty()) err << "warning: " << warning << "\n";
  JobSettings settings = JobSettingsFrom(options, tuning, state.get());
  settings.overwrite = true;  // like -i without --async: the output is replaced
  bool drawn = false;
  const char* unit = IsVideoFileName(options.input) ? " frames" : " tiles";
  TileProgress bar = [&](int done, int total) {
    err << "\r" << RenderBar(done, total, 30) << " " << done << "/" << total << unit << "\x1b[K" << std::flush;
    drawn = true;
  };
  FileOutcome outcome =
      ProcessFile(http, settings, {options.input, output}, tuning.err_is_terminal ? bar : TileProgress());
  if (drawn) err << "\n";
  if (outcome.status == FileStatus::kOk) {
    out << "wrote " << output << " (" << (outcome.output_size.empty() ? "size unknown" : outcome.output_size) << ")\n";
    return kExitOk;
  }
  err << "error: " << outcome.error << "\n";
  switch (outcome.failure) {
    case FailureKind::kLocal:
      return kExitUsage;
    case FailureKind::kClient:
      return kExitClientError;
    case FailureKind::kUnreachable:
      return kExitUnreachable;
    default:
      return kExitServerError;
  }
}

}  // namespace

int RunClient(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err,
              const ClientTuning& tuning) {
  if (options.health) return RunQuery("/health", options, http, out, err);
  if (options.info) return RunQuery("/info", options, http, out, err);
  if (options.stats) return RunQuery("/stats", options, http, out, err);
  if (!options.batch.empty()) return RunBatch(options, http, tuning, out, err);
  if (!options.watch.empty()) return RunWatch(options, http, tuning, out, err);
  if (options.async_jobs || IsVideoFileName(options.input)) return RunAsyncUpscale(options, http, tuning, out, err);
  return RunUpscale(options, http, out, err);
}

int ClientMain(int argc, const char* const argv[], std::ostream& out, std::ostream& err, const ClientTuning& tuning) {
  try {
    ParsedCommandLine parsed = ParseCommandLine(argc, argv);
    if (parsed.exit_now) {
      (parsed.exit_code == kExitOk ? out : err) << parsed.message;
      return parsed.exit_code;
    }
    const ClientOptions& options = parsed.options;
    Status valid = ValidateOptions(options);
    if (!valid.ok()) {
      err << "error: " << valid.message() << " (see --help)\n";
      return kExitUsage;
    }
    constexpr double kMaxTimeoutS = 30.0 * 24 * 3600;
    auto timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(std::min(options.timeout_s, kMaxTimeoutS) * 1000));
    Result<std::unique_ptr<HttpClient>> http = HttpClient::Create(BaseUrlOf(options), timeout);
    if (!http.ok()) {
      err << "error: " << http.status().message() << "\n";
      return kExitUsage;
    }
    if (!options.api_key.empty()) (*http)->SetDefaultHeader("Authorization", "Bearer " + options.api_key);
    return RunClient(options, **http, out, err, tuning);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc for an input larger than memory
    err << "error: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace tsdsr::client
