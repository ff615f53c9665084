// Durable asynchronous jobs (POST /jobs) and the files of batches (POST /upscale_batch), between the HTTP
// routes and the pool (DESIGN.md, "Jobs and the result store").
//
// An accepted async job is written to the data dir (its upload, then its record) before Submit returns, and only
// then admitted: a dispatcher killed at any later point runs it again after a restart on the same data dir. Jobs
// wait in an AdmissionQueue and go to the pool (JobSink) only as fast as its workers' slots can take them, so a
// backlog of thousands never fills the pool's queue or starves the synchronous /upscale requests; a job the pool
// refuses (no worker yet, queue full) goes back in line and waits — an async job is never failed for that.
//
// One thread owned by the manager applies what the pool reports (started, progress, outcome), stores outputs,
// feeds the pool and keeps the store within its bounds (ResultRetention); a second one joins and checks finished
// videos. Every public method is thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/memory_budget.h"
#include "common/status.h"
#include "common/task_thread.h"
#include "dispatcher/jobs/admission_queue.h"
#include "dispatcher/jobs/data_dir.h"
#include "dispatcher/jobs/job_store.h"
#include "dispatcher/jobs/job_view.h"
#include "dispatcher/jobs/result_retention.h"
#include "dispatcher/jobs/video_job.h"
#include "dispatcher/pool/job_sink.h"
#include "dispatcher/status/metrics.h"
#include "dispatcher/status/status_pages.h"

namespace tsdsr::dispatcher {

struct JobsOptions {
  RetentionOptions retention;
  size_t max_unfinished = 10000;  // async jobs accepted and not finished; beyond: 503
  std::chrono::milliseconds housekeeping_interval{1000};
  std::chrono::milliseconds refused_backoff{250};       // pause before offering the pool a job it refused
  std::chrono::milliseconds keepalive_interval{15000};  // listeners get a keep-alive tick this often
  VideoLimits video;                                    // of video jobs
  // Inputs of async jobs and video chunks count in it while the pool holds them; one that does not fit waits.
  // Null: not counted.
  std::shared_ptr<MemoryBudget> budget;
};

// A validated async job to accept. `input` is the encoded image (or the video) as uploaded.
struct NewJob {
  JobSpec spec;
  std::string_view input;
  std::string idempotency_key;  // empty: none
  bool video = false;           // the upload is a video: it is probed and cut into chunks
};

struct Submitted {
  JobView view;
  bool replayed = false;  // the idempotency key named a job accepted before: that one is returned
};

struct StoredOutput {
  JobRecord record;
  std::string bytes;
};

// One validated file of a batch; the manager owns `input` from RunBatch on.
struct BatchFile {
  JobSpec spec;
  std::string input;
};

// What became of one batch file: OK with its stored record (id, sizes, type) or the error.
struct BatchFileOutcome {
  Status status;
  JobRecord record;
};

// Receives a job's changes on the manager's thread, a null view being a keep-alive tick; returns false to stop
// listening. Must not block or call back into the manager.
using JobListener = std::function<bool(const JobView* view)>;

class JobManager {
 public:
  static constexpr std::chrono::milliseconds kReportDelay{100};

  // Opens the store's state: jobs that were queued or running when the last dispatcher stopped are queued again,
  // files no job refers to are removed. Starts the thread. `sink` and `metrics` must outlive the manager.
  static Result<std::unique_ptr<JobManager>> Start(JobsOptions options, std::unique_ptr<DataDir> dir,
                                                   std::unique_ptr<JobStore> store, JobSink& sink, Metrics& metrics);
  ~JobManager();  // Stop()
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Accepts an async job. Conflict when the idempotency key was used for a different request, Unavailable when
  // max_unfinished jobs wait already, InsufficientStorage when the data dir cannot take it (nothing is stored then);
  // for a video, what VideoJob::Plan refuses.
  Result<Submitted> Submit(const NewJob& job);
  // NotFound for an unknown id.
  Result<JobView> Get(std::string_view id);
  // A page of jobs, newest first (InvalidArgument for an unknown `after`).
  Result<std::vector<JobView>> List(const JobQuery& query);
  // Cancels a queued or running job (at its worker too) and returns it cancelled. NotFound, or Conflict for a
  // finished job.
  Result<JobView> Cancel(std::string_view id);
  // The stored output of a succeeded job. NotFound; Conflict while it is not succeeded (the message says its
  // state); Gone once the output expired or was evicted.
  Result<StoredOutput> ReadOutput(std::string_view id);

  // The job now; `listener` then gets each change until the job finishes (a finished job is returned and
  // `listener` is not kept). `*token` identifies the subscription for Unsubscribe (0 when none was kept).
  Result<JobView> Subscribe(std::string_view id, JobListener listener, std::uint64_t* token);
  void Unsubscribe(std::uint64_t token);

  // Runs the files of one batch through the pool (each stored once it succeeded) and calls `done` once, on the
  // manager's thread, with one outcome per file in order. Returns a handle for CancelBatch.
  std::uint64_t RunBatch(std::vector<BatchFile> files, std::function<void(std::vector<BatchFileOutcome>)> done);
  // The client went away: files not done yet end Cancelled (and `done` still runs). Unknown handles are ignored.
  void CancelBatch(std::uint64_t batch);

  // Jobs by state and the store's size, at most kReportDelay old.
  JobsReport Report() const;
  const RetentionOptions& retention() const { return retention_.options(); }
  // Where the output of job `id` is (or would be) stored on this machine.
  std::string OutputPath(const std::string& id) const { return dir_->PathOf(StoredFile::kResult, id); }

  // Draining: no more async jobs go to the pool (they stay stored for the next start); batches being answered
  // still run to their end, and what the pool holds finishes. Idempotent.
  void StopFeeding();
  // True while a batch is being answered (its files run or wait).
  bool AnsweringBatches() const;
  // Stops the thread after applying what the pool has reported. Jobs still queued or running stay so in the store
  // (a restart runs them); batches still waiting are answered Unavailable. Idempotent.
  void Stop();

 private:
  struct Batch;
  struct Active;
  // What the pool reported about the job `key`, applied on the manager's thread.
  struct Event {
    enum class Kind { kStarted, kProgress, kFinished, kVideoJoined };
    Kind kind = Kind::kFinished;
    std::string key;
    std::string worker;  // kStarted
    int done = 0;        // kProgress
    int total = 0;       // kProgress
    JobOutcome outcome;  // kFinished; kVideoJoined: its status
    std::string output;  // kVideoJoined: the joined video, a temporary file
    std::string details;  // kVideoJoined: the job's details (JSON)
  };

  JobManager(JobsOptions options, std::unique_ptr<DataDir> dir, std::unique_ptr<JobStore> store, JobSink& sink,
             Metrics& metrics);
  Status Recover();
  Status RecoverVideo(Active& active);
  void RemoveOrphanFiles();
  Result<Submitted> Replay(const JobRecord& existing, const std::string& fingerprint);
  // Writes the upload and the record of a new async job (for a video, plans it first and stores its chunks).
  // Nothing is left stored when it fails.
  Result<JobRecord> StoreNewJob(const NewJob& job, const std::string& fingerprint, std::unique_ptr<VideoJob>* video);
  JobView ViewOf(const Active& active) const;     // mu_ held
  AdmissionQueue& QueueOf(const Active& active);  // where `active` waits
  void Admit(const Active& active);               // mu_ held: puts it in line
  // The next job to offer the pool (batch files, and async jobs unless draining); nullopt when none. mu_ held.
  std::optional<std::string> NextToFeed();

  void Run();
  void Apply(Event event);          // mu_ held
  void Feed();                      // mu_ held
  JobPtr BuildJob(Active& active);  // mu_ held
  // Counts `job`'s input in the memory budget (batch files are counted with their request); false when it does
  // not fit now. mu_ held.
  bool HoldInMemory(Job& job, const Active& active);
  // The parts of the manager that are about video jobs (job_manager_video.cc); all with mu_ held.
  void AdmitChunks(const Active& active);
  JobPtr BuildChunkJob(Active& active, int chunk);
  void ApplyChunk(Active& active, int chunk, Event& event);
  void FinishVideo(Active& active);  // hands the join and check to the finisher
  void ApplyJoined(Active& active, Event& event);  // stores what the finisher made
  void FailVideo(Active& active, const Status& status);  // the job fails; its other chunks stop
  void ForgetChunks(const Active& active);               // removes queued chunks and stored segments
  // The callbacks of a pool job for `key` (a job id, or a chunk's key).
  void Wire(Job& job, const std::string& key);
  // Ends the job `key` with `status` (and, when OK, the pool's `outcome`, whose output it stores) and forgets it.
  void Resolve(const std::string& key, Status status, JobOutcome* outcome);  // mu_ held
  // Writes the output of `outcome` for `active`; on failure `*status` says why.
  void StoreOutput(Active& active, const JobOutcome& outcome, Status* status);  // mu_ held
  // Records the end of an async job (state, error, its upload removed), stores it and tells its listeners.
  void Finish(Active& active, const Status& status);    // mu_ held
  void FinishBatchFile(Active& active, Status status);  // mu_ held
  void Poke();                                          // wakes the thread to feed a new job
  void Persist(const JobRecord& record);                // mu_ held
  void CountUnfinished(const JobSpec& spec, int delta);  // mu_ held: an async job accepted (+1) or let go (-1)
  void Notify(const JobView& view);                     // mu_ held
  void Housekeep(std::int64_t now_ms);                  // mu_ held
  void RefreshReport();                                 // mu_ held
  void KeepListenersAlive();                            // mu_ held
  void FinishStop();                                    // mu_ held
  void Post(Event event);
  // How long the thread may sleep: until housekeeping, or briefly while jobs wait for room in the pool.
  std::chrono::milliseconds Sleep() const;  // mu_ held

  const JobsOptions options_;
  std::unique_ptr<DataDir> dir_;
  std::unique_ptr<JobStore> store_;
  JobSink& sink_;
  Metrics& metrics_;
  ResultRetention retention_;

  // The pool's callbacks run on its thread and must never wait on mu_ (held while the manager writes to disk):
  // they only append to the inbox, which has its own mutex.
  std::mutex inbox_mu_;
  std::condition_variable wake_;
  std::deque<Event> inbox_;      // guarded by inbox_mu_
  bool poked_ = false;           // guarded by inbox_mu_: a new job waits to be fed
  bool stop_requested_ = false;  // guarded by inbox_mu_

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Active>> active_;    // guarded by mu_: by job id
  AdmissionQueue waiting_async_;                             // guarded by mu_: accepted async jobs
  AdmissionQueue waiting_batch_;                             // guarded by mu_: files of batches being answered
  size_t in_pool_ = 0;                                       // guarded by mu_: jobs the sink holds
  size_t unfinished_async_ = 0;                              // guarded by mu_
  std::map<std::string, std::int64_t> unfinished_by_client_;  // guarded by mu_: of unfinished_async_
  std::map<std::uint64_t, std::shared_ptr<Batch>> batches_;  // guarded by mu_
  std::uint64_t next_batch_ = 1;                             // guarded by mu_
  std::multimap<std::string, std::pair<std::uint64_t, JobListener>> listeners_;  // guarded by mu_: by job id
  std::uint64_t next_token_ = 1;                                                 // guarded by mu_
  JobsReport report_;                                                            // guarded by mu_
  std::int64_t next_order_ = 1;                                // guarded by mu_: admission order in this process
  bool feeding_ = true;                                        // guarded by mu_
  bool stopping_ = false;                                      // guarded by mu_: the thread is finishing
  std::chrono::steady_clock::time_point feed_after_{};         // guarded by mu_
  std::chrono::steady_clock::time_point next_housekeeping_{};  // guarded by mu_
  std::chrono::steady_clock::time_point next_keepalive_{};     // guarded by mu_
  bool report_stale_ = false;                                  // guarded by mu_: the store changed since
  std::chrono::steady_clock::time_point next_report_{};        // guarded by mu_
  std::thread thread_;
  // Joins and checks finished videos (seconds for a film) away from thread_, which keeps answering. Declared last:
  // its tasks read the Active records of active_ and post to the inbox, so it stops first.
  TaskThread finisher_{"video finisher"};
};

}  // namespace tsdsr::dispatcher
