// The dispatcher assembled: metrics, broker, job store, routes, HTTP server and the supervisor of local workers,
// started and stopped in the right order.
#pragma once

#include <memory>
#include <string>

#include <zmq.hpp>

#include "common/status.h"
#include "dispatcher/api.h"
#include "dispatcher/batch_route.h"
#include "dispatcher/console/console_routes.h"
#include "dispatcher/http/auth.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/jobs/job_manager.h"
#include "dispatcher/jobs_routes.h"
#include "dispatcher/options.h"
#include "dispatcher/pool/image_splitter.h"
#include "dispatcher/pool/broker.h"
#include "dispatcher/pool/supervisor.h"
#include "dispatcher/pool/worker_security.h"
#include "dispatcher/route_context.h"
#include "dispatcher/status/metrics.h"

namespace tsdsr::dispatcher {

class DispatcherService {
 public:
  // Binds the worker endpoint and the HTTP port, starts the local workers. `program_dir` is where
  // tsdsr-worker is looked for when --worker-binary is not set. The error says which part failed.
  static Result<std::unique_ptr<DispatcherService>> Start(const DispatcherOptions& options,
                                                          const std::string& program_dir);
  ~DispatcherService();  // Stop()

  std::uint16_t http_port() const { return http_->port(); }
  const std::string& worker_endpoint() const { return broker_->endpoint(); }

  // Starts draining: /health/ready turns false and new jobs get 503 at once; accepted jobs go on.
  void BeginDrain();
  // True when no synchronous request is queued or on a worker and no batch is being answered (async jobs wait in
  // the store for the next start).
  bool Idle() const;

  // Answers whatever synchronous work is still queued or in flight with 503 (async jobs stay stored, for the next
  // start), then stops the broker, the job manager, HTTP and the local workers. Idempotent.
  void Stop();

 private:
  DispatcherService() = default;
  Status StartWorkers(const DispatcherOptions& options, const std::string& program_dir);
  // --curve-dir: reads the keys and starts the ZAP handler (before the broker binds); warns when insecure.
  Status SecureWorkerEndpoint(const DispatcherOptions& options);
  // With `keys` (--api-key, --api-keys-file): installs the bearer-token check on router_ (after the routes);
  // without, warns when the API is open to other machines.
  void SecureApi(const DispatcherOptions& options, std::shared_ptr<const ApiKeys> keys);
  // --data-dir: opens the job store and starts the job manager.
  Status OpenJobs(const DispatcherOptions& options);
  // The routes on router_.
  void AddRoutes(const DispatcherOptions& options);
  // Memory held and connections now, for /info, /stats and /metrics.
  LoadReport Load(int max_connections, int max_client_jobs) const;

  zmq::context_t context_;
  std::shared_ptr<MemoryBudget> budget_;  // shared by the HTTP transport and the job manager
  Metrics metrics_;
  std::unique_ptr<WorkerCurve> curve_;  // null without --curve-dir; outlives broker_ (its ZAP handler)
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<ImageSplitter> splitter_;  // in front of broker_: every route and the job manager submit here
  std::unique_ptr<JobManager> jobs_;  // after broker_: destroyed before it
  std::unique_ptr<RouteContext> routes_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<JobsRoutes> jobs_routes_;
  std::unique_ptr<BatchRoute> batch_route_;
  std::unique_ptr<ConsoleRoutes> console_routes_;
  std::shared_ptr<Pistache::Rest::Router> router_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ProcessLauncher> launcher_;
  std::unique_ptr<Supervisor> supervisor_;
  bool stopped_ = false;
};

}  // namespace tsdsr::dispatcher
