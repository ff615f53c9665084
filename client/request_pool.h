// The -j threads of --batch and --watch: each owns one HttpClient (HttpClient is not thread-safe) and runs
// queued tasks with it, in the order they were queued.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "client/http_client.h"

namespace tsdsr::client {

class RequestPool {
 public:
  using Task = std::function<void(HttpClient& http)>;

  // Starts `threads` (>= 1) threads, each with a Clone() of `prototype`. Errors as HttpClient::Clone.
  static Result<std::unique_ptr<RequestPool>> Create(int threads, const HttpClient& prototype);
  // Abandon()s what has not started and joins the threads.
  ~RequestPool();
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  // Queues `task` (run on one of the threads; it must not throw). False, and `task` dropped, once
  // Finish() or Abandon() has begun. Thread-safe, also from inside a task.
  bool Submit(Task task);
  // Runs every queued task, then joins the threads. Idempotent; call from the owner only.
  void Finish();
  // Drops the tasks that have not started, lets the running ones end, joins the threads. Idempotent; call
  // from the owner only.
  void Abandon();

 private:
  RequestPool() = default;
  void Run(HttpClient& http);
  void Join();

  std::vector<std::unique_ptr<HttpClient>> clients_;  // one per thread, used only by it
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Task> queue_;  // guarded by mu_
  bool closing_ = false;    // guarded by mu_: no more tasks are taken; threads exit when queue_ is empty
};

}  // namespace tsdsr::client
