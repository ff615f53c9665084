// The API keys of the HTTP API (--api-key, --api-keys-file): with any set, every request except the health
// probes and /metrics must carry `Authorization: Bearer KEY` with one of them, or it is answered 401 with
// `WWW-Authenticate: Bearer` and the JSON error body {"error": ..., "code": "unauthenticated"}. The check runs as
// a router middleware, before routing, so every route (present and future) and even unknown paths are covered.
// A key from the keys file has a name: the client's identity for turns and per-client limits.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pistache/http.h>
#include <pistache/router.h>

#include "common/status.h"

namespace tsdsr::dispatcher {

// OK for a key strong enough to guard the API that can travel in a header: 16 or more printable ASCII
// characters without spaces. InvalidArgument otherwise, the message starting with `what` (the key itself is
// never in it).
Status CheckKeyStrength(std::string_view key, std::string_view what);

// True for a client name (an API key's name, an X-Client-Id): 1 to 64 letters, digits and . _ - : @.
bool IsClientName(std::string_view name);

// The keys the API accepts, each with its name ("" for the key of --api-key). Immutable once built; lookups
// take time that depends on the number of keys and the candidate's length only.
class ApiKeys {
 public:
  // A keys file: one "NAME KEY" per line (spaces or tabs between); blank lines and lines starting with '#' are
  // skipped. InvalidArgument naming the line for a malformed name, a weak key, or a name or key seen before.
  static Result<ApiKeys> Parse(std::string_view text);
  // Parse of the file at `path`; NotFound when it cannot be read. Messages name the file.
  static Result<ApiKeys> Load(const std::string& path);

  // Adds `key` under `name` (which may be empty); InvalidArgument as for Parse.
  Status Add(std::string name, std::string key);
  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }
  // The number of keys with a name.
  size_t named() const;

  // OK when a request for `path` with this Authorization header (nullopt: none) may go on: no keys, an open
  // path, or one of the keys. Unauthenticated saying what is missing otherwise.
  Status Check(std::string_view path, const std::optional<std::string>& authorization) const;
  // The name of the key `authorization` carries; nullopt when it carries none of them or an unnamed one.
  std::optional<std::string> NameOf(const std::optional<std::string>& authorization) const;

 private:
  struct Key {
    std::string name;
    std::string secret;
  };
  // The index of the key `token` is, compared with every key; -1 for none.
  int Find(std::string_view token) const;

  std::vector<Key> keys_;
};

// True for the paths open without a key: /health, /health/live, /health/ready, /metrics, and the web console's
// page and files (/ and /ui/...), which hold no data (exact match, but for /ui/'s prefix).
bool IsOpenPath(std::string_view path);

// The token of an Authorization header value "Bearer TOKEN" (scheme case-insensitive, spaces around the
// token ignored); nullopt for another scheme or an empty token.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// Compares `candidate` with `secret` in time that depends only on the length of `candidate`, so neither
// the secret's content nor its length leaks through timing.
bool ConstantTimeEquals(std::string_view candidate, std::string_view secret);

// The Authorization header of `request`, typed or raw (Pistache parses it into a typed header); nullopt: none.
std::optional<std::string> AuthorizationOf(const Pistache::Http::Request& request);

// Makes `router` answer 401 for requests `keys` refuses (`keys` must not be empty); `on_refused` (may be empty)
// runs for each, e.g. to count it. Call before the server starts.
void RequireApiKey(Pistache::Rest::Router& router, std::shared_ptr<const ApiKeys> keys,
                   std::function<void()> on_refused);

}  // namespace tsdsr::dispatcher
