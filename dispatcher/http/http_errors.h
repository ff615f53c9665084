// The HTTP face of Status: the one table from StatusCode to HTTP status, the JSON error body
// {"error": message, "code": "snake_case_code"}, and the senders every route handler answers with.
#pragma once

#include <pistache/http.h>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace tsdsr::dispatcher {

// The HTTP status for `code`: InvalidArgument 400, Unauthenticated 401, NotFound 404, Conflict 409, Gone 410,
// TooLarge 413, UnsupportedType 415, Unavailable/ResourceExhausted/FailedPrecondition 503, Aborted 502 (a job lost
// with its workers), DeadlineExceeded 504, InsufficientStorage 507, Cancelled 499, Internal 500, Ok 200.
Pistache::Http::Code HttpCodeFor(StatusCode code);

// The StatusCode whose HTTP status is `http_code` (the inverse of HttpCodeFor; 503 gives Unavailable); other
// 4xx give InvalidArgument, anything else Internal. For errors raised as Pistache::Http::HttpError.
StatusCode StatusCodeForHttp(int http_code);

// {"error": status.message(), "code": StatusCodeName(status.code())}.
nlohmann::json ErrorBody(const Status& status);

// Sends `body` as `application/json` with status `code`, from any thread; closes the connection afterwards when
// the request asked for that (see SendResponse in http_server.h). `w` must not be used to send again.
void SendJson(Pistache::Http::ResponseWriter& w, Pistache::Http::Code code, const nlohmann::json& body);

// Sends ErrorBody(status) with HttpCodeFor(status.code()) through SendJson. `status` must not be OK.
void SendError(Pistache::Http::ResponseWriter& w, const Status& status);

// Adds a response header with any name (e.g. "Retry-After", "X-Output-Size"). Pistache 0.0.5 writes only typed
// headers into responses (raw ones are dropped) and its CUSTOM_HEADER macro cannot spell names with dashes.
void AddHeader(Pistache::Http::ResponseWriter& w, std::string name, std::string value);

}  // namespace tsdsr::dispatcher
