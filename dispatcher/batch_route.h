// POST /upscale_batch: the Python server's batch upload. Every file of the multipart body (fields `files`, or
// `file` repeated) is checked on its own; the good ones run in parallel across the pool through the JobManager,
// and each output is stored in the result store, downloadable at its url. A file that fails has its own error in
// the answer and the others still succeed. The answer is the seed's shape:
// {"results": [{"filename", "temp_path", "output_size", "file_size_mb", "url", "id"} or {"filename", "error",
// "code"}], "total", "successful", "failed"}; temp_path is the stored output's path on the dispatcher's machine.
#pragma once

#include <pistache/http.h>
#include <pistache/router.h>

#include "dispatcher/route_context.h"

namespace tsdsr::dispatcher {

class BatchRoute {
 public:
  // `context` must outlive this object and the router it registers on. `max_files` bounds one batch (413 above).
  BatchRoute(RouteContext& context, size_t max_files) : context_(context), max_files_(max_files) {}

  // Adds the route. Call before the server starts.
  void Register(Pistache::Rest::Router& router);

 private:
  void Upscale(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);

  RouteContext& context_;
  const size_t max_files_;
};

}  // namespace tsdsr::dispatcher
