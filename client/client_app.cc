#include "client/client_app.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/image_codec.h"
#include "common/image_probe.h"

namespace tsdsr::client {
namespace {

std::string OsError(int error) { return std::strerror(error); }

Result<std::string> ReadInputFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) return Status::InvalidArgument("input file '" + path + "' not found");
  if (std::filesystem::is_directory(status)) {
    return Status::InvalidArgument("input '" + path + "' is a directory, not an image file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read input file '" + path + "': " + OsError(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument("cannot read input file '" + path + "': " + OsError(errno));
  return bytes.str();
}

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

bool IsSuccess(const HttpResponse& response) { return response.status >= 200 && response.status < 300; }

// --health, --info, --stats: GET `path` and print the JSON answer indented.
int RunQuery(const std::string& path, const ClientOptions& options, HttpClient& http, std::ostream& out,
             std::ostream& err) {
  Result<HttpResponse> response = http.Get(path);
  if (!response.ok()) return ReportTransportError(response.status(), options, http, err);
  nlohmann::json body = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  bool is_error_body = body.is_object() && body.contains("error");
  if (IsSuccess(*response) || !is_error_body) {  // a 503 /health still carries the health report
    if (!body.is_discarded()) {
      out << body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (!response->body.empty()) {
      out << response->body << (response->body.back() == '\n' ? "" : "\n");
    }
  }
  return IsSuccess(*response) ? kExitOk : ReportHttpError(*response, err);
}

std::string UpscalePath(const ClientOptions& options) {
  std::string path = "/upscale?upscale=" + std::to_string(options.upscale) +
                     "&process_size=" + std::to_string(options.process_size);
  if (!options.format.empty()) {
    Result<ImageFormat> format = ParseOutputFormat(options.format);
    path += "&format=" + QueryEscape(format.ok() ? std::string(FormatName(*format)) : options.format);
  }
  return path;
}

std::string HeaderOr(const HttpResponse& response, const std::string& name, const std::string& fallback) {
  std::string value = response.Header(name);
  return value.empty() ? fallback : value;
}

int RunUpscale(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err) {
  Result<std::string> bytes = ReadInputFile(options.input);
  if (!bytes.ok()) {
    err << "error: " << bytes.status().message() << "\n";
    return kExitUsage;
  }
  Result<ImageProbe> probe = ProbeImage(*bytes);
  if (!probe.ok()) {
    err << "error: input file '" << options.input << "' is not usable: " << probe.status().message() << "\n";
    return kExitUsage;
  }
  HttpRequest request;
  request.method = "POST";
  request.path = UpscalePath(options);
  request.parts.push_back({"file", std::filesystem::path(options.input).filename().string(),
                           std::string(ContentTypeOf(probe->format)), std::move(*bytes)});
  auto start = std::chrono::steady_clock::now();
  Result<HttpResponse> response = http.Send(request);
  auto total_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  if (!response.ok()) return ReportTransportError(response.status(), options, http, err);
  if (!IsSuccess(*response)) return ReportHttpError(*response, err);

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

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  std::filesystem::path target(path);
  std::string temp =
      (target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(getpid()))).string();
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::InvalidArgument("cannot write '" + path + "': " + OsError(errno));
  std::size_t done = 0;
  int error = 0;
  while (done < bytes.size() && error == 0) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno != EINTR) {
      error = errno;
    }
  }
  if (error == 0 && fsync(fd) != 0) error = errno;
  if (close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    unlink(temp.c_str());
    return Status::InvalidArgument("cannot write '" + path + "': " + OsError(error));
  }
  return Status::Ok();
}

int RunClient(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err) {
  if (options.health) return RunQuery("/health", options, http, out, err);
  if (options.info) return RunQuery("/info", options, http, out, err);
  if (options.stats) return RunQuery("/stats", options, http, out, err);
  return RunUpscale(options, http, out, err);
}

int ClientMain(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
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
    return RunClient(options, **http, out, err);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc for an input larger than memory
    err << "error: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace tsdsr::client
