#include "dispatcher/api.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include <pistache/http_headers.h>

#include "dispatcher/http_errors.h"
#include "dispatcher/http_server.h"

namespace tsdsr::dispatcher {
namespace {

using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;
using Pistache::Rest::Request;

constexpr std::string_view kUpscale = "/upscale";

// Milliseconds with two decimals: whole ones would hide the dispatcher's sub-millisecond overhead.
std::string Millis(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", ms);
  return text;
}

std::string ContentTypeHeader(const Request& request) {
  auto header = request.headers().tryGetRaw("Content-Type");
  return header ? header->value() : std::string();
}

}  // namespace

Api::Api(ServiceInfo service, UpscaleDefaults defaults, Broker& broker, Metrics& metrics)
    : service_(std::move(service)), defaults_(defaults), broker_(broker), metrics_(metrics) {}

void Api::Register(Pistache::Rest::Router& router) {
  using Pistache::Rest::Routes::bind;
  Pistache::Rest::Routes::Post(router, std::string(kUpscale), bind(&Api::Upscale, this));
  Pistache::Rest::Routes::Get(router, "/health", bind(&Api::Health, this));
  Pistache::Rest::Routes::Get(router, "/health/live", bind(&Api::Live, this));
  Pistache::Rest::Routes::Get(router, "/health/ready", bind(&Api::Ready, this));
  Pistache::Rest::Routes::Get(router, "/info", bind(&Api::Info, this));
  Pistache::Rest::Routes::Get(router, "/stats", bind(&Api::Stats, this));
  Pistache::Rest::Routes::Get(router, "/metrics", bind(&Api::MetricsPage, this));
  router.addDisconnectHandler([this](const std::shared_ptr<Pistache::Tcp::Peer>& peer) { OnDisconnect(peer); });
}

void Api::SetDraining() { draining_.store(true); }

ServiceInfo Api::Service() const {
  ServiceInfo info = service_;
  info.draining = draining_.load();
  return info;
}

void Api::Reject(std::string_view endpoint, ResponseWriter& response, const Status& status) {
  metrics_.CountRequest(endpoint, static_cast<int>(HttpCodeFor(status.code())));
  if (status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kTooLarge ||
      status.code() == StatusCode::kUnsupportedType) {
    metrics_.CountJob(kOutcomeBadRequest);
  }
  SendError(response, status);
}

void Api::OnDisconnect(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  std::vector<std::uint64_t> orphans;
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    auto [first, last] = jobs_by_peer_.equal_range(peer.get());
    for (auto it = first; it != last; ++it) orphans.push_back(it->second);
    jobs_by_peer_.erase(first, last);
  }
  for (std::uint64_t id : orphans) broker_.Cancel(id);
}

void Api::Upscale(const Request& request, ResponseWriter response) {
  if (draining_.load()) {
    AddHeader(response, "Retry-After", "5");  // another replica, or this one after its restart
    return Reject(kUpscale, response, Status::Unavailable("server is shutting down"));
  }
  PoolSnapshot pool = broker_.Snapshot();
  auto query = ParseUpscaleQuery([&](const std::string& name) { return request.query().get(name); }, defaults_,
                                 pool.scales);
  if (!query.ok()) return Reject(kUpscale, response, query.status());
  auto image = ExtractUpload(ContentTypeHeader(request), request.body());
  if (!image.ok()) return Reject(kUpscale, response, image.status());
  auto probe = CheckImage(*image, defaults_.max_pixels);
  if (!probe.ok()) return Reject(kUpscale, response, probe.status());
  std::shared_ptr<Pistache::Tcp::Peer> peer = response.peer();  // before `response` is moved from
  broker_.Submit(MakeJob(*query, *probe, *image, std::move(peer), std::move(response)));
}

JobPtr Api::MakeJob(const UpscaleQuery& query, const ImageProbe& probe, std::string_view image,
                    std::shared_ptr<Pistache::Tcp::Peer> peer, ResponseWriter response) {
  auto job = std::make_unique<Job>();
  job->id = next_job_id_.fetch_add(1);
  job->params.scale = query.scale;
  job->params.process_size = query.process_size;
  job->params.format = query.format;
  job->params.input_width = probe.width;
  job->params.input_height = probe.height;
  job->priority = query.priority;
  job->image.assign(image.data(), image.size());
  job->submitted = Clock::now();
  job->deadline = job->submitted + std::chrono::milliseconds(query.timeout_ms);
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    jobs_by_peer_.emplace(peer.get(), job->id);
  }
  auto writer = std::make_shared<ResponseWriter>(std::move(response));
  job->done = [this, writer, key = peer.get(), id = job->id](JobOutcome outcome) {
    {
      std::lock_guard<std::mutex> lock(peers_mu_);
      auto [first, last] = jobs_by_peer_.equal_range(key);
      for (auto it = first; it != last; ++it) {
        if (it->second == id) {
          jobs_by_peer_.erase(it);
          break;
        }
      }
    }
    Answer(*writer, outcome);
  };
  return job;
}

void Api::Answer(ResponseWriter& writer, const JobOutcome& outcome) {
  if (!outcome.status.ok()) {
    if (outcome.retry_after_s > 0) AddHeader(writer, "Retry-After", std::to_string(outcome.retry_after_s));
    return Reject(kUpscale, writer, outcome.status);
  }
  const auto& r = outcome.result;
  AddHeader(writer, "X-Output-Size", std::to_string(r.output_width) + "x" + std::to_string(r.output_height));
  AddHeader(writer, "X-Worker", outcome.worker_id);
  AddHeader(writer, "X-Queue-Ms", Millis(outcome.queue_ms));
  AddHeader(writer, "X-Compute-Ms", Millis(r.decode_ms + r.compute_ms + r.encode_ms));
  metrics_.CountRequest(kUpscale, 200);
  SendResponse(writer, Code::Ok, outcome.image, Pistache::Http::Mime::MediaType::fromString(r.content_type));
}

void Api::Health(const Request&, ResponseWriter response) {
  PoolSnapshot pool = broker_.Snapshot();
  Code code = IsHealthy(pool) ? Code::Ok : Code::Service_Unavailable;
  metrics_.CountRequest("/health", static_cast<int>(code));
  SendJson(response, code, HealthJson(pool, Service()));
}

void Api::Live(const Request&, ResponseWriter response) {
  metrics_.CountRequest("/health/live", 200);
  SendJson(response, Code::Ok, {{"status", "alive"}});
}

void Api::Ready(const Request&, ResponseWriter response) {
  bool ready = !draining_.load() && IsHealthy(broker_.Snapshot());
  Code code = ready ? Code::Ok : Code::Service_Unavailable;
  metrics_.CountRequest("/health/ready", static_cast<int>(code));
  SendJson(response, code, {{"ready", ready}, {"draining", draining_.load()}});
}

void Api::Info(const Request&, ResponseWriter response) {
  metrics_.CountRequest("/info", 200);
  SendJson(response, Code::Ok, InfoJson(broker_.Snapshot(), Service()));
}

void Api::Stats(const Request&, ResponseWriter response) {
  metrics_.CountRequest("/stats", 200);
  SendJson(response, Code::Ok, StatsJson(broker_.Snapshot(), Service()));
}

void Api::MetricsPage(const Request&, ResponseWriter response) {
  metrics_.CountRequest("/metrics", 200);
  SendResponse(response, Code::Ok, metrics_.Serialize(),
               Pistache::Http::Mime::MediaType::fromString("text/plain; version=0.0.4; charset=utf-8"));
}

}  // namespace tsdsr::dispatcher
