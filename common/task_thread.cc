#include "common/task_thread.h"

#include <exception>

#include <spdlog/spdlog.h>

namespace tsdsr {

TaskThread::TaskThread(std::string name) : name_(std::move(name)), thread_([this] { Run(); }) {}

TaskThread::~TaskThread() { Stop(); }

bool TaskThread::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void TaskThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

size_t TaskThread::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size() + (running_task_ ? 1 : 0);
}

void TaskThread::Run() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      running_task_ = false;
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) {
        if (!tasks_.empty()) spdlog::info("{}: {} queued tasks dropped at stop", name_, tasks_.size());
        tasks_.clear();
        return;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
      running_task_ = true;
    }
    try {
      task();
    } catch (const std::exception& e) {  // a task's own errors are its business; this keeps the thread alive
      spdlog::error("{}: a task threw: {}", name_, e.what());
    }
  }
}

}  // namespace tsdsr
