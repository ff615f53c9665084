// A small blocking HTTP/1.1 client on libcurl, used by tsdsr-client and by the end-to-end tests.
// Transport failures are Status errors; HTTP error statuses (4xx, 5xx) are ordinary responses.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tsdsr::client {

struct HttpResponse {
  long status = 0;                             // e.g. 200, 503
  std::string reason;                          // reason phrase of the status line; may be empty
  std::map<std::string, std::string> headers;  // names lower-cased; repeated headers joined with ", "
  std::string body;

  // The value of header `lower_case_name`, or "" when absent.
  std::string Header(const std::string& lower_case_name) const;
  // True for a 2xx status.
  bool success() const { return status >= 200 && status < 300; }
};

// One part of a multipart/form-data upload.
struct FilePart {
  std::string field;         // form field name, e.g. "file"
  std::string filename;      // file name sent with the part, e.g. "photo.png"
  std::string content_type;  // e.g. "image/png"; empty means application/octet-stream
  std::string bytes;         // the content
};

// A general request; Get/Delete/PostRaw/PostMultipart are shorthands for it.
struct HttpRequest {
  std::string method = "GET";                                // GET, POST, PUT, DELETE, ...
  std::string path = "/";                                    // path and query, appended to the base URL
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::string body;                                          // sent when non-empty (or method is POST/PUT)
  std::vector<FilePart> parts;                               // when non-empty: multipart body, `body` ignored
};

// Sends requests to one server over one reused libcurl handle, so the connection is kept alive between
// requests. NOT thread-safe: use one HttpClient per thread. Bodies of 1 MiB or more are sent with
// `Expect: 100-continue` (a refusal at the head costs no upload), smaller ones without, unless the request sets an
// Expect header itself.
class HttpClient {
 public:
  // `base_url` like "http://127.0.0.1:8090" (a trailing '/' is dropped). `timeout` bounds each whole
  // request including connecting; zero means no limit. InvalidArgument for a malformed or non-HTTP URL,
  // Internal if libcurl cannot be initialised.
  static Result<std::unique_ptr<HttpClient>> Create(std::string base_url, std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs `request`. Any HTTP status is a response. Connection failures are Unavailable
  // ("cannot connect to 127.0.0.1:8090 (connection refused)"), timeouts DeadlineExceeded.
  Result<HttpResponse> Send(const HttpRequest& request);

  // GET `path` (path and query, e.g. "/health"). Errors as Send.
  Result<HttpResponse> Get(std::string_view path);
  // DELETE `path`. Errors as Send.
  Result<HttpResponse> Delete(std::string_view path);
  // POST `body` with the given Content-Type. Errors as Send.
  Result<HttpResponse> PostRaw(std::string_view path, std::string_view content_type, std::string_view body);
  // POST a multipart/form-data body made of `parts`. Errors as Send.
  Result<HttpResponse> PostMultipart(std::string_view path, const std::vector<FilePart>& parts);

  // A new client for the same server with the same timeout and default headers (for another thread).
  // Errors as Create.
  Result<std::unique_ptr<HttpClient>> Clone() const;

  // Sends `name: value` with every later request that does not set `name` itself (e.g. Authorization).
  // Setting a name again replaces its value.
  void SetDefaultHeader(const std::string& name, const std::string& value);

  // Changes the per-request timeout for later requests (zero: no limit).
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  // "http://127.0.0.1:8090"
  const std::string& base_url() const { return base_url_; }
  // "127.0.0.1:8090", as used in error messages.
  const std::string& host_port() const { return host_port_; }

 private:
  struct Handle;
  HttpClient(std::string base_url, std::string host_port, std::chrono::milliseconds timeout,
             std::unique_ptr<Handle> handle);
  Status TransportError(int curl_code, long os_errno, const char* detail) const;

  std::string base_url_;
  std::string host_port_;
  std::chrono::milliseconds timeout_;
  std::vector<std::pair<std::string, std::string>> default_headers_;
  std::unique_ptr<Handle> handle_;  // owns the CURL easy handle
};

// The message to show for an error response: the "error" field of a JSON error body, else a short plain-text
// body, else the reason phrase, else "HTTP <status>". Thread-safe.
std::string ErrorMessageOf(const HttpResponse& response);

// Percent-encodes `text` for use in a URL query value (RFC 3986 unreserved characters kept). Thread-safe.
std::string QueryEscape(std::string_view text);

}  // namespace tsdsr::client
