#include "client/file_job.h"

#include <chrono>
#include <filesystem>

#include "client/async_job.h"
#include "client/files.h"
#include "client/job_state.h"
#include "client/options.h"
#include "common/image_probe.h"
#include "common/media_names.h"

namespace tsdsr::client {
namespace {

FailureKind KindOfError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return FailureKind::kUnreachable;
    case StatusCode::kInvalidArgument:
      return FailureKind::kLocal;
    default:
      return FailureKind::kServer;
  }
}

void Fail(FileOutcome* outcome, FailureKind kind, std::string error) {
  outcome->status = FileStatus::kFailed;
  outcome->failure = kind;
  outcome->error = std::move(error);
}

// Fills `outcome` from what the requests ended with; true when `response` holds a result to write.
bool TakeAnswer(const Result<HttpResponse>& response, int gave_up_after, FileOutcome* outcome) {
  std::string retried = gave_up_after > 1 ? " (after " + std::to_string(gave_up_after) + " attempts)" : "";
  if (!response.ok()) {
    Fail(outcome, KindOfError(response.status()), response.status().message() + retried);
    return false;
  }
  if (!response->success()) {
    bool client = response->status >= 400 && response->status < 500 && response->status != 429;
    Fail(outcome, client ? FailureKind::kClient : FailureKind::kServer, DescribeHttpError(*response) + retried);
    return false;
  }
  return true;
}

Result<HttpResponse> UpscaleOnce(RetryingSender& sender, const JobSettings& settings, FilePart part) {
  HttpRequest request;
  request.method = "POST";
  request.path = "/upscale" + UpscaleQuery(settings);
  request.parts.push_back(std::move(part));
  return sender.Send(request);
}

void Upscale(HttpClient& http, const JobSettings& settings, const PlannedFile& file, const TileProgress& on_tiles,
             FileOutcome* outcome) {
  const bool video = IsVideoFileName(file.input);  // videos go through the job API, whatever the mode
  Result<FilePart> part = video ? LoadVideoPart(file.input) : LoadImagePart(file.input);
  if (!part.ok()) return Fail(outcome, FailureKind::kLocal, part.status().message());
  RetryingSender sender(http, settings.tuning.retry, settings.tuning.sleep);
  Result<HttpResponse> response = settings.async_jobs || video
                                      ? RunAsyncJob(sender, settings, file.input, *part, on_tiles)
                                      : UpscaleOnce(sender, settings, std::move(*part));
  outcome->attempts = sender.attempts();
  outcome->http_status = sender.last_status();
  outcome->server_answered = sender.answered();
  if (!TakeAnswer(response, sender.gave_up_after(), outcome)) return;
  Status written = CreateParentFolders(file.output);
  if (written.ok()) written = WriteFileAtomically(file.output, response->body);
  if (!written.ok()) return Fail(outcome, FailureKind::kLocal, written.message());
  outcome->status = FileStatus::kOk;
  outcome->output_size = response->Header("x-output-size");
}

}  // namespace

Result<FilePart> LoadImagePart(const std::string& input) {
  TSDSR_ASSIGN_OR_RETURN(std::string bytes, ReadInputFile(input));
  Result<ImageProbe> probe = ProbeImage(bytes);
  if (!probe.ok()) {
    return Status::InvalidArgument("input file '" + input + "' is not usable: " + probe.status().message());
  }
  return FilePart{"file", std::filesystem::path(input).filename().string(), std::string(ContentTypeOf(probe->format)),
                  std::move(bytes)};
}

Result<FilePart> LoadVideoPart(const std::string& input) {
  TSDSR_ASSIGN_OR_RETURN(std::string bytes, ReadInputFile(input));
  if (bytes.empty()) return Status::InvalidArgument("input file '" + input + "' is empty");
  return FilePart{"file", std::filesystem::path(input).filename().string(), std::string(VideoContentType(input)),
                  std::move(bytes)};
}

std::string_view FileStatusName(FileStatus status) {
  switch (status) {
    case FileStatus::kOk:
      return "ok";
    case FileStatus::kSkipped:
      return "skipped";
    case FileStatus::kFailed:
      return "failed";
  }
  return "failed";
}

FileOutcome ProcessFile(HttpClient& http, const JobSettings& settings, const PlannedFile& file,
                        const TileProgress& on_tiles) {
  auto start = std::chrono::steady_clock::now();
  FileOutcome outcome;
  outcome.input = file.input;
  outcome.output = file.output;
  std::error_code ec;
  if (!settings.overwrite && std::filesystem::exists(file.output, ec)) {
    outcome.status = FileStatus::kSkipped;
    if (settings.state != nullptr) {
      settings.state->Forget(AbsolutePath(file.input));
    }
    return outcome;
  }
  try {
    Upscale(http, settings, file, on_tiles, &outcome);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc for an input larger than memory
    Fail(&outcome, FailureKind::kLocal, e.what());
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

int ExitCodeOf(const std::vector<FileOutcome>& outcomes, bool server_answered) {
  bool any_failed = false, only_client = true, unreachable = false;
  for (const FileOutcome& outcome : outcomes) {
    server_answered = server_answered || outcome.server_answered;
    if (outcome.status != FileStatus::kFailed) continue;
    any_failed = true;
    only_client = only_client && (outcome.failure == FailureKind::kLocal || outcome.failure == FailureKind::kClient);
    unreachable = unreachable || outcome.failure == FailureKind::kUnreachable;
  }
  if (!any_failed) return kExitOk;
  if (only_client) return kExitClientError;
  if (unreachable && !server_answered) return kExitUnreachable;
  return kExitServerError;
}

}  // namespace tsdsr::client
