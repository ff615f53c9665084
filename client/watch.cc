#include "client/watch.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "client/batch_runner.h"
#include "client/files.h"

namespace tsdsr::client {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDoneFolder = "done";
constexpr const char* kFailedFolder = "failed";

// What identifies one version of a file: a file replaced or rewritten meanwhile is not moved away.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  long long mtime_ns = 0;
  bool operator==(const FileIdentity& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
};

std::optional<FileIdentity> IdentityOf(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  return FileIdentity{info.st_dev, info.st_ino, info.st_size,
                      static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec};
}

Status CreateFolder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) return Status::InvalidArgument("cannot create folder '" + folder.string() + "': " + ec.message());
  return Status::Ok();
}

}  // namespace

WatchRunner::WatchRunner(const ClientOptions& options, HttpClient& http, std::ostream& out, std::ostream& err)
    : options_(options), http_(http), out_(out), err_(err), filter_(MakeFileFilter(options.pattern)) {}

WatchRunner::~WatchRunner() {
  if (pool_) pool_->Abandon();
}

Result<std::unique_ptr<WatchRunner>> WatchRunner::Create(const ClientOptions& options, HttpClient& http,
                                                         const ClientTuning& tuning, bool read_signals,
                                                         std::ostream& out, std::ostream& err) {
  std::error_code ec;
  if (!fs::is_directory(options.watch, ec)) {
    return Status::InvalidArgument("watched folder '" + options.watch + "' not found");
  }
  TSDSR_RETURN_IF_ERROR(CreateFolder(options.output));
  if (fs::equivalent(options.watch, options.output, ec)) {
    return Status::InvalidArgument("--output must be another folder than '" + options.watch + "'");
  }
  TSDSR_RETURN_IF_ERROR(CreateFolder(fs::path(options.watch) / kDoneFolder));
  TSDSR_RETURN_IF_ERROR(CreateFolder(fs::path(options.watch) / kFailedFolder));
  std::unique_ptr<WatchRunner> runner(new WatchRunner(options, http, out, err));
  if (options.async_jobs) {
    std::string warning;
    runner->state_ = OpenStateOrStartEmpty(BatchStatePath(options.output), &warning);
    if (!warning.empty()) err << "warning: " << warning << "\n";
  }
  runner->settings_ = JobSettingsFrom(options, tuning, runner->state_.get());
  runner->progress_ = std::make_unique<ProgressReporter>(err, /*terminal=*/false, 0);
  TSDSR_ASSIGN_OR_RETURN(runner->watch_, FolderWatch::Create(options.watch, read_signals));
  return runner;
}

int WatchRunner::Run() {
  auto start = std::chrono::steady_clock::now();
  ScopedSignalBlock block;  // before any thread starts, so that every thread inherits it
  bool answered = false;
  int threads = options_.jobs ? *options_.jobs : DefaultConcurrency(http_, &answered);
  Result<std::unique_ptr<RequestPool>> pool = RequestPool::Create(threads, http_);
  if (!pool.ok()) {
    err_ << "error: " << pool.status().message() << "\n";
    return kExitUsage;
  }
  pool_ = std::move(*pool);
  EnqueueExisting();  // after the watch was set up (Create), so no file falls between the two
  int exit_code = kExitOk;
  while (true) {
    Result<FolderEvents> events = watch_->Wait();
    if (!events.ok()) {
      err_ << "error: " << events.status().message() << "\n";
      exit_code = kExitUsage;
      break;
    }
    if (events->rescan) EnqueueExisting();
    for (const std::string& name : events->names) Enqueue(name);
    if (events->stop) break;
  }
  pool_->Abandon();  // the files in flight finish; queued ones stay in the folder for the next start
  pool_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  WriteSummary(out_, outcomes_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return exit_code;
}

void WatchRunner::EnqueueExisting() {
  Result<std::vector<std::string>> names = ListMatchingFiles(options_.watch, filter_, false, "");
  if (!names.ok()) {
    progress_->Note("warning: " + names.status().message());
    return;
  }
  for (const std::string& name : *names) {
    if (IsClosedForWriting((fs::path(options_.watch) / name).string())) Enqueue(name);
  }
}

void WatchRunner::Enqueue(const std::string& name) {
  if (name == kDoneFolder || name == kFailedFolder || !MatchesFilter(filter_, name)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_.count(name) != 0) {
      again_.insert(name);
      return;
    }
    active_.insert(name);
  }
  progress_->AddToTotal(1);
  if (!pool_->Submit([this, name](HttpClient& http) { Process(http, name); })) Release(name);
}

std::string WatchRunner::OutputFor(const std::string& name) const {
  std::vector<std::string> siblings;
  for (const fs::path& folder : {fs::path(options_.watch), fs::path(options_.watch) / kDoneFolder}) {
    Result<std::vector<std::string>> names = ListMatchingFiles(folder.string(), filter_, false, "");
    if (names.ok()) siblings.insert(siblings.end(), names->begin(), names->end());
  }
  const OutputExtensions extensions{OutputExtension(options_.format), VideoOutputExtension(options_.container)};
  return (fs::path(options_.output) / OutputNameAmong(name, siblings, extensions)).string();
}

void WatchRunner::Process(HttpClient& http, const std::string& name) {
  const std::string path = (fs::path(options_.watch) / name).string();
  std::optional<FileIdentity> before = IdentityOf(path);
  if (before) {
    FileOutcome outcome = ProcessFile(http, settings_, {path, OutputFor(name)});
    if (IdentityOf(path) == before) Settle(name, outcome);  // else it was written again: not this version
    progress_->OnFinished(outcome);
    std::lock_guard<std::mutex> lock(mu_);
    outcomes_.push_back(outcome);
  }
  Release(name);
}

void WatchRunner::Settle(const std::string& name, const FileOutcome& outcome) {
  const bool failed = outcome.status == FileStatus::kFailed;
  const fs::path folder = fs::path(options_.watch) / (failed ? kFailedFolder : kDoneFolder);
  const fs::path source = fs::path(options_.watch) / name;
  if (failed) {
    Status written = WriteFileAtomically((folder / (name + ".error.txt")).string(), outcome.error + "\n");
    if (!written.ok()) progress_->Note("warning: " + written.message());
  }
  if (std::rename(source.c_str(), (folder / name).c_str()) != 0) {
    progress_->Note("warning: cannot move '" + source.string() + "' into '" + folder.string() +
                    "': " + std::strerror(errno));
  }
}

void WatchRunner::Release(const std::string& name) {
  bool requeue = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(name);
    requeue = again_.erase(name) != 0;
  }
  if (requeue && IdentityOf((fs::path(options_.watch) / name).string())) Enqueue(name);
}

int RunWatch(const ClientOptions& options, HttpClient& http, const ClientTuning& tuning, std::ostream& out,
             std::ostream& err) {
  Result<std::unique_ptr<WatchRunner>> runner =
      WatchRunner::Create(options, http, tuning, /*read_signals=*/true, out, err);
  if (!runner.ok()) {
    err << "error: " << runner.status().message() << "\n";
    return kExitUsage;
  }
  return (*runner)->Run();
}

}  // namespace tsdsr::client
