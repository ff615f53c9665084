#include "dispatcher/service.h"

#include <algorithm>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "common/curve_keys.h"
#include "common/time_text.h"
#include "dispatcher/http/auth.h"
#include "dispatcher/http/process_limits.h"
#include "dispatcher/jobs/sqlite_job_store.h"
#include "dispatcher/pool/local_workers.h"

namespace tsdsr::dispatcher {
namespace {

constexpr auto kWorkerStopGrace = std::chrono::seconds(10);
constexpr std::int64_t kReservedFiles = 1024;  // descriptors kept for all but HTTP connections

BrokerOptions BrokerOptionsOf(const DispatcherOptions& o) {
  BrokerOptions b;
  b.endpoint = o.worker_endpoint;
  b.scheduler.max_queue = static_cast<size_t>(o.max_queue);
  b.scheduler.max_attempts = o.max_attempts;
  b.heartbeat_interval = std::chrono::milliseconds(o.heartbeat_ms);
  b.heartbeat_misses = o.heartbeat_misses;
  return b;
}

HttpServerOptions HttpOptionsOf(const DispatcherOptions& o) {
  HttpServerOptions h;
  h.host = o.host;
  h.port = static_cast<std::uint16_t>(o.port);
  h.threads = o.http_threads;
  h.max_request_bytes = static_cast<size_t>(o.max_body_mb) << 20;
  h.header_timeout = std::chrono::milliseconds(o.header_timeout_ms);
  h.body_timeout = std::chrono::milliseconds(o.body_timeout_ms);
  h.keepalive_timeout = std::chrono::milliseconds(o.keepalive_timeout_ms);
  h.max_connections = o.max_connections;
  return h;
}

// --max-connections within what the open-file limit allows once raised: every connection is a descriptor, and the
// process keeps kReservedFiles for everything else (the data dir, ZeroMQ, workers' pipes).
int ConnectionsAllowed(int wanted) {
  const std::int64_t files = RaiseOpenFileLimit(std::int64_t{wanted} + kReservedFiles);
  const auto allowed = static_cast<int>(std::max<std::int64_t>(16, std::min<std::int64_t>(wanted, files - kReservedFiles)));
  if (allowed < wanted) {
    spdlog::warn("--max-connections {} lowered to {}: the open-file limit is {} (raise its hard limit, e.g. "
                 "LimitNOFILE= in systemd)", wanted, allowed, files);
  }
  return allowed;
}

JobsOptions JobsOptionsOf(const DispatcherOptions& o) {
  JobsOptions j;
  j.retention.result_ttl_ms = *ParseDurationMillis(o.result_ttl);  // validated
  j.retention.history_ms = *ParseDurationMillis(o.job_history);
  j.retention.max_result_bytes = static_cast<std::int64_t>(o.result_max_gb * 1e9);
  j.max_unfinished = static_cast<size_t>(o.max_jobs);
  j.video.max_pixels = o.max_pixels;
  j.video.chunk_seconds = o.chunk_seconds;
  return j;
}

// The keys of --api-keys-file and --api-key (unnamed); empty when neither is given.
Result<std::shared_ptr<const ApiKeys>> ApiKeysOf(const DispatcherOptions& options) {
  ApiKeys keys;
  if (!options.api_keys_file.empty()) {
    TSDSR_ASSIGN_OR_RETURN(keys, ApiKeys::Load(options.api_keys_file));
    if (keys.empty()) return Status::InvalidArgument("API keys file " + options.api_keys_file + " holds no key");
  }
  if (!options.api_key.empty()) {
    if (Status added = keys.Add("", options.api_key); !added.ok()) {
      return Status::InvalidArgument("--api-key: " + added.message());
    }
  }
  return std::make_shared<const ApiKeys>(std::move(keys));
}

}  // namespace

Result<std::unique_ptr<DispatcherService>> DispatcherService::Start(const DispatcherOptions& options,
                                                                    const std::string& program_dir) {
  TSDSR_ASSIGN_OR_RETURN(std::shared_ptr<const ApiKeys> keys, ApiKeysOf(options));
  std::unique_ptr<DispatcherService> service(new DispatcherService());
  const std::int64_t budget = options.max_queued_mb > 0 ? options.max_queued_mb << 20 : DefaultMemoryBudgetBytes();
  service->budget_ = MemoryBudget::Create(budget);
  spdlog::info("memory budget for requests and jobs: {} MiB", budget >> 20);
  TSDSR_RETURN_IF_ERROR(service->SecureWorkerEndpoint(options));
  BrokerOptions broker_options = BrokerOptionsOf(options);
  if (service->curve_) broker_options.curve_secret_key = service->curve_->server_secret_key();
  TSDSR_ASSIGN_OR_RETURN(service->broker_,
                         Broker::Create(std::move(broker_options), service->context_, service->metrics_));
  spdlog::info("workers connect to {}", service->broker_->endpoint());
  service->splitter_ =
      std::make_unique<ImageSplitter>(*service->broker_, SplitOptions{options.split_min_pixels, options.max_pixels});
  TSDSR_RETURN_IF_ERROR(service->OpenJobs(options));

  ServiceInfo info;
  info.version = TSDSR_VERSION;
  info.model = options.model;
  info.default_upscale = options.upscale;
  info.default_process_size = options.process_size;
  UpscaleDefaults defaults;
  defaults.scale = options.upscale;
  defaults.process_size = options.process_size;
  defaults.max_timeout_ms = options.max_timeout_ms;
  defaults.max_pixels = options.max_pixels;

  TSDSR_RETURN_IF_ERROR(service->StartWorkers(options, program_dir));
  info.expected_workers = static_cast<int>(service->supervisor_ ? options.workers : 0);
  service->routes_ = std::make_unique<RouteContext>(info, defaults, *service->splitter_, *service->jobs_,
                                                    service->metrics_, keys);
  service->AddRoutes(options);
  service->SecureApi(options, std::move(keys));
  HttpServerOptions http = HttpOptionsOf(options);
  const int max_connections = ConnectionsAllowed(options.max_connections);
  http.max_connections = max_connections;
  http.budget = service->budget_;
  http.retry_after_s = [pool = service->splitter_.get()] { return EstimateRetryAfterSeconds(pool->Snapshot()); };
  TSDSR_ASSIGN_OR_RETURN(service->http_, HttpServer::Create(std::move(http), service->router_));
  service->routes_->SetLoadSource([s = service.get(), max_connections, clients = options.max_client_jobs] {
    return s->Load(max_connections, clients);
  });
  TSDSR_RETURN_IF_ERROR(service->http_->Start());
  spdlog::info("listening on http://{}:{}", options.host, service->http_->port());
  return service;
}

Status DispatcherService::OpenJobs(const DispatcherOptions& options) {
  const std::string path = options.data_dir.empty() ? DefaultDataDir() : options.data_dir;
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<DataDir> dir, DataDir::Open(path));
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<SqliteJobStore> store, SqliteJobStore::Open(dir->DatabasePath()));
  spdlog::info("job store in {}", dir->path());
  JobsOptions jobs = JobsOptionsOf(options);
  jobs.budget = budget_;
  TSDSR_ASSIGN_OR_RETURN(jobs_, JobManager::Start(std::move(jobs), std::move(dir), std::move(store), *splitter_,
                                                  metrics_));
  return Status::Ok();
}

void DispatcherService::AddRoutes(const DispatcherOptions& options) {
  router_ = std::make_shared<Pistache::Rest::Router>();
  api_ = std::make_unique<Api>(*routes_);
  api_->Register(*router_);
  jobs_routes_ = std::make_unique<JobsRoutes>(*routes_);
  jobs_routes_->Register(*router_);
  batch_route_ = std::make_unique<BatchRoute>(*routes_, static_cast<size_t>(options.max_batch_files));
  batch_route_->Register(*router_);
  console_routes_ = std::make_unique<ConsoleRoutes>(metrics_);
  console_routes_->Register(*router_);
}

Status DispatcherService::SecureWorkerEndpoint(const DispatcherOptions& options) {
  if (!options.curve_dir.empty()) {
    TSDSR_ASSIGN_OR_RETURN(curve_, WorkerCurve::Start(options.curve_dir, context_));
  } else if (options.insecure_workers && !IsLocalEndpoint(options.worker_endpoint)) {
    spdlog::warn("--insecure-workers: any peer that reaches {} can register as a worker, take jobs and see their "
                 "images", options.worker_endpoint);
  }
  return Status::Ok();
}

void DispatcherService::SecureApi(const DispatcherOptions& options, std::shared_ptr<const ApiKeys> keys) {
  if (!keys->empty()) {
    spdlog::info("the HTTP API requires one of {} API keys ({} named); /health, /health/live, /health/ready and "
                 "/metrics stay open", keys->size(), keys->named());
    RequireApiKey(*router_, std::move(keys), [metrics = &metrics_] { metrics->CountRequest("unauthenticated", 401); });
  } else if (!IsLoopbackHost(options.host)) {
    spdlog::warn("HTTP listens on {} without --api-key: whoever reaches it can use the API", options.host);
  }
}

Status DispatcherService::StartWorkers(const DispatcherOptions& options, const std::string& program_dir) {
  int gpus = CountVisibleGpus(std::getenv("CUDA_VISIBLE_DEVICES"), "/proc/driver/nvidia/gpus");
  TSDSR_ASSIGN_OR_RETURN(std::vector<std::string> devices, LocalWorkerDevices(options.workers, options.device, gpus));
  if (devices.empty()) {
    spdlog::info("no local workers; waiting for remote workers");
    return Status::Ok();
  }
  SupervisorOptions s;
  s.worker_binary = options.worker_binary.empty() ? program_dir + "/tsdsr-worker" : options.worker_binary;
  s.devices = devices;
  s.common_args = {"--connect",      LocalConnectAddress(broker_->endpoint()),
                   "--model",        options.model,
                   "--color-fix",    options.color_fix,
                   "--dtype",        options.dtype,
                   "--heartbeat-ms", std::to_string(options.heartbeat_ms),
                   "--heartbeat-misses", std::to_string(options.heartbeat_misses),
                   "--log-level",    options.log_level};
  if (curve_) s.common_args.insert(s.common_args.end(), {"--curve-dir", curve_->local_worker_dir()});
  if (!options.models_dir.empty()) s.common_args.insert(s.common_args.end(), {"--models-dir", options.models_dir});
  if (options.worker_memory_mb > 0) {
    s.common_args.insert(s.common_args.end(), {"--memory-budget-mb", std::to_string(options.worker_memory_mb)});
  }
  if (options.model_scale != 0) {
    s.common_args.insert(s.common_args.end(), {"--model-scale", std::to_string(options.model_scale)});
  }
  if (options.latent_seed >= 0) {
    s.common_args.insert(s.common_args.end(), {"--latent-seed", std::to_string(options.latent_seed)});
  }
  if (!options.lora_dir.empty()) s.common_args.insert(s.common_args.end(), {"--lora-dir", options.lora_dir});
  if (!options.embeddings_dir.empty()) {
    s.common_args.insert(s.common_args.end(), {"--embeddings-dir", options.embeddings_dir});
  }
  launcher_ = MakePosixLauncher();
  supervisor_ = std::make_unique<Supervisor>(s, *launcher_, metrics_);
  return supervisor_->Start();
}

DispatcherService::~DispatcherService() { Stop(); }

LoadReport DispatcherService::Load(int max_connections, int max_client_jobs) const {
  LoadReport load;
  load.held_bytes = budget_->used();
  load.max_held_bytes = budget_->limit();
  load.peak_held_bytes = budget_->peak();
  load.refused_memory = budget_->refusals();
  load.open_connections = http_ ? http_->open_connections() : 0;
  load.refused_connections = http_ ? http_->refused_connections() : 0;
  load.max_connections = max_connections;
  load.max_client_jobs = max_client_jobs;
  return load;
}

void DispatcherService::BeginDrain() {
  if (routes_) routes_->SetDraining();
  if (jobs_) jobs_->StopFeeding();
}

bool DispatcherService::Idle() const {
  return broker_->Outstanding() == 0 && splitter_->Outstanding() == 0 &&
         (jobs_ == nullptr || !jobs_->AnsweringBatches());
}

void DispatcherService::Stop() {
  if (stopped_) return;
  stopped_ = true;
  BeginDrain();
  if (broker_) broker_->Stop();  // answers what is left while HTTP can still carry the answers
  if (splitter_) splitter_->Stop();  // joins (or fails) the split images whose pieces were answered
  if (jobs_) jobs_->Stop();      // applies those answers; batches still waiting get 503
  if (curve_) curve_->Stop();    // only now that the ROUTER is closed
  if (http_) http_->Shutdown();
  if (supervisor_) supervisor_->Stop(kWorkerStopGrace);
}

}  // namespace tsdsr::dispatcher
