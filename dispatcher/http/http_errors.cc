#include "dispatcher/http/http_errors.h"

#include <array>
#include <memory>
#include <ostream>
#include <string>

#include "dispatcher/http/http_server.h"

namespace tsdsr::dispatcher {

namespace {

class TextHeader : public Pistache::Http::Header::Header {
 public:
  TextHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return Pistache::Http::Header::detail::hash(name_.c_str()); }
#endif

 private:
  std::string name_;
  std::string value_;
};

}  // namespace

void AddHeader(Pistache::Http::ResponseWriter& w, std::string name, std::string value) {
  w.headers().add(std::make_shared<TextHeader>(std::move(name), std::move(value)));
}

namespace {

using Pistache::Http::Code;

struct CodeMapping {
  StatusCode status;
  Code http;
};

// The one table. The first row with a given HTTP code is the one StatusCodeForHttp returns.
constexpr std::array<CodeMapping, 17> kCodeTable = {{
    {StatusCode::kOk, Code::Ok},
    {StatusCode::kInvalidArgument, Code::Bad_Request},
    {StatusCode::kUnauthenticated, Code::Unauthorized},
    {StatusCode::kNotFound, Code::Not_Found},
    {StatusCode::kTooLarge, Code::Request_Entity_Too_Large},
    {StatusCode::kUnsupportedType, Code::Unsupported_Media_Type},
    {StatusCode::kConflict, Code::Conflict},
    {StatusCode::kGone, Code::Gone},
    {StatusCode::kInsufficientStorage, Code::Insufficient_Storage},
    {StatusCode::kTooManyRequests, Code::Too_Many_Requests},
    {StatusCode::kAborted, Code::Bad_Gateway},
    {StatusCode::kUnavailable, Code::Service_Unavailable},
    {StatusCode::kResourceExhausted, Code::Service_Unavailable},
    {StatusCode::kFailedPrecondition, Code::Service_Unavailable},
    {StatusCode::kDeadlineExceeded, Code::Gateway_Timeout},
    {StatusCode::kCancelled, Code::Client_Closed_Request},
    {StatusCode::kInternal, Code::Internal_Server_Error},
}};

}  // namespace

Code HttpCodeFor(StatusCode code) {
  for (const auto& row : kCodeTable) {
    if (row.status == code) return row.http;
  }
  return Code::Internal_Server_Error;
}

StatusCode StatusCodeForHttp(int http_code) {
  for (const auto& row : kCodeTable) {
    if (static_cast<int>(row.http) == http_code) return row.status;
  }
  return (http_code >= 400 && http_code < 500) ? StatusCode::kInvalidArgument : StatusCode::kInternal;
}

nlohmann::json ErrorBody(const Status& status) {
  return {{"error", status.message()}, {"code", std::string(StatusCodeName(status.code()))}};
}

void SendJson(Pistache::Http::ResponseWriter& w, Code code, const nlohmann::json& body) {
  // Replace invalid UTF-8 (e.g. a client's filename echoed in a message) instead of throwing.
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  SendResponse(
      w, code, text,
      Pistache::Http::Mime::MediaType(Pistache::Http::Mime::Type::Application, Pistache::Http::Mime::Subtype::Json));
}

void SendError(Pistache::Http::ResponseWriter& w, const Status& status) {
  SendJson(w, HttpCodeFor(status.code()), ErrorBody(status));
}

}  // namespace tsdsr::dispatcher
