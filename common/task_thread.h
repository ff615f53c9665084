// One thread that runs posted tasks in order, for slow work (a video's join and check) that must not hold the
// thread that posts it. Stop() lets the running task end and drops the ones not started. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tsdsr {

class TaskThread {
 public:
  // Starts the thread; `name` is for its logs.
  explicit TaskThread(std::string name);
  ~TaskThread();  // Stop()
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  // Queues `task` behind the others. False, with `task` not run, once Stop was called.
  bool Post(std::function<void()> task);
  // Waits for the running task, drops the queued ones and joins the thread. Idempotent.
  void Stop();
  // Tasks queued and running.
  size_t pending() const;

 private:
  void Run();

  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool running_task_ = false;                // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace tsdsr
