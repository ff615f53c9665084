#include "dispatcher/pool/broker.h"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "common/time_text.h"
#include "common/zmq_frames.h"

namespace tsdsr::dispatcher {
namespace {

constexpr auto kMaxPollWait = std::chrono::milliseconds(1000);  // deadlines and heartbeats shorten it
constexpr double kMeanJobWeight = 0.1;                           // of the newest job in the moving average
constexpr int kMaxMessagesPerTurn = 1000;                      // keeps one busy peer from starving the loop
constexpr int kLingerMs = 0;

double MillisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string_view OutcomeOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kOutcomeOk;
    case StatusCode::kDeadlineExceeded: return kOutcomeTimeout;
    case StatusCode::kCancelled: return kOutcomeCancelled;
    case StatusCode::kInvalidArgument:
    case StatusCode::kTooLarge:
    case StatusCode::kUnsupportedType: return kOutcomeBadRequest;
    case StatusCode::kUnavailable: return kOutcomeQueueFull;
    case StatusCode::kAborted: return kOutcomeWorkerError;
    default: return kOutcomeWorkerError;
  }
}

// A printable form of a routing identity (ours are text, a rogue peer's may be binary).
std::string Printable(const std::string& identity) {
  std::string out;
  for (unsigned char c : identity) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  return out;
}

// What `worker` last reported, for its per-worker metrics.
WorkerReadings ReadingsOf(const WorkerState& worker) {
  const proto::WorkerLiveStats& live = worker.live;
  const proto::MemoryStats& memory = live.memory.total > 0 ? live.memory : worker.description.memory;
  WorkerReadings r;
  r.gpu = OnGpu(worker.description);
  r.busy = live.busy;
  r.progress = live.progress;
  r.jobs_ok = live.jobs_done;
  r.jobs_failed = live.jobs_failed;
  r.memory_used_bytes = double(memory.total - memory.free);
  r.memory_total_bytes = double(memory.total);
  r.utilization = live.utilization;
  r.power_watts = live.power_watts;
  r.energy_joules = live.energy_joules;
  r.temperature_celsius = live.temperature_celsius;
  return r;
}

}  // namespace

Broker::Broker(BrokerOptions options, zmq::context_t& context, Metrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      router_(context, zmq::socket_type::router),
      scheduler_(options_.scheduler) {}

Result<std::unique_ptr<Broker>> Broker::Create(BrokerOptions options, zmq::context_t& context, Metrics& metrics) {
  std::unique_ptr<Broker> broker(new Broker(std::move(options), context, metrics));
  try {
    ConfigureSocket(broker->router_, kLingerMs, /*router=*/true);
    if (!broker->options_.curve_secret_key.empty()) {  // workers then pass the context's ZAP handler
      broker->router_.set(zmq::sockopt::curve_server, 1);
      broker->router_.set(zmq::sockopt::curve_secretkey, broker->options_.curve_secret_key);
      broker->router_.set(zmq::sockopt::zap_domain, "tsdsr-workers");
    }
    broker->router_.bind(broker->options_.endpoint);
    broker->endpoint_ = broker->router_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot bind worker endpoint " + broker->options_.endpoint + ": " + e.what());
  }
  broker->Publish(Clock::now());
  // The socket moves to the broker thread here; thread start is the memory barrier ZeroMQ asks for.
  broker->thread_ = std::thread([b = broker.get()] { b->Run(); });
  return broker;
}

Broker::~Broker() { Stop(); }

void Broker::Stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  wakeup_.Raise();
  if (thread_.joinable()) thread_.join();
}

void Broker::Cancel(std::uint64_t job_id, std::string reason) {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    cancellations_.emplace_back(job_id, std::move(reason));
  }
  wakeup_.Raise();
}

void Broker::Submit(JobPtr job) {
  outstanding_.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_.push_back(std::move(job));
  }
  wakeup_.Raise();
}

PoolSnapshot Broker::Snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  return snapshot_;
}

void Broker::Run() {
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wakeup_.fd(), ZMQ_POLLIN, 0}};
  while (!stopping_.load()) {
    try {
      zmq::poll(items, 2, PollTimeout(Clock::now()));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("broker poll failed: {}", e.what());
    }
    Clock::time_point now = Clock::now();
    if (items[1].revents & ZMQ_POLLIN) DrainInbox(now);
    if (items[0].revents & ZMQ_POLLIN) ReceiveAll(now);
    Housekeep(now);
    Dispatch(now);
    Publish(now);
  }
  // Shutting down: nothing accepted goes unanswered.
  Clock::time_point now = Clock::now();
  DrainInbox(now);
  FailAll(scheduler_.TakeAllQueued(), Status::Unavailable("dispatcher is shutting down"), now);
  std::vector<std::string> identities;
  for (const auto& [identity, worker] : scheduler_.workers()) identities.push_back(identity);
  for (const auto& identity : identities) {
    (void)SendMessage(router_, identity,
                      proto::Make(proto::Command::kDisconnect, proto::DisconnectHeader{"dispatcher stopping"}));
    scheduler_.RemoveWorker(identity);  // requeues in-flight jobs, failed just below
  }
  FailAll(scheduler_.TakeAllQueued(), Status::Unavailable("dispatcher is shutting down"), now);
  Publish(now);
  router_.close();
}

std::chrono::milliseconds Broker::PollTimeout(Clock::time_point now) const {
  Clock::time_point wake = std::min(next_heartbeat_, scheduler_.NextDeadline());
  if (wake <= now) return std::chrono::milliseconds(0);
  return std::min(kMaxPollWait, std::chrono::ceil<std::chrono::milliseconds>(wake - now));
}

void Broker::DrainInbox(Clock::time_point now) {
  wakeup_.Clear();
  std::vector<JobPtr> jobs;
  std::vector<std::pair<std::uint64_t, std::string>> cancellations;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    jobs.swap(inbox_);
    cancellations.swap(cancellations_);
  }
  for (auto& job : jobs) {
    job->worker_bytes = WorkerBytesOf(*job);
    Status refused;
    if (stopping_.load()) {
      refused = Status::Unavailable("dispatcher is shutting down");
    } else if (!scheduler_.HasUsableWorker()) {
      refused = Status::Unavailable(NoWorkerReason());
    } else if (Status servable = scheduler_.CheckServable(*job); !servable.ok()) {
      refused = servable;
    } else if (!scheduler_.Enqueue(job)) {
      refused = Status::Unavailable("queue is full (" + std::to_string(scheduler_.queue_depth()) + " jobs)");
    }
    if (refused.ok()) continue;
    JobOutcome outcome;
    outcome.status = std::move(refused);
    if (outcome.status.code() == StatusCode::kUnavailable) outcome.retry_after_s = RetryAfterSeconds();
    Finish(std::move(job), std::move(outcome), now);
  }
  for (const auto& [id, reason] : cancellations) CancelJob(id, reason, now);
}

void Broker::CancelJob(std::uint64_t job_id, const std::string& reason, Clock::time_point now) {
  JobPtr job = scheduler_.TakeQueued(job_id);
  if (!job) {
    auto [held, worker] = scheduler_.TakeInFlight(job_id);
    if (!held) return;  // already answered
    (void)SendMessage(router_, worker, proto::Make(proto::Command::kCancel, proto::CancelHeader{job_id}));
    job = std::move(held);
  }
  Fail(std::move(job), Status::Cancelled(reason), now);
}

int Broker::RetryAfterSeconds() const {
  return EstimateRetryAfterSeconds(scheduler_.queue_depth() + scheduler_.in_flight(), scheduler_.TotalSlots(),
                                   mean_job_ms_);
}

std::string Broker::NoWorkerReason() const {
  std::string reason = "no worker is ready";
  for (const auto& [identity, worker] : scheduler_.workers()) {
    reason += "; worker " + worker.description.id + " cannot serve: " + worker.description.error;
  }
  return reason;
}

void Broker::ReceiveAll(Clock::time_point now) {
  for (int i = 0; i < kMaxMessagesPerTurn; ++i) {
    auto frames = ReceiveFrames(router_);
    if (!frames.ok()) return;  // nothing more waiting
    if (frames->size() < 2) continue;
    std::string identity = std::move((*frames)[0]);
    auto message = proto::Decode({std::make_move_iterator(frames->begin() + 1), std::make_move_iterator(frames->end())});
    if (!message.ok()) {
      spdlog::warn("dropped a malformed message from peer '{}': {}", Printable(identity), message.status().message());
      continue;
    }
    Handle(identity, std::move(*message), now);
  }
}

void Broker::Handle(const std::string& identity, proto::Message message, Clock::time_point now) {
  if (message.command == proto::Command::kReady) return HandleReady(identity, message, now);
  if (!scheduler_.Touch(identity, now)) {
    // A worker we do not know (e.g. it outlived a dispatcher restart): ask it to introduce itself again.
    spdlog::info("{} from unregistered peer '{}'; asking it to re-register", proto::CommandName(message.command),
                 Printable(identity));
    (void)SendMessage(router_, identity,
                      proto::Make(proto::Command::kDisconnect, proto::DisconnectHeader{"unknown worker: send READY"}));
    return;
  }
  switch (message.command) {
    case proto::Command::kHeartbeat: {
      auto live = proto::ParseWorkerLiveStats(message.header);
      if (!live.ok()) return spdlog::warn("bad HEARTBEAT from '{}': {}", Printable(identity), live.status().message());
      scheduler_.UpdateLiveStats(identity, *live);
      return;
    }
    case proto::Command::kResult: return HandleResult(identity, std::move(message), now);
    case proto::Command::kDisconnect: return DropWorker(identity, "worker disconnected");
    case proto::Command::kProgress: return HandleProgress(identity, message);
    default:
      spdlog::warn("unexpected {} from worker '{}' dropped", proto::CommandName(message.command), Printable(identity));
  }
}

void Broker::HandleReady(const std::string& identity, const proto::Message& message, Clock::time_point now) {
  auto description = proto::ParseWorkerDescription(message.header);
  if (!description.ok()) {
    spdlog::warn("bad READY from '{}': {}", Printable(identity), description.status().message());
    return;
  }
  if (description->status == "ok") {
    spdlog::info("worker {} ready: {} on {} ({}), scales {}, {} slots", description->id, description->model_name,
                 description->device, description->device_name, nlohmann::json(description->scales).dump(),
                 description->slots);
  } else {
    spdlog::error("worker {} cannot serve: {}", description->id, description->error);
  }
  DropStaleRegistrations(identity, *description);
  FailAll(scheduler_.RegisterWorker(identity, std::move(*description), now),
          Status::Aborted("job lost with its worker too many times; last: the worker restarted"), now);
}

void Broker::HandleResult(const std::string& identity, proto::Message message, Clock::time_point now) {
  auto header = proto::ParseResultHeader(message.header);
  if (!header.ok()) return spdlog::warn("bad RESULT from '{}': {}", Printable(identity), header.status().message());
  JobPtr job = scheduler_.Complete(identity, header->job_id);
  if (!job) {
    spdlog::warn("RESULT for unknown job {} from '{}' dropped (expired, cancelled or never sent)", header->job_id,
                 Printable(identity));
    return;
  }
  JobOutcome outcome;
  outcome.worker_id = scheduler_.FindWorker(identity)->description.id;
  StatusCode code = StatusCodeFromName(header->status).value_or(StatusCode::kInternal);
  if (code == StatusCode::kOk && message.payload.empty()) {
    outcome.status = Status::Internal("worker sent a result without an image");
  } else if (code != StatusCode::kOk) {
    outcome.status = Status(code, header->error.empty() ? "worker failed" : header->error);
  }
  if (outcome.status.ok()) {
    outcome.image = std::move(message.payload[0]);
    metrics_.AddPixels(double(header->input_width) * header->input_height,
                       double(header->output_width) * header->output_height);
  }
  outcome.result = std::move(*header);
  Finish(std::move(job), std::move(outcome), now);
}

void Broker::HandleProgress(const std::string& identity, const proto::Message& message) {
  auto progress = proto::ParseProgressHeader(message.header);
  if (!progress.ok()) {
    return spdlog::warn("bad PROGRESS from '{}': {}", Printable(identity), progress.status().message());
  }
  Job* job = scheduler_.FindInFlight(identity, progress->job_id);
  if (job != nullptr && job->on_progress) job->on_progress(progress->done, progress->total);
}

void Broker::Housekeep(Clock::time_point now) {
  for (auto& expired : scheduler_.TakeExpired(now)) {
    if (!expired.worker.empty()) {
      (void)SendMessage(router_, expired.worker,
                        proto::Make(proto::Command::kCancel, proto::CancelHeader{expired.job->id}));
    }
    Fail(std::move(expired.job), Status::DeadlineExceeded("deadline passed before the job finished"), now);
  }
  if (now < next_heartbeat_) return;
  next_heartbeat_ = now + options_.heartbeat_interval;
  for (const auto& identity : scheduler_.SilentWorkers(now, options_.heartbeat_interval * options_.heartbeat_misses)) {
    DropWorker(identity, "no heartbeat for " + std::to_string(options_.heartbeat_misses) + " intervals");
  }
  std::vector<std::string> unreachable;
  for (const auto& [identity, worker] : scheduler_.workers()) {
    if (!SendMessage(router_, identity, proto::Make(proto::Command::kHeartbeat, nlohmann::json::object())).ok()) {
      unreachable.push_back(identity);
    }
  }
  for (const auto& identity : unreachable) DropWorker(identity, "connection lost");
}

void Broker::Dispatch(Clock::time_point now) {
  while (auto assignment = scheduler_.Next(now)) {
    Job& job = *assignment->job;
    proto::JobHeader header = job.params.chunk;
    header.job_id = job.id;
    header.scale = job.params.scale;
    header.process_size = job.params.process_size;
    header.format = job.params.format;
    header.attempt = job.attempts;
    header.input_width = job.params.input_width;
    header.input_height = job.params.input_height;
    if (job.deadline != Clock::time_point::max()) {
      header.timeout_ms = std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::milliseconds>(job.deadline - now).count());
    }
    std::string identity = assignment->worker->identity;
    Status sent = SendMessage(router_, identity, proto::Command::kJob, nlohmann::json(header), {job.image});
    if (!sent.ok()) {
      DropWorker(identity, "send failed: " + sent.message());  // requeues the job
    } else if (job.on_started) {
      job.on_started(assignment->worker->description.id);
    }
  }
}

void Broker::DropStaleRegistrations(const std::string& identity, const proto::WorkerDescription& description) {
  std::vector<std::string> stale;
  for (const auto& [other, worker] : scheduler_.workers()) {
    const proto::WorkerDescription& d = worker.description;
    if (other != identity && d.id == description.id && d.host == description.host && d.pid == description.pid) {
      stale.push_back(other);
    }
  }
  for (const auto& other : stale) DropWorker(other, "it registered again on a new connection");
}

void Broker::DropWorker(const std::string& identity, const std::string& why) {
  const WorkerState* worker = scheduler_.FindWorker(identity);
  if (worker == nullptr) return;
  std::string id = worker->description.id;
  spdlog::warn("worker {} dropped ({}); {} job(s) it held go back to the queue", id, why, worker->in_flight.size());
  departed_.push_front(DepartedWorker{worker->description, why, UnixMillisNow(), worker->jobs_done});
  if (departed_.size() > kMaxDeparted) departed_.pop_back();
  ++workers_lost_;
  metrics_.RemoveWorker(id);
  FailAll(scheduler_.RemoveWorker(identity), Status::Aborted("job lost with its worker too many times; last: " + why),
          Clock::now());
}

void Broker::Finish(JobPtr job, JobOutcome outcome, Clock::time_point now) {
  Clock::time_point sent = job->attempts > 0 ? job->first_sent : now;
  outcome.queue_ms = MillisBetween(job->submitted, sent);
  outcome.total_ms = MillisBetween(job->submitted, now);
  metrics_.CountJob(OutcomeOf(outcome.status));
  if (outcome.status.ok()) {
    ++jobs_ok_;
    const double on_worker_ms = MillisBetween(job->last_sent, now);
    mean_job_ms_ = mean_job_ms_ == 0 ? on_worker_ms : mean_job_ms_ + kMeanJobWeight * (on_worker_ms - mean_job_ms_);
    const auto& r = outcome.result;
    metrics_.ObserveJob(outcome.queue_ms / 1000, (r.decode_ms + r.compute_ms + r.encode_ms) / 1000,
                        outcome.total_ms / 1000);
  } else {
    ++jobs_failed_;
  }
  if (job->done) job->done(std::move(outcome));
  outstanding_.fetch_sub(1);
}

void Broker::Fail(JobPtr job, Status status, Clock::time_point now) {
  JobOutcome outcome;
  outcome.status = std::move(status);
  Finish(std::move(job), std::move(outcome), now);
}

void Broker::FailAll(std::vector<JobPtr> jobs, const Status& status, Clock::time_point now) {
  for (auto& job : jobs) Fail(std::move(job), status, now);
}

void Broker::Publish(Clock::time_point now) {
  PoolSnapshot snapshot;
  int busy = 0;
  for (const auto& [identity, worker] : scheduler_.workers()) {
    WorkerView view;
    view.description = worker.description;
    view.live = worker.live;
    view.in_flight = static_cast<int>(worker.in_flight.size());
    view.jobs_done = worker.jobs_done;
    view.last_seen_ms_ago = MillisBetween(worker.last_seen, now);
    view.uptime_s = MillisBetween(worker.registered, now) / 1000;
    if (worker.usable()) snapshot.scales.insert(worker.description.scales.begin(), worker.description.scales.end());
    busy += view.in_flight > 0 ? 1 : 0;
    metrics_.SetWorker(worker.description.id, worker.description.device, ReadingsOf(worker));
    snapshot.workers.push_back(std::move(view));
  }
  snapshot.queue_depth = scheduler_.queue_depth();
  snapshot.in_flight = scheduler_.in_flight();
  snapshot.jobs_ok = jobs_ok_;
  snapshot.jobs_failed = jobs_failed_;
  snapshot.workers_lost = workers_lost_;
  snapshot.departed.assign(departed_.begin(), departed_.end());
  snapshot.mean_job_ms = mean_job_ms_;
  snapshot.queued_by_client = scheduler_.QueueDepthByClient();
  metrics_.SetQueue(double(snapshot.queue_depth), double(snapshot.in_flight));
  const double unusable = double(snapshot.workers.size()) - snapshot.usable_workers();
  metrics_.SetWorkers(snapshot.usable_workers() - busy, busy, unusable);
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  snapshot_ = std::move(snapshot);
}

}  // namespace tsdsr::dispatcher
