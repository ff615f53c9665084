#include "worker/worker.h"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "common/memory_budget.h"
#include "common/zmq_frames.h"
#include "video/encoders.h"

namespace tsdsr::worker {
namespace {

constexpr int kLingerMs = 1000;  // lets a final RESULT/DISCONNECT leave before close
constexpr int kMaxMessagesPerTurn = 100;
constexpr int kReconnectIvlMs = 100;      // ZeroMQ's own TCP reconnects start here ...
constexpr int kReconnectIvlMaxMs = 5000;  // ... and back off exponentially to this
constexpr int kMaxSilenceFactor = 8;      // our own re-registration backs off to 8 × heartbeat × misses

std::string HostName() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace

Worker::Worker(WorkerOptions options, std::unique_ptr<Upscaler> upscaler, std::string load_error,
               zmq::context_t& context)
    : options_(std::move(options)),
      upscaler_(std::move(upscaler)),
      load_error_(std::move(load_error)),
      context_(context),
      compute_(upscaler_.get(), load_error_, options_.max_pixels, results_ready_) {
  if (options_.id.empty()) options_.id = HostName() + "-" + std::to_string(getpid());
  memory_budget_ = options_.memory_budget_mb > 0 ? options_.memory_budget_mb << 20 : DefaultMemoryBudgetBytes();
  if (upscaler_) {
    encoders_ = video::UsableEncoders(video::CudaIndexOf(upscaler_->description().device));
    spdlog::info("video encoders: {}", fmt::join(encoders_, ", "));
  }
}

Worker::~Worker() { compute_.Stop(); }

proto::WorkerDescription Worker::Describe() const {
  proto::WorkerDescription d;
  d.id = options_.id;
  d.pid = getpid();
  d.host = HostName();
  d.device = options_.device;
  d.model = options_.model;
  d.slots = options_.slots;
  d.memory_budget = memory_budget_;
  d.version = TSDSR_VERSION;
  if (upscaler_) {
    const ModelDescription& m = upscaler_->description();
    d.device = m.device;
    d.device_name = m.device_name;
    d.model_name = m.name;
    d.scales = m.scales;
    d.split_margins = m.split_margins;
    d.encoders = encoders_;
    d.dtype = m.dtype;
    d.memory = upscaler_->Memory();
  } else {
    d.status = "error";
    d.error = load_error_;
  }
  return d;
}

void Worker::Connect() {
  handshake_.reset();
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  ConfigureSocket(*socket_, kLingerMs, /*router=*/false);
  if (curve_) {
    socket_->set(zmq::sockopt::curve_serverkey, curve_->server_public_key);
    socket_->set(zmq::sockopt::curve_publickey, curve_->own.public_key);
    socket_->set(zmq::sockopt::curve_secretkey, curve_->own.secret_key);
  }
  handshake_ = std::make_unique<HandshakeMonitor>(
      *socket_, "inproc://tsdsr-worker-handshake-" + std::to_string(connections_ + 1), curve_.has_value());
  socket_->set(zmq::sockopt::reconnect_ivl, kReconnectIvlMs);
  socket_->set(zmq::sockopt::reconnect_ivl_max, kReconnectIvlMaxMs);
  // A fresh routing id per connection: the dispatcher never confuses this session with an earlier one.
  socket_->set(zmq::sockopt::routing_id,
               options_.id + "/" + std::to_string(getpid()) + "/" + std::to_string(++connections_));
  socket_->connect(options_.connect);
  Send(proto::Make(proto::Command::kReady, Describe()));
  last_heard_ = Clock::now();
  connected_at_ = last_heard_;
  next_heartbeat_ = last_heard_ + std::chrono::milliseconds(options_.heartbeat_ms);
  reconnect_ = false;
  spdlog::info("connecting to {} as {}{}", options_.connect, options_.id, curve_ ? " with CURVE" : "");
}

int Worker::Run(int stop_fd) {
  Connect();
  const auto base_silence = std::chrono::milliseconds(options_.heartbeat_ms) * options_.heartbeat_misses;
  int silence_factor = 1;  // doubles while the dispatcher stays away, back to 1 once it answers
  while (true) {
    zmq::pollitem_t items[] = {{socket_->handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, results_ready_.fd(), ZMQ_POLLIN, 0},
                               {nullptr, stop_fd, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 3, std::chrono::milliseconds(options_.heartbeat_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("poll failed: {}", e.what());
    }
    auto now = Clock::now();
    if (items[2].revents & ZMQ_POLLIN) break;
    handshake_->Poll();
    if (items[0].revents & ZMQ_POLLIN) ReceiveAll(now);
    if (items[1].revents & ZMQ_POLLIN) SendResults();
    Heartbeat(now);
    if (last_heard_ > connected_at_) silence_factor = 1;
    if (reconnect_ || now - last_heard_ > base_silence * silence_factor) {
      if (reconnect_) {
        spdlog::info("re-registering with the dispatcher (it asked)");
      } else {
        spdlog::warn("lost the dispatcher (no heartbeat); reconnecting");
      }
      if (!reconnect_) silence_factor = std::min(silence_factor * 2, kMaxSilenceFactor);
      Connect();
    }
  }
  spdlog::info("stopping");
  compute_.Stop();
  Send(proto::Make(proto::Command::kDisconnect, proto::DisconnectHeader{"worker stopping"}));
  handshake_.reset();
  socket_.reset();
  return 0;
}

void Worker::ReceiveAll(Clock::time_point now) {
  for (int i = 0; i < kMaxMessagesPerTurn && !reconnect_; ++i) {
    auto frames = ReceiveFrames(*socket_);
    if (!frames.ok()) return;
    auto message = proto::Decode(std::move(*frames));
    if (!message.ok()) {
      spdlog::warn("dropped a malformed message from the dispatcher: {}", message.status().message());
      continue;
    }
    last_heard_ = now;
    Handle(std::move(*message), now);
  }
}

void Worker::Handle(proto::Message message, Clock::time_point) {
  switch (message.command) {
    case proto::Command::kJob: {
      auto job = proto::ParseJobHeader(message.header);
      if (!job.ok()) return spdlog::warn("bad JOB dropped: {}", job.status().message());
      Status refused = message.payload.empty() ? Status::InvalidArgument("JOB without an image")
                                               : CheckMemoryBudget(*job, message.payload[0].size());
      if (!refused.ok()) {
        JobReply reply;
        reply.header.job_id = job->job_id;
        Send(proto::Make(proto::Command::kResult, FailedReply(std::move(reply), refused).header));
        return;
      }
      compute_.Push(std::move(*job), std::move(message.payload[0]));
      return;
    }
    case proto::Command::kCancel: {
      auto cancel = proto::ParseCancelHeader(message.header);
      if (cancel.ok()) compute_.Cancel(cancel->job_id);
      return;
    }
    case proto::Command::kHeartbeat: return;
    case proto::Command::kDisconnect: {
      auto why = proto::ParseDisconnectHeader(message.header);
      spdlog::info("dispatcher said DISCONNECT: {}", why.ok() ? why->reason : "");
      reconnect_ = true;
      return;
    }
    default: spdlog::warn("unexpected {} from the dispatcher dropped", proto::CommandName(message.command));
  }
}

Status Worker::CheckMemoryBudget(const proto::JobHeader& job, size_t payload_bytes) const {
  // The dispatcher sends nothing over the announced budget; this catches one that does not know it.
  const std::int64_t need =
      WorkerJobBytes(static_cast<std::int64_t>(payload_bytes), job.input_width, job.input_height, job.scale);
  if (need <= memory_budget_) return Status::Ok();
  return Status::TooLarge("the job needs about " + std::to_string(need >> 20) + " MiB; this worker's memory budget is " +
                          std::to_string(memory_budget_ >> 20) + " MiB");
}

void Worker::SendResults() {
  results_ready_.Clear();
  if (auto progress = compute_.TakeProgress()) Send(proto::Make(proto::Command::kProgress, *progress));
  for (JobReply& reply : compute_.TakeResults()) {
    if (reply.header.status != "ok") {
      spdlog::warn("job {} failed: {}: {}", reply.header.job_id, reply.header.status, reply.header.error);
    }
    std::vector<std::string> payload;
    if (!reply.image.empty()) payload.push_back(std::move(reply.image));
    Send(proto::Make(proto::Command::kResult, reply.header, std::move(payload)));
  }
}

void Worker::Heartbeat(Clock::time_point now) {
  if (now < next_heartbeat_) return;
  next_heartbeat_ = now + std::chrono::milliseconds(options_.heartbeat_ms);
  proto::WorkerLiveStats live = compute_.Live();
  if (upscaler_) {
    live.memory = upscaler_->Memory();
    const model::GpuReadings gpu = upscaler_->Gpu();
    live.utilization = gpu.utilization.value_or(-1);
    live.power_watts = gpu.power_watts.value_or(-1);
    live.energy_joules = gpu.energy_joules.value_or(-1);
    live.temperature_celsius = gpu.temperature_celsius.value_or(-1);
  }
  Send(proto::Make(proto::Command::kHeartbeat, live));
}

void Worker::Send(const proto::Message& message) {
  Status sent = SendMessage(*socket_, "", message);
  if (!sent.ok()) spdlog::warn("could not send {}: {}", proto::CommandName(message.command), sent.message());
}

}  // namespace tsdsr::worker
