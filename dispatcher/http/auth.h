// The API key of the HTTP API (--api-key): with one set, every request except the health probes and
// /metrics must carry `Authorization: Bearer KEY`, or it is answered 401 with `WWW-Authenticate: Bearer` and
// the JSON error body {"error": ..., "code": "unauthenticated"}. The check runs as a router middleware, before
// routing, so every route (present and future) and even unknown paths are covered.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <pistache/router.h>

#include "common/status.h"

namespace tsdsr::dispatcher {

// True for the paths open without a key: /health, /health/live, /health/ready and /metrics (exact match).
bool IsOpenPath(std::string_view path);

// The token of an Authorization header value "Bearer TOKEN" (scheme case-insensitive, spaces around the
// token ignored); nullopt for another scheme or an empty token.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// Compares `candidate` with `secret` in time that depends only on the length of `candidate`, so neither
// the secret's content nor its length leaks through timing.
bool ConstantTimeEquals(std::string_view candidate, std::string_view secret);

// OK when a request for `path` with this Authorization header (nullopt: none) may go on under `api_key`;
// an empty key lets everything through. Unauthenticated saying what is missing otherwise.
Status CheckApiKey(const std::string& api_key, std::string_view path, const std::optional<std::string>& authorization);

// Makes `router` answer 401 for requests CheckApiKey refuses under `api_key` (which must not be empty);
// `on_refused` (may be empty) runs for each, e.g. to count it. Call before the server starts.
void RequireApiKey(Pistache::Rest::Router& router, std::string api_key, std::function<void()> on_refused);

}  // namespace tsdsr::dispatcher
