// A wake-up signal one thread can poll (with zmq::poll or poll(2)) and any thread can raise: an eventfd.
#pragma once

namespace tsdsr {

class Wakeup {
 public:
  Wakeup();  // aborts if the kernel refuses an eventfd (out of descriptors at start-up)
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // Makes fd() readable. Thread-safe, async-signal-safe, never blocks.
  void Raise();
  // Makes fd() unreadable again. Call from the polling thread before draining what the raisers queued.
  void Clear();
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace tsdsr
