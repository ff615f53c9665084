// The worker's I/O side: one DEALER socket to the dispatcher, owned by the thread that calls Run. It
// announces the worker (READY), heartbeats, feeds jobs to the compute thread, and sends their results.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/protocol.h"
#include "common/wakeup.h"
#include "worker/compute_thread.h"
#include "worker/handshake_monitor.h"
#include "worker/options.h"
#include "worker/upscaler.h"

namespace tsdsr::worker {

class Worker {
 public:
  // `upscaler` is null when the model failed to load; the worker then still connects and reports
  // `load_error` in READY so the dispatcher can show why, and answers jobs with that error.
  Worker(WorkerOptions options, std::unique_ptr<Upscaler> upscaler, std::string load_error, zmq::context_t& context);
  ~Worker();

  // Connects with CURVE from now on: this worker's key pair and the dispatcher's public key. Before Run.
  void UseCurve(CurveClientKeys keys) { curve_ = std::move(keys); }

  // Serves until `stop_fd` (e.g. a signalfd) becomes readable, then says DISCONNECT and returns 0.
  int Run(int stop_fd);

  // READY's content.
  proto::WorkerDescription Describe() const;

 private:
  using Clock = std::chrono::steady_clock;

  void Connect();
  void ReceiveAll(Clock::time_point now);
  void Handle(proto::Message message, Clock::time_point now);
  // Sends finished jobs' RESULTs, after the running job's PROGRESS when there is one.
  void SendResults();
  // TooLarge when a job with `payload_bytes` would need more than the whole memory budget on its own.
  Status CheckMemoryBudget(const proto::JobHeader& job, size_t payload_bytes) const;
  void Heartbeat(Clock::time_point now);
  void Send(const proto::Message& message);

  WorkerOptions options_;
  std::unique_ptr<Upscaler> upscaler_;
  std::string load_error_;
  std::vector<std::string> encoders_;  // video::UsableEncoders on the model's device, probed once
  std::int64_t memory_budget_ = 0;     // announced in READY: what its jobs may hold at once
  zmq::context_t& context_;
  std::optional<CurveClientKeys> curve_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<HandshakeMonitor> handshake_;  // watches socket_; reset before it
  int connections_ = 0;
  bool reconnect_ = false;
  Clock::time_point last_heard_{};
  Clock::time_point connected_at_{};
  Clock::time_point next_heartbeat_{};
  Wakeup results_ready_;
  ComputeThread compute_;  // declared last: stopped before the members it uses go away
};

}  // namespace tsdsr::worker
