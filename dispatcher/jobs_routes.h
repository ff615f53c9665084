// The routes of durable asynchronous jobs: POST /jobs, GET /jobs, GET /jobs/{id}, GET /jobs/{id}/result,
// GET /jobs/{id}/events (server-sent events) and DELETE /jobs/{id}, over the JobManager.
#pragma once

#include <pistache/http.h>
#include <pistache/router.h>

#include "dispatcher/route_context.h"

namespace tsdsr::dispatcher {

class JobsRoutes {
 public:
  // `context` must outlive this object and the router it registers on.
  explicit JobsRoutes(RouteContext& context) : context_(context) {}

  // Adds the routes. Call before the server starts.
  void Register(Pistache::Rest::Router& router);

 private:
  void Submit(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  // The job a POST /jobs asks for: an image, or a video (by its type or name) with its output settings.
  Result<NewJob> ParseSubmission(const Pistache::Rest::Request& request, const std::string& body);
  void List(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Get(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Output(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Events(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void Cancel(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);
  void SendView(std::string_view endpoint, Pistache::Http::ResponseWriter& response, Pistache::Http::Code code,
                const JobView& view);

  RouteContext& context_;
};

// The Idempotency-Key header's value when it is a usable key (1 to 200 printable ASCII characters), "" when the
// header is absent; InvalidArgument otherwise.
Result<std::string> IdempotencyKeyOf(const std::optional<std::string>& header);

// A file name safe to put in a Content-Disposition header: `stem` of the upload (or "job-<id>") with every
// character outside [A-Za-z0-9._-] replaced by '_', plus "_x<scale>" and the format's extension.
std::string DownloadName(const JobRecord& record);

}  // namespace tsdsr::dispatcher
