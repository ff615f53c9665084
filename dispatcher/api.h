// The synchronous routes of DESIGN.md on a Pistache router: POST /upscale, GET /health, /health/live,
// /health/ready, /info, /stats, /metrics. /upscale validates, hands the job to the pool and answers from its
// callback; the status pages read the pool's snapshot and the job report and never wait on inference.
#pragma once

#include <memory>

#include <pistache/http.h>
#include <pistache/router.h>

#include "dispatcher/route_context.h"

namespace tsdsr::dispatcher {

class Api {
 public:
  // `context` must outlive the Api and the router it registers on.
  explicit Api(RouteContext& context) : context_(context) {}

  // Adds the routes, and the disconnect handler that cancels the work of clients that went away. Call before the
  // server starts.
  void Register(Pistache::Rest::Router& router);

 private:
  void Upscale(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Health(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Live(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Ready(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Info(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Stats(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void MetricsPage(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void OpenApi(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);

  // Builds the job of a validated request; its callback answers `response`.
  JobPtr MakeJob(ImageRequest request, std::shared_ptr<Pistache::Tcp::Peer> peer,
                 Pistache::Http::ResponseWriter response);
  void Answer(Pistache::Http::ResponseWriter& writer, const JobOutcome& outcome);

  RouteContext& context_;
};

}  // namespace tsdsr::dispatcher
