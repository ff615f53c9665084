#include "dispatcher/http/auth.h"

#include <array>
#include <cctype>
#include <memory>
#include <utility>

#include <pistache/http.h>
#include <pistache/http_headers.h>

#include "dispatcher/http/http_errors.h"

namespace tsdsr::dispatcher {
namespace {

namespace Http = Pistache::Http;

constexpr std::array<std::string_view, 4> kOpenPaths = {"/health", "/health/live", "/health/ready", "/metrics"};
constexpr std::string_view kBearer = "bearer";

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The Authorization header of `request`, typed or raw (Pistache parses it into a typed header).
std::optional<std::string> AuthorizationOf(const Http::Request& request) {
  if (auto typed = request.headers().tryGet<Http::Header::Authorization>()) return typed->value();
  if (auto raw = request.headers().tryGetRaw("Authorization")) return raw->value();
  return std::nullopt;
}

}  // namespace

bool IsOpenPath(std::string_view path) {
  for (std::string_view open : kOpenPaths) {
    if (path == open) return true;
  }
  return false;
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  authorization = TrimSpaces(authorization);
  if (authorization.size() <= kBearer.size()) return std::nullopt;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kBearer[i]) return std::nullopt;
  }
  const char separator = authorization[kBearer.size()];
  if (separator != ' ' && separator != '\t') return std::nullopt;
  std::string_view token = TrimSpaces(authorization.substr(kBearer.size() + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

bool ConstantTimeEquals(std::string_view candidate, std::string_view secret) {
  if (secret.empty()) return candidate.empty();
  // Every byte of the candidate is compared, against the secret repeated: no early exit, no length leak.
  volatile unsigned char difference = candidate.size() != secret.size() ? 1 : 0;
  for (size_t i = 0; i < candidate.size(); ++i) {
    difference = difference | static_cast<unsigned char>(candidate[i] ^ secret[i % secret.size()]);
  }
  return difference == 0;
}

Status CheckApiKey(const std::string& api_key, std::string_view path, const std::optional<std::string>& authorization) {
  if (api_key.empty() || IsOpenPath(path)) return Status::Ok();
  if (!authorization)
    return Status::Unauthenticated("this server needs an API key: send 'Authorization: Bearer <key>'");
  std::optional<std::string_view> token = BearerToken(*authorization);
  if (!token) return Status::Unauthenticated("the Authorization header must be 'Bearer <key>'");
  if (!ConstantTimeEquals(*token, api_key)) return Status::Unauthenticated("wrong API key");
  return Status::Ok();
}

void RequireApiKey(Pistache::Rest::Router& router, std::string api_key, std::function<void()> on_refused) {
  router.addMiddleware([key = std::move(api_key), on_refused = std::move(on_refused)](Http::Request& request,
                                                                                      Http::ResponseWriter& response) {
    Status allowed = CheckApiKey(key, request.resource(), AuthorizationOf(request));
    if (allowed.ok()) return true;
    if (on_refused) on_refused();
    AddHeader(response, "WWW-Authenticate", "Bearer");
    SendError(response, allowed);
    return false;  // answered: the route does not run
  });
}

}  // namespace tsdsr::dispatcher
