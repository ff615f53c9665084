#include "dispatcher/http/auth.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <utility>

#include <pistache/http.h>
#include <pistache/http_headers.h>

#include "common/curve_keys.h"
#include "common/text.h"
#include "dispatcher/http/http_errors.h"

namespace tsdsr::dispatcher {
namespace {

namespace Http = Pistache::Http;

constexpr std::array<std::string_view, 4> kOpenPaths = {"/health", "/health/live", "/health/ready", "/metrics"};
constexpr std::string_view kConsoleAssets = "/ui/";  // the web console's files: no data
constexpr std::string_view kBearer = "bearer";
constexpr size_t kMaxKeysFileBytes = size_t{1} << 20;

}  // namespace

Status CheckKeyStrength(std::string_view key, std::string_view what) {
  constexpr size_t kMinKeySize = 16;
  const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (key.size() >= kMinKeySize && printable) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " must be at least 16 printable ASCII characters without "
                                 "spaces, e.g. from 'openssl rand -hex 32'");
}

bool IsClientName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == ':' || c == '@';
  });
}

Result<ApiKeys> ApiKeys::Parse(std::string_view text) {
  ApiKeys keys;
  int number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = TrimBlanks(line);
    if (line.empty() || line.front() == '#') continue;
    const size_t gap = line.find_first_of(" \t");  // NAME, then the KEY (a key with spaces in it is refused)
    Status added = gap == std::string_view::npos
                       ? Status::InvalidArgument("must be 'NAME KEY'")
                       : keys.Add(std::string(line.substr(0, gap)), std::string(TrimBlanks(line.substr(gap))));
    if (!added.ok()) return Status::InvalidArgument("line " + std::to_string(number) + ": " + added.message());
  }
  return keys;
}

Result<ApiKeys> ApiKeys::Load(const std::string& path) {
  TSDSR_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path, /*secret=*/true, kMaxKeysFileBytes));
  Result<ApiKeys> keys = Parse(text);
  if (!keys.ok()) return Status::InvalidArgument("API keys file " + path + ", " + keys.status().message());
  return keys;
}

Status ApiKeys::Add(std::string name, std::string key) {
  if (!name.empty() && !IsClientName(name)) {
    return Status::InvalidArgument("a key's name must be 1 to 64 letters, digits and . _ - : @");
  }
  TSDSR_RETURN_IF_ERROR(CheckKeyStrength(key, "a key"));
  for (const Key& known : keys_) {
    if (!name.empty() && known.name == name) return Status::InvalidArgument("the name " + name + " is given twice");
    if (known.secret == key) return Status::InvalidArgument("a key is given twice");
  }
  keys_.push_back({std::move(name), std::move(key)});
  return Status::Ok();
}

size_t ApiKeys::named() const {
  return static_cast<size_t>(std::count_if(keys_.begin(), keys_.end(), [](const Key& k) { return !k.name.empty(); }));
}

int ApiKeys::Find(std::string_view token) const {
  int found = -1;
  for (size_t i = 0; i < keys_.size(); ++i) {  // every key is compared: no early exit
    if (ConstantTimeEquals(token, keys_[i].secret)) found = static_cast<int>(i);
  }
  return found;
}

Status ApiKeys::Check(std::string_view path, const std::optional<std::string>& authorization) const {
  if (keys_.empty() || IsOpenPath(path)) return Status::Ok();
  if (!authorization)
    return Status::Unauthenticated("this server needs an API key: send 'Authorization: Bearer <key>'");
  std::optional<std::string_view> token = BearerToken(*authorization);
  if (!token) return Status::Unauthenticated("the Authorization header must be 'Bearer <key>'");
  if (Find(*token) < 0) return Status::Unauthenticated("wrong API key");
  return Status::Ok();
}

std::optional<std::string> ApiKeys::NameOf(const std::optional<std::string>& authorization) const {
  if (keys_.empty() || !authorization) return std::nullopt;
  std::optional<std::string_view> token = BearerToken(*authorization);
  const int index = token ? Find(*token) : -1;
  if (index < 0 || keys_[size_t(index)].name.empty()) return std::nullopt;
  return keys_[size_t(index)].name;
}

std::optional<std::string> AuthorizationOf(const Http::Request& request) {
  if (auto typed = request.headers().tryGet<Http::Header::Authorization>()) return typed->value();
  if (auto raw = request.headers().tryGetRaw("Authorization")) return raw->value();
  return std::nullopt;
}

bool IsOpenPath(std::string_view path) {
  if (path == "/") return true;
  if (path.rfind(kConsoleAssets, 0) == 0) return path.find("..") == std::string_view::npos;
  for (std::string_view open : kOpenPaths) {
    if (path == open) return true;
  }
  return false;
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  authorization = TrimBlanks(authorization);
  if (authorization.size() <= kBearer.size()) return std::nullopt;
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kBearer[i]) return std::nullopt;
  }
  const char separator = authorization[kBearer.size()];
  if (separator != ' ' && separator != '\t') return std::nullopt;
  std::string_view token = TrimBlanks(authorization.substr(kBearer.size() + 1));
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

void RequireApiKey(Pistache::Rest::Router& router, std::shared_ptr<const ApiKeys> keys,
                   std::function<void()> on_refused) {
  router.addMiddleware([keys = std::move(keys), on_refused = std::move(on_refused)](Http::Request& request,
                                                                                    Http::ResponseWriter& response) {
    Status allowed = keys->Check(request.resource(), AuthorizationOf(request));
    if (allowed.ok()) return true;
    if (on_refused) on_refused();
    AddHeader(response, "WWW-Authenticate", "Bearer");
    SendError(response, allowed);
    return false;  // answered: the route does not run
  });
}

}  // namespace tsdsr::dispatcher
