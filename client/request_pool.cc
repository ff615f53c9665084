#include "client/request_pool.h"

#include <utility>

namespace tsdsr::client {

Result<std::unique_ptr<RequestPool>> RequestPool::Create(int threads, const HttpClient& prototype) {
  std::unique_ptr<RequestPool> pool(new RequestPool());
  for (int i = 0; i < std::max(threads, 1); ++i) {
    TSDSR_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> client, prototype.Clone());
    pool->clients_.push_back(std::move(client));
  }
  for (auto& client : pool->clients_) {
    HttpClient* http = client.get();
    pool->threads_.emplace_back([pool = pool.get(), http] { pool->Run(*http); });
  }
  return pool;
}

RequestPool::~RequestPool() { Abandon(); }

bool RequestPool::Submit(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void RequestPool::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  Join();
}

void RequestPool::Abandon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    queue_.clear();
  }
  Join();
}

void RequestPool::Join() {
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void RequestPool::Run(HttpClient& http) {
  while (true) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(http);
  }
}

}  // namespace tsdsr::client
