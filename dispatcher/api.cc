#include "dispatcher/api.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include <pistache/http_headers.h>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/status/openapi_document.h"

namespace tsdsr::dispatcher {
namespace {

using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;
using Pistache::Rest::Request;

constexpr std::string_view kUpscale = "/upscale";
constexpr size_t kClientLabels = 10;  // tsdsr_client_jobs_waiting's clients: the deepest, then (other)

// Milliseconds with two decimals: whole ones would hide the dispatcher's sub-millisecond overhead.
std::string Millis(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", ms);
  return text;
}

}  // namespace

void Api::Register(Pistache::Rest::Router& router) {
  using Pistache::Rest::Routes::bind;
  Pistache::Rest::Routes::Post(router, std::string(kUpscale), bind(&Api::Upscale, this));
  Pistache::Rest::Routes::Get(router, "/health", bind(&Api::Health, this));
  Pistache::Rest::Routes::Get(router, "/health/live", bind(&Api::Live, this));
  Pistache::Rest::Routes::Get(router, "/health/ready", bind(&Api::Ready, this));
  Pistache::Rest::Routes::Get(router, "/info", bind(&Api::Info, this));
  Pistache::Rest::Routes::Get(router, "/stats", bind(&Api::Stats, this));
  Pistache::Rest::Routes::Get(router, "/metrics", bind(&Api::MetricsPage, this));
  Pistache::Rest::Routes::Get(router, "/openapi.yaml", bind(&Api::OpenApi, this));
  router.addDisconnectHandler(
      [this](const std::shared_ptr<Pistache::Tcp::Peer>& peer) { context_.Disconnected(peer.get()); });
}

void Api::Upscale(const Request& request, ResponseWriter response) {
  if (context_.RefuseWhileDraining(kUpscale, response)) return;
  auto client = context_.AdmitClient(request);
  if (!client.ok()) return context_.Reject(kUpscale, response, client.status());
  auto image = context_.ParseImage(request, TakeBody(response));
  if (!image.ok()) return context_.Reject(kUpscale, response, image.status());
  std::shared_ptr<Pistache::Tcp::Peer> peer = response.peer();  // before `response` is moved from
  JobPtr job = MakeJob(std::move(*image), std::move(peer), std::move(response));
  job->client = std::move(*client);
  context_.pool().Submit(std::move(job));
}

JobPtr Api::MakeJob(ImageRequest request, std::shared_ptr<Pistache::Tcp::Peer> peer, ResponseWriter response) {
  auto job = std::make_unique<Job>();
  JobSink& pool = context_.pool();
  job->id = pool.NewJobId();
  const UpscaleQuery& query = request.query;
  job->params =
      JobParams{query.scale, query.process_size, query.format, request.probe.width, request.probe.height, {}};
  job->priority = query.priority;
  job->image = std::move(request.image);
  job->submitted = Clock::now();
  job->deadline = job->submitted + std::chrono::milliseconds(query.timeout_ms);
  const std::uint64_t token =
      context_.Track(peer.get(), [&pool, id = job->id] { pool.Cancel(id, "cancelled: the client went away"); });
  auto writer = std::make_shared<ResponseWriter>(std::move(response));
  job->done = [this, writer, key = peer.get(), token](JobOutcome outcome) {
    context_.Untrack(key, token);
    Answer(*writer, outcome);
  };
  return job;
}

void Api::Answer(ResponseWriter& writer, const JobOutcome& outcome) {
  if (!outcome.status.ok()) return context_.Reject(kUpscale, writer, outcome.status, outcome.retry_after_s);
  const auto& r = outcome.result;
  AddHeader(writer, "X-Output-Size", std::to_string(r.output_width) + "x" + std::to_string(r.output_height));
  AddHeader(writer, "X-Worker", outcome.worker_id);
  AddHeader(writer, "X-Queue-Ms", Millis(outcome.queue_ms));
  AddHeader(writer, "X-Compute-Ms", Millis(r.decode_ms + r.compute_ms + r.encode_ms));
  context_.Count(kUpscale, 200);
  SendResponse(writer, Code::Ok, outcome.image, Pistache::Http::Mime::MediaType::fromString(r.content_type));
}

void Api::Health(const Request&, ResponseWriter response) {
  PoolSnapshot pool = context_.pool().Snapshot();
  Code code = IsHealthy(pool) ? Code::Ok : Code::Service_Unavailable;
  context_.Count("/health", static_cast<int>(code));
  SendJson(response, code, HealthJson(pool, context_.Service()));
}

void Api::Live(const Request&, ResponseWriter response) {
  context_.Count("/health/live", 200);
  SendJson(response, Code::Ok, {{"status", "alive"}});
}

void Api::Ready(const Request&, ResponseWriter response) {
  bool ready = !context_.draining() && IsHealthy(context_.pool().Snapshot());
  Code code = ready ? Code::Ok : Code::Service_Unavailable;
  context_.Count("/health/ready", static_cast<int>(code));
  SendJson(response, code, {{"ready", ready}, {"draining", context_.draining()}});
}

void Api::Info(const Request&, ResponseWriter response) {
  context_.Count("/info", 200);
  SendJson(response, Code::Ok,
           InfoJson(context_.pool().Snapshot(), context_.Service(), context_.jobs().Report(), context_.Load()));
}

void Api::Stats(const Request&, ResponseWriter response) {
  context_.Count("/stats", 200);
  SendJson(response, Code::Ok,
           StatsJson(context_.pool().Snapshot(), context_.Service(), context_.jobs().Report(), context_.Load()));
}

void Api::MetricsPage(const Request&, ResponseWriter response) {
  context_.Count("/metrics", 200);
  context_.metrics().load().Set(context_.Load(),
                                ClientDepths(context_.pool().Snapshot(), context_.jobs().Report(), kClientLabels));
  SendResponse(response, Code::Ok, context_.metrics().Serialize(),
               Pistache::Http::Mime::MediaType::fromString("text/plain; version=0.0.4; charset=utf-8"));
}

void Api::OpenApi(const Request&, ResponseWriter response) {
  context_.Count("/openapi.yaml", 200);
  SendResponse(response, Code::Ok, OpenApiDocument(),
               Pistache::Http::Mime::MediaType::fromString("application/yaml"));
}

}  // namespace tsdsr::dispatcher
