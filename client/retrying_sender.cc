#include "client/retrying_sender.h"

#include <thread>
#include <utility>

namespace tsdsr::client {

RetryingSender::RetryingSender(HttpClient& http, const RetrySettings& settings, SleepFunction sleep)
    : http_(http), policy_(settings), sleep_(std::move(sleep)), random_(std::random_device()()) {}

void RetryingSender::Sleep(std::chrono::milliseconds delay) {
  if (sleep_) {
    sleep_(delay);
  } else {
    std::this_thread::sleep_for(delay);
  }
}

Result<HttpResponse> RetryingSender::Send(const HttpRequest& request) {
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  for (int tries = 1;; ++tries) {
    ++attempts_;
    Result<HttpResponse> response = http_.Send(request);
    long status = response.ok() ? response->status : 0;
    if (response.ok()) {
      answered_ = true;
      last_status_ = status;
    }
    std::optional<std::chrono::milliseconds> delay =
        policy_.NextDelay(status, response.ok() ? response->Header("retry-after") : "", jitter(random_));
    if (!delay) {
      gave_up_after_ = ClassifyAttempt(status) == AttemptClass::kFinal ? 0 : tries;
      return response;
    }
    Sleep(*delay);
  }
}

std::string DescribeHttpError(const HttpResponse& response) {
  return "server answered " + std::to_string(response.status) + ": " + ErrorMessageOf(response);
}

}  // namespace tsdsr::client
