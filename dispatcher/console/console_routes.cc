#include "dispatcher/console/console_routes.h"

#include <optional>
#include <string>

#include <pistache/http_headers.h>

#include "dispatcher/http/http_errors.h"
#include "dispatcher/http/http_server.h"

namespace tsdsr::dispatcher {
namespace {

using Pistache::Http::ResponseWriter;
using Pistache::Rest::Request;

constexpr std::string_view kIndexEndpoint = "/";
constexpr std::string_view kAssetEndpoint = "/ui";

std::optional<std::string> IfNoneMatchOf(const Request& request) {
  if (auto raw = request.headers().tryGetRaw("If-None-Match")) return raw->value();
  return std::nullopt;
}

}  // namespace

void ConsoleRoutes::Register(Pistache::Rest::Router& router) {
  using Pistache::Rest::Routes::bind;
  Pistache::Rest::Routes::Get(router, "/", bind(&ConsoleRoutes::Index, this));
  Pistache::Rest::Routes::Get(router, "/ui/:file", bind(&ConsoleRoutes::Asset, this));
  Pistache::Rest::Routes::Get(router, "/ui/js/:file", bind(&ConsoleRoutes::ScriptAsset, this));
}

void ConsoleRoutes::Index(const Request& request, ResponseWriter response) {
  Send(kIndexEndpoint, "index.html", request, response);
}

void ConsoleRoutes::Asset(const Request& request, ResponseWriter response) {
  Send(kAssetEndpoint, request.param(":file").as<std::string>(), request, response);
}

void ConsoleRoutes::ScriptAsset(const Request& request, ResponseWriter response) {
  Send(kAssetEndpoint, "js/" + request.param(":file").as<std::string>(), request, response);
}

void ConsoleRoutes::Send(std::string_view endpoint, const std::string& name, const Request& request,
                         ResponseWriter& response) {
  const std::optional<std::string> if_none_match = IfNoneMatchOf(request);
  AssetAnswer answer = assets_.Answer(name, if_none_match ? std::optional<std::string_view>(*if_none_match)
                                                          : std::nullopt);
  for (const auto& [header, value] : answer.headers) AddHeader(response, header, value);
  metrics_.CountRequest(endpoint, answer.status);
  SendResponse(response, static_cast<Pistache::Http::Code>(answer.status), answer.body,
               Pistache::Http::Mime::MediaType::fromString(answer.content_type));
}

}  // namespace tsdsr::dispatcher
