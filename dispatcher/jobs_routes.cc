#include "dispatcher/jobs_routes.h"

#include <charconv>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/jobs/job_ids.h"

namespace tsdsr::dispatcher {
namespace {

using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;
using Pistache::Rest::Request;

constexpr std::string_view kJobs = "/jobs";
constexpr std::string_view kJob = "/jobs/{id}";
constexpr std::string_view kOutput = "/jobs/{id}/result";
constexpr std::string_view kEvents = "/jobs/{id}/events";
constexpr size_t kMaxKeyLength = 200;
constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 1000;
constexpr int kFullRetryAfterS = 5;

// The :id of a route, when it has the shape of an id (anything else cannot name a job).
Result<std::string> JobIdOf(const Request& request) {
  std::string id = request.param(":id").as<std::string>();
  if (!IsJobId(id)) return Status::NotFound("no job " + id);
  return id;
}

Result<JobQuery> ListQueryOf(const Request& request) {
  JobQuery query;
  query.limit = kDefaultPage;
  if (auto status = request.query().get("status"); status && !status->empty()) {
    query.state = JobStateFromName(*status);
    if (!query.state) {
      return Status::InvalidArgument("status must be queued, running, succeeded, failed or cancelled (got '" + *status +
                                     "')");
    }
  }
  if (auto limit = request.query().get("limit")) {
    int value = 0;
    auto [end, error] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (error != std::errc() || end != limit->data() + limit->size() || value < 1 || value > kMaxPage) {
      return Status::InvalidArgument("limit must be an integer from 1 to " + std::to_string(kMaxPage));
    }
    query.limit = value;
  }
  if (auto after = request.query().get("after"); after && !after->empty()) {
    if (!IsJobId(*after)) return Status::InvalidArgument("after must be a job id (got '" + *after + "')");
    query.after = *after;
  }
  return query;
}

// One server-sent event: "event: NAME" and the JSON as its data line.
std::string SseEvent(std::string_view name, const nlohmann::json& data) {
  return "event: " + std::string(name) +
         "\ndata: " + data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

// One GET /jobs/{id}/events response. The manager's listener may fire before the stream is open: events wait in
// `pending` until Start has sent the first one, so the client sees them in order.
class EventSession {
 public:
  explicit EventSession(std::int64_t ttl_ms) : ttl_ms_(ttl_ms) {}

  // Listener side (the manager's thread). False once the client is gone.
  bool OnJob(const JobView* view) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string event = view != nullptr ? EventFor(*view) : ": keep-alive\n\n";
    if (stream_ == nullptr) {
      pending_.push_back(std::move(event));
      return true;
    }
    const bool open = stream_->Write(event);
    if (view != nullptr && IsFinished(view->record.state)) stream_->End();
    return open;
  }

  // Opens the stream on `response` with the job as it was when subscribed, then what came meanwhile.
  void Start(ResponseWriter response, const JobView& now) {
    std::lock_guard<std::mutex> lock(mu_);
    stream_ = StreamedResponse::Begin(std::move(response), "text/event-stream; charset=utf-8");
    stream_->Write("retry: 2000\n" + EventFor(now));
    for (const std::string& event : pending_) stream_->Write(event);
    pending_.clear();
    if (IsFinished(last_state_)) stream_->End();
  }

 private:
  // A "status" event when the state changed since the last one sent, else "progress". mu_ held.
  std::string EventFor(const JobView& view) {
    const bool changed = !sent_any_ || view.record.state != last_state_;
    sent_any_ = true;
    last_state_ = view.record.state;
    return SseEvent(changed ? "status" : "progress", JobViewJson(view, ttl_ms_));
  }

  const std::int64_t ttl_ms_;
  std::mutex mu_;
  std::shared_ptr<StreamedResponse> stream_;  // guarded by mu_
  std::vector<std::string> pending_;          // guarded by mu_
  bool sent_any_ = false;                     // guarded by mu_
  JobState last_state_ = JobState::kQueued;   // guarded by mu_
};

}  // namespace

Result<std::string> IdempotencyKeyOf(const std::optional<std::string>& header) {
  if (!header) return std::string();
  const std::string& key = *header;
  bool printable = !key.empty() && key.size() <= kMaxKeyLength;
  for (char c : key) printable = printable && c >= 0x20 && c < 0x7f;
  if (!printable) {
    return Status::InvalidArgument("Idempotency-Key must be 1 to " + std::to_string(kMaxKeyLength) +
                                   " printable ASCII characters, e.g. a UUID");
  }
  return key;
}

std::string DownloadName(const JobRecord& record) {
  std::string stem = std::filesystem::path(record.spec.filename).stem().string();
  if (stem.empty()) stem = "job-" + record.id;
  for (char& c : stem) {
    const bool safe =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!safe) c = '_';
  }
  std::string extension = record.spec.format == "jpeg" ? "jpg" : record.spec.format;
  if (record.kind == JobKind::kVideo) extension = record.spec.format == "matroska" ? "mkv" : "mp4";
  return stem + "_x" + std::to_string(record.spec.scale) + "." + extension;
}

void JobsRoutes::Register(Pistache::Rest::Router& router) {
  using Pistache::Rest::Routes::bind;
  Pistache::Rest::Routes::Post(router, "/jobs", bind(&JobsRoutes::Submit, this));
  Pistache::Rest::Routes::Get(router, "/jobs", bind(&JobsRoutes::List, this));
  Pistache::Rest::Routes::Get(router, "/jobs/:id", bind(&JobsRoutes::Get, this));
  Pistache::Rest::Routes::Delete(router, "/jobs/:id", bind(&JobsRoutes::Cancel, this));
  Pistache::Rest::Routes::Get(router, "/jobs/:id/result", bind(&JobsRoutes::Output, this));
  Pistache::Rest::Routes::Get(router, "/jobs/:id/events", bind(&JobsRoutes::Events, this));
}

void JobsRoutes::SendView(std::string_view endpoint, ResponseWriter& response, Code code, const JobView& view) {
  context_.Count(endpoint, static_cast<int>(code));
  SendJson(response, code, JobViewJson(view, context_.jobs().retention().result_ttl_ms));
}

Result<NewJob> JobsRoutes::ParseSubmission(const Request& request, const std::string& body) {
  const QueryLookup query = [&](const std::string& name) { return request.query().get(name); };
  TSDSR_ASSIGN_OR_RETURN(UpscaleQuery upscale,
                         ParseUpscaleQuery(query, context_.defaults(), context_.pool().Snapshot().scales));
  TSDSR_ASSIGN_OR_RETURN(Upload upload, ExtractUpload(ContentTypeOf(request), body));
  const auto header = request.headers().tryGetRaw("Idempotency-Key");
  NewJob job;
  TSDSR_ASSIGN_OR_RETURN(job.idempotency_key,
                         IdempotencyKeyOf(header ? std::optional<std::string>(header->value()) : std::nullopt));
  if (LooksLikeVideo(upload.content_type, upload.filename)) {
    job.video = true;
    job.spec = SpecOf(upscale, ImageProbe{}, upload.filename);
    TSDSR_RETURN_IF_ERROR(ParseVideoQuery(query, &job.spec));
  } else {
    TSDSR_ASSIGN_OR_RETURN(ImageProbe probe, CheckImage(upload.bytes, context_.defaults().max_pixels));
    job.spec = SpecOf(upscale, probe, upload.filename);
  }
  if (auto timeout = query("timeout_ms")) job.spec.timeout_ms = std::stoll(*timeout);  // validated, uncapped
  job.input = upload.bytes;
  return job;
}

void JobsRoutes::Submit(const Request& request, ResponseWriter response) {
  if (context_.RefuseWhileDraining(kJobs, response)) return;
  auto client = context_.AdmitClient(request);
  if (!client.ok()) return context_.Reject(kJobs, response, client.status());
  const std::string body = TakeBody(response);  // written to the data dir by Submit, then freed
  auto job = ParseSubmission(request, body);
  if (!job.ok()) return context_.Reject(kJobs, response, job.status());
  job->spec.client = std::move(*client);
  auto submitted = context_.jobs().Submit(*job);
  if (!submitted.ok()) {
    const bool later = submitted.status().code() == StatusCode::kUnavailable;
    return context_.Reject(kJobs, response, submitted.status(), later ? kFullRetryAfterS : 0);
  }
  AddHeader(response, "Location", JobUrl(submitted->view.record.id));
  if (submitted->replayed) AddHeader(response, "Idempotent-Replayed", "true");
  SendView(kJobs, response, Code::Accepted, submitted->view);
}

void JobsRoutes::List(const Request& request, ResponseWriter response) {
  auto query = ListQueryOf(request);
  if (!query.ok()) return context_.Reject(kJobs, response, query.status());
  auto views = context_.jobs().List(*query);
  if (!views.ok()) return context_.Reject(kJobs, response, views.status());
  nlohmann::json jobs = nlohmann::json::array();
  const std::int64_t ttl = context_.jobs().retention().result_ttl_ms;
  for (const JobView& view : *views) jobs.push_back(JobViewJson(view, ttl));
  const bool more = views->size() == static_cast<size_t>(query->limit);
  nlohmann::json next = more ? nlohmann::json(views->back().record.id) : nlohmann::json(nullptr);
  context_.Count(kJobs, 200);
  SendJson(response, Code::Ok, {{"jobs", std::move(jobs)}, {"next", std::move(next)}});
}

void JobsRoutes::Get(const Request& request, ResponseWriter response) {
  auto id = JobIdOf(request);
  auto view = id.ok() ? context_.jobs().Get(*id) : Result<JobView>(id.status());
  if (!view.ok()) return context_.Reject(kJob, response, view.status());
  SendView(kJob, response, Code::Ok, *view);
}

void JobsRoutes::Cancel(const Request& request, ResponseWriter response) {
  auto id = JobIdOf(request);
  auto view = id.ok() ? context_.jobs().Cancel(*id) : Result<JobView>(id.status());
  if (!view.ok()) return context_.Reject(kJob, response, view.status());
  SendView(kJob, response, Code::Ok, *view);
}

void JobsRoutes::Output(const Request& request, ResponseWriter response) {
  auto id = JobIdOf(request);
  auto output = id.ok() ? context_.jobs().ReadOutput(*id) : Result<StoredOutput>(id.status());
  if (!output.ok() && output.status().code() == StatusCode::kConflict) {  // not done: say where it stands
    auto view = context_.jobs().Get(*id);
    nlohmann::json body = ErrorBody(output.status());
    if (view.ok()) body["status"] = JobStateName(view->record.state);
    context_.Count(kOutput, 409);
    return SendJson(response, Code::Conflict, body);
  }
  if (!output.ok()) return context_.Reject(kOutput, response, output.status());
  const JobRecord& r = output->record;
  AddHeader(response, "X-Output-Size", std::to_string(r.output_width) + "x" + std::to_string(r.output_height));
  AddHeader(response, "Content-Disposition", "inline; filename=\"" + DownloadName(r) + "\"");
  if (!r.worker.empty()) AddHeader(response, "X-Worker", r.worker);
  context_.Count(kOutput, 200);
  SendResponse(response, Code::Ok, output->bytes, Pistache::Http::Mime::MediaType::fromString(r.result_type));
}

void JobsRoutes::Events(const Request& request, ResponseWriter response) {
  auto id = JobIdOf(request);
  if (!id.ok()) return context_.Reject(kEvents, response, id.status());
  auto session = std::make_shared<EventSession>(context_.jobs().retention().result_ttl_ms);
  std::uint64_t token = 0;
  auto view = context_.jobs().Subscribe(
      *id, [session](const JobView* v) { return session->OnJob(v); }, &token);
  if (!view.ok()) return context_.Reject(kEvents, response, view.status());
  context_.Count(kEvents, 200);
  session->Start(std::move(response), *view);
}

}  // namespace tsdsr::dispatcher
