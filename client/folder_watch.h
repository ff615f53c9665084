// The Linux side of --watch: inotify on one folder (IN_CLOSE_WRITE and IN_MOVED_TO only, so a file still
// being written is seen only once it is closed), SIGINT/SIGTERM read from a signalfd, a Stop() eventfd,
// and a file-lease test for "is some process still writing this file".
#pragma once

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace tsdsr::client {

// Blocks SIGINT and SIGTERM (read through a signalfd instead) and SIGIO (which a lease broken during
// IsClosedForWriting would raise) in the calling thread for its lifetime; threads started meanwhile inherit
// the mask. Restores the previous mask on destruction. Signals that arrive while blocked and are not read
// stay pending and are delivered then.
class ScopedSignalBlock {
 public:
  ScopedSignalBlock();
  ~ScopedSignalBlock();
  ScopedSignalBlock(const ScopedSignalBlock&) = delete;
  ScopedSignalBlock& operator=(const ScopedSignalBlock&) = delete;

 private:
  sigset_t previous_;
};

// True unless some process has `path` open for writing: a read lease (fcntl F_SETLEASE F_RDLCK) is refused
// with EAGAIN exactly then; it is released at once. Any other failure (EACCES for a file of another user,
// EINVAL on a file system without leases) counts as closed. Thread-safe.
bool IsClosedForWriting(const std::string& path);

// What FolderWatch::Wait saw.
struct FolderEvents {
  std::vector<std::string> names;  // files (no folders) closed after writing or moved in, in event order
  bool rescan = false;             // the event queue overflowed: list the folder again
  bool stop = false;               // SIGINT/SIGTERM (see `signal`) or Stop()
  int signal = 0;                  // the signal that asked to stop; 0 for Stop()
};

// Owns the inotify, signal and stop descriptors. Wait() from one thread; Stop() from any.
class FolderWatch {
 public:
  // Watches `dir`. With `read_signals`, SIGINT/SIGTERM are read from a signalfd: whoever calls Wait() must
  // block them (ScopedSignalBlock) in every thread. InvalidArgument naming `dir` when it cannot be watched.
  static Result<std::unique_ptr<FolderWatch>> Create(const std::string& dir, bool read_signals);
  ~FolderWatch();
  FolderWatch(const FolderWatch&) = delete;
  FolderWatch& operator=(const FolderWatch&) = delete;

  // Blocks until events, a stop request or an error: Internal when reading fails, FailedPrecondition
  // when the watched folder was removed or moved away.
  Result<FolderEvents> Wait();
  // Makes the current or next Wait() return with stop set. Thread-safe, async-signal-safe.
  void Stop();

 private:
  FolderWatch() = default;
  Status ReadEvents(FolderEvents* events);
  bool ReadSignal(FolderEvents* events);

  std::string dir_;
  int inotify_fd_ = -1;
  int signal_fd_ = -1;  // -1 without read_signals
  int stop_fd_ = -1;    // eventfd written by Stop()
};

}  // namespace tsdsr::client
