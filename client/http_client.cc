#include "client/http_client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "common/text.h"

namespace tsdsr::client {
namespace {

// libcurl's global state is set up once per process and never torn down (curl_global_cleanup is not
// thread-safe and the process may still have handles when it exits).
CURLcode InitCurlOnce() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<HttpResponse*>(user)->body.append(data, size * count);
  return size * count;
}

// Called once per header line, status lines included; a new status line (after "100 Continue" or a
// redirect) starts a fresh set of headers.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line = Trim(std::string_view(data, size * count));
  if (line.substr(0, 5) == "HTTP/") {
    response->headers.clear();
    response->reason.clear();
    std::size_t code_start = line.find(' ');
    std::size_t reason_start = code_start == std::string_view::npos ? line.npos : line.find(' ', code_start + 1);
    if (reason_start != std::string_view::npos) response->reason = std::string(Trim(line.substr(reason_start)));
    return size * count;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name = AsciiLower(Trim(line.substr(0, colon)));
  std::string value(Trim(line.substr(colon + 1)));
  auto [it, inserted] = response->headers.emplace(name, value);
  if (!inserted) it->second += ", " + value;
  return size * count;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MimeDeleter {
  void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// Reads one part of a parsed URL; "" when absent.
std::string UrlPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

struct HttpClient::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

std::string HttpResponse::Header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? "" : it->second;
}

HttpClient::HttpClient(std::string base_url, std::string host_port, std::chrono::milliseconds timeout,
                       std::unique_ptr<Handle> handle)
    : base_url_(std::move(base_url)),
      host_port_(std::move(host_port)),
      timeout_(timeout),
      handle_(std::move(handle)) {}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(std::string base_url, std::chrono::milliseconds timeout) {
  if (InitCurlOnce() != CURLE_OK) return Status::Internal("libcurl could not be initialised");
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (url == nullptr) return Status::Internal("out of memory");
  if (curl_url_set(url.get(), CURLUPART_URL, base_url.c_str(), 0) != CURLUE_OK) {
    return Status::InvalidArgument("invalid server URL '" + base_url + "'");
  }
  std::string scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("server URL '" + base_url + "' is not http:// or https://");
  }
  std::string host_port =
      UrlPart(url.get(), CURLUPART_HOST) + ":" + UrlPart(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  auto handle = std::make_unique<Handle>();
  handle->curl = curl_easy_init();
  if (handle->curl == nullptr) return Status::Internal("libcurl could not create a handle");
  return std::unique_ptr<HttpClient>(
      new HttpClient(std::move(base_url), std::move(host_port), timeout, std::move(handle)));
}

Result<std::unique_ptr<HttpClient>> HttpClient::Clone() const {
  TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> copy, Create(base_url_, timeout_));
  copy->default_headers_ = default_headers_;
  return copy;
}

Status HttpClient::TransportError(int curl_code, long os_errno, const char* detail) const {
  auto code = static_cast<CURLcode>(curl_code);
  std::string what = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status::DeadlineExceeded("timed out after " + std::to_string(timeout_.count()) +
                                      " ms waiting for " + host_port_);
    case CURLE_COULDNT_CONNECT: {
      std::string reason = os_errno == ECONNREFUSED ? "connection refused"
                           : os_errno != 0         ? AsciiLower(std::strerror(static_cast<int>(os_errno)))
                                                   : what;
      return Status::Unavailable("cannot connect to " + host_port_ + " (" + reason + ")");
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      return Status::Unavailable("cannot connect to " + host_port_ + " (unknown host)");
    default:
      return Status::Unavailable("request to " + host_port_ + " failed (" + what + ")");
  }
}

namespace {

// Bodies from this size on wait for `100 Continue` (the server answers it at once): one the server refuses at its
// head (too large, its memory budget full) is then never sent.
constexpr size_t kExpectContinueBytes = size_t{1} << 20;

size_t BodyBytes(const HttpRequest& request) {
  size_t bytes = request.body.size();
  for (const auto& part : request.parts) bytes += part.bytes.size();
  return bytes;
}

// Request headers as a curl list: the request's own, then the defaults it does not set. `Expect: 100-continue`
// is sent for bodies of kExpectContinueBytes or more and switched off for smaller ones, unless the caller sets
// Expect.
std::unique_ptr<curl_slist, SlistDeleter> BuildHeaders(
    const HttpRequest& request, const std::vector<std::pair<std::string, std::string>>& defaults) {
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  bool has_expect = false;
  for (const auto& [name, value] : request.headers) {
    has_expect = has_expect || AsciiLower(name) == "expect";
    headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
  }
  for (const auto& [name, value] : defaults) {
    const bool overridden = std::any_of(request.headers.begin(), request.headers.end(),
                                        [&](const auto& header) { return AsciiLower(header.first) == AsciiLower(name); });
    if (!overridden) headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
  }
  if (!has_expect) {
    const bool large = BodyBytes(request) >= kExpectContinueBytes;
    headers.reset(curl_slist_append(headers.release(), large ? "Expect: 100-continue" : "Expect:"));
  }
  return headers;
}

// Sets the method and body options; a multipart body is built into `mime`, which must outlive the transfer.
void SetMethodAndBody(CURL* curl, const HttpRequest& request, std::unique_ptr<curl_mime, MimeDeleter>* mime) {
  const std::string& method = request.method;
  if (!request.parts.empty()) {
    mime->reset(curl_mime_init(curl));
    for (const FilePart& part : request.parts) {
      curl_mimepart* field = curl_mime_addpart(mime->get());
      curl_mime_name(field, part.field.c_str());
      curl_mime_filename(field, part.filename.c_str());
      curl_mime_type(field, part.content_type.empty() ? "application/octet-stream" : part.content_type.c_str());
      curl_mime_data(field, part.bytes.data(), part.bytes.size());  // copies the bytes
    }
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime->get());
  } else if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method == "POST" || !request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (method != "GET" && method != "HEAD" && method != "POST") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

}  // namespace

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* curl = handle_->curl;
    HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  std::string url = base_url_ + (request.path.empty() || request.path[0] != '/' ? "/" : "") + request.path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  std::unique_ptr<curl_slist, SlistDeleter> headers = BuildHeaders(request, default_headers_);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  std::unique_ptr<curl_mime, MimeDeleter> mime;
  SetMethodAndBody(curl, request, &mime);

  CURLcode rc = curl_easy_perform(curl);
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  curl_easy_reset(curl);  // drops the pointers to this function's locals (buffers, headers, mime)
  if (rc != CURLE_OK) return TransportError(rc, os_errno, error);
  return response;
}

void HttpClient::SetDefaultHeader(const std::string& name, const std::string& value) {
  for (auto& [known, old_value] : default_headers_) {
    if (AsciiLower(known) == AsciiLower(name)) {
      old_value = value;
      return;
    }
  }
  default_headers_.emplace_back(name, value);
}

Result<HttpResponse> HttpClient::Get(std::string_view path) {
  HttpRequest request;
  request.path = std::string(path);
  return Send(request);
}

Result<HttpResponse> HttpClient::Delete(std::string_view path) {
  HttpRequest request;
  request.method = "DELETE";
  request.path = std::string(path);
  return Send(request);
}

Result<HttpResponse> HttpClient::PostRaw(std::string_view path, std::string_view content_type,
                                         std::string_view body) {
  HttpRequest request;
  request.method = "POST";
  request.path = std::string(path);
  request.headers.emplace_back("Content-Type", std::string(content_type));
  request.body = std::string(body);
  return Send(request);
}

Result<HttpResponse> HttpClient::PostMultipart(std::string_view path, const std::vector<FilePart>& parts) {
  HttpRequest request;
  request.method = "POST";
  request.path = std::string(path);
  request.parts = parts;
  return Send(request);
}

std::string ErrorMessageOf(const HttpResponse& response) {
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    auto error = body.find("error");
    if (error != body.end() && error->is_string() && !error->get<std::string>().empty()) {
      return error->get<std::string>();
    }
  }
  // A short single-line plain-text body (e.g. a framework's own 404 page) is the message.
  constexpr std::size_t kMaxPlainText = 200;
  std::string_view text = Trim(response.body);
  bool plain = !text.empty() && text.size() <= kMaxPlainText && !body.is_object();
  for (char c : text) plain = plain && (c == ' ' || std::isgraph(static_cast<unsigned char>(c)));
  if (plain) return std::string(text);
  if (!response.reason.empty()) return response.reason;
  return "HTTP " + std::to_string(response.status);
}

std::string QueryEscape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace tsdsr::client
