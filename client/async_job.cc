#include "client/async_job.h"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "client/files.h"
#include "client/job_state.h"
#include "common/media_names.h"

namespace tsdsr::client {
namespace {

using nlohmann::json;

HttpRequest RequestFor(std::string method, std::string path) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

std::string StringField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

int IntField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

// One submission or one followed job of one file.
class AsyncJob {
 public:
  AsyncJob(RetryingSender& sender, const JobSettings& settings, std::string input, std::string base_key,
           const TileProgress& on_tiles)
      : sender_(sender),
        settings_(settings),
        input_(std::move(input)),
        base_key_(std::move(base_key)),
        on_tiles_(on_tiles) {}

  // POST /jobs with `key`; on acceptance sets `id` and `status` (of the job, which is finished already
  // when the key replays an old submission) and remembers the id. The answer when it is not an acceptance.
  std::optional<Result<HttpResponse>> Submit(const FilePart& part, const std::string& key, std::string* id,
                                             std::string* status) {
    HttpRequest request =
        RequestFor("POST", "/jobs" + (IsVideoFileName(input_) ? VideoQuery(settings_) : UpscaleQuery(settings_)));
    request.headers.emplace_back("Idempotency-Key", key);
    request.parts.push_back(part);
    Result<HttpResponse> response = sender_.Send(request);
    if (!response.ok() || !response->success()) return response;
    json body = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    *id = body.is_object() ? StringField(body, "id") : "";
    *status = body.is_object() ? StringField(body, "status") : "";
    std::string location = response->Header("location");
    if (id->empty() && location.rfind("/jobs/", 0) == 0) *id = location.substr(6);
    if (id->empty()) return Result<HttpResponse>(Status::Internal("the server accepted the job without an id"));
    if (settings_.state != nullptr) {
      Status saved = settings_.state->Remember(input_, {*id, base_key_});
      if (!saved.ok()) {
        sender_.Send(RequestFor("DELETE", "/jobs/" + QueryEscape(*id)));  // best effort: nobody would follow it
        return Result<HttpResponse>(saved);
      }
    }
    return std::nullopt;
  }

  // Polls job `id` until it ends; the result answer, an error answer (404 included) or an error.
  Result<HttpResponse> Follow(const std::string& id) {
    const std::string path = "/jobs/" + QueryEscape(id);
    std::chrono::milliseconds wait = settings_.tuning.poll_first;
    while (true) {
      Result<HttpResponse> response = sender_.Send(RequestFor("GET", path));
      if (!response.ok() || !response->success()) return response;
      json job = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
      if (!job.is_object()) return Status::Internal("GET " + path + " answered something that is not a job");
      ReportTiles(job);
      std::string status = StringField(job, "status");
      if (status == "failed" || status == "cancelled") {
        std::string error = StringField(job, "error");
        Forget();
        return Status::Aborted("job " + id + " " + status + (error.empty() ? "" : ": " + error));
      }
      if (status == "succeeded") {
        std::optional<Result<HttpResponse>> result = Download(id, job);
        if (result) return *std::move(result);
      } else if (status != "queued" && status != "running") {
        return Status::Internal("job " + id + " has an unknown status '" + status + "'");
      }
      sender_.Sleep(wait);
      wait = std::min(wait * 2, settings_.tuning.poll_max);
    }
  }

  void Forget() {
    if (settings_.state != nullptr) settings_.state->Forget(input_);
  }

 private:
  // GET the result; nullopt when the server says it is not ready yet (409: poll again).
  std::optional<Result<HttpResponse>> Download(const std::string& id, const json& job) {
    std::string url = StringField(job, "result_url");
    if (url.empty() || url[0] != '/') url = "/jobs/" + QueryEscape(id) + "/result";
    Result<HttpResponse> response = sender_.Send(RequestFor("GET", url));
    if (response.ok() && response->status == 409) return std::nullopt;
    if (response.ok() && response->status == 410) {
      Forget();
      return Result<HttpResponse>(Status::Aborted("the result of job " + id + " expired on the server"));
    }
    if (response.ok() && response->success()) {
      if (response->Header("x-output-size").empty() && !StringField(job, "output_size").empty()) {
        response->headers["x-output-size"] = StringField(job, "output_size");
      }
      Forget();
    }
    return response;
  }

  void ReportTiles(const json& job) {
    auto progress = job.find("progress");
    if (!on_tiles_ || progress == job.end() || !progress->is_object()) return;
    int total = IntField(*progress, "total");
    if (total > 0) on_tiles_(std::clamp(IntField(*progress, "done"), 0, total), total);
  }

  RetryingSender& sender_;
  const JobSettings& settings_;
  const std::string input_;     // absolute path: the state file's key
  const std::string base_key_;  // IdempotencyKeyFor the file: tells a remembered job of this version
  const TileProgress& on_tiles_;
};

}  // namespace

Result<HttpResponse> RunAsyncJob(RetryingSender& sender, const JobSettings& settings, const std::string& input,
                                 const FilePart& part, const TileProgress& on_tiles) {
  std::string absolute = AbsolutePath(input);
  TSDSR_ASSIGN_OR_RETURN(const std::string base_key,
                         IdempotencyKeyFor(absolute, settings.upscale, settings.process_size,
                                           IsVideoFileName(absolute) ? VideoQuery(settings) : settings.format));
  AsyncJob job(sender, settings, absolute, base_key, on_tiles);
  std::optional<RememberedJob> remembered;
  if (settings.state != nullptr) remembered = settings.state->Find(absolute);
  std::string id = remembered && remembered->key == base_key ? remembered->id : "";
  bool from_state = !id.empty();
  std::string key = base_key;
  for (int replays = 0;;) {
    bool finished_at_submission = false;
    if (id.empty()) {
      std::string status;
      std::optional<Result<HttpResponse>> refused = job.Submit(part, key, &id, &status);
      if (refused) return *std::move(refused);
      finished_at_submission = status == "succeeded" || status == "failed" || status == "cancelled";
    }
    Result<HttpResponse> result = job.Follow(id);
    const bool unknown = result.ok() && result->status == 404;
    if (unknown) job.Forget();
    // A job that had ended before this run submitted it is an earlier attempt the key replayed: when it
    // failed, was cancelled or its result is gone, the next key in the chain makes a new job.
    const bool dead_replay = finished_at_submission && result.status().code() == StatusCode::kAborted;
    if ((unknown && from_state) || (dead_replay && replays < kMaxReplayedJobs)) {
      if (dead_replay) {
        key = NextIdempotencyKey(key, id);
        ++replays;
      }
      id.clear();
      from_state = false;
      continue;
    }
    return result;
  }
}

}  // namespace tsdsr::client
