#include "client/folder_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace tsdsr::client {
namespace {

sigset_t StopSignals(bool with_sigio) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (with_sigio) sigaddset(&set, SIGIO);
  return set;
}

void CloseIfOpen(int fd) {
  if (fd >= 0) close(fd);
}

}  // namespace

ScopedSignalBlock::ScopedSignalBlock() {
  sigset_t block = StopSignals(/*with_sigio=*/true);
  pthread_sigmask(SIG_BLOCK, &block, &previous_);
}

ScopedSignalBlock::~ScopedSignalBlock() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

bool IsClosedForWriting(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return true;  // gone or unreadable: processing it reports why
  bool closed = true;
  if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    fcntl(fd, F_SETLEASE, F_UNLCK);
  } else {
    closed = errno != EAGAIN;
  }
  close(fd);
  return closed;
}

Result<std::unique_ptr<FolderWatch>> FolderWatch::Create(const std::string& dir, bool read_signals) {
  std::unique_ptr<FolderWatch> watch(new FolderWatch());
  watch->dir_ = dir;
  watch->inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  watch->stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (watch->inotify_fd_ < 0 || watch->stop_fd_ < 0) {
    return Status::Internal(std::string("cannot set up inotify: ") + std::strerror(errno));
  }
  uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR | IN_DELETE_SELF | IN_MOVE_SELF;
  if (inotify_add_watch(watch->inotify_fd_, dir.c_str(), mask) < 0) {
    return Status::InvalidArgument("cannot watch folder '" + dir + "': " + std::strerror(errno));
  }
  if (read_signals) {
    sigset_t signals = StopSignals(/*with_sigio=*/false);
    watch->signal_fd_ = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (watch->signal_fd_ < 0) return Status::Internal(std::string("cannot read signals: ") + std::strerror(errno));
  }
  return watch;
}

FolderWatch::~FolderWatch() {
  CloseIfOpen(inotify_fd_);
  CloseIfOpen(signal_fd_);
  CloseIfOpen(stop_fd_);
}

void FolderWatch::Stop() {
  uint64_t one = 1;
  ssize_t written = write(stop_fd_, &one, sizeof(one));
  (void)written;  // EAGAIN: the counter is already non-zero, which is all that matters
}

Result<FolderEvents> FolderWatch::Wait() {
  FolderEvents events;
  while (events.names.empty() && !events.rescan && !events.stop) {
    pollfd fds[3] = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
    int ready = poll(fds, signal_fd_ >= 0 ? 3 : 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Status::Internal(std::string("poll failed: ") + std::strerror(errno));
    if (fds[0].revents != 0) events.stop = true;
    if (signal_fd_ >= 0 && fds[2].revents != 0 && ReadSignal(&events)) events.stop = true;
    if (fds[1].revents != 0) TSDSR_RETURN_IF_ERROR(ReadEvents(&events));
  }
  return events;
}

bool FolderWatch::ReadSignal(FolderEvents* events) {
  signalfd_siginfo info{};
  if (read(signal_fd_, &info, sizeof(info)) != static_cast<ssize_t>(sizeof(info))) return false;
  events->signal = static_cast<int>(info.ssi_signo);
  return true;
}

Status FolderWatch::ReadEvents(FolderEvents* events) {
  alignas(inotify_event) char buffer[64 * 1024];
  while (true) {
    ssize_t length = read(inotify_fd_, buffer, sizeof(buffer));
    if (length < 0 && errno == EINTR) continue;
    if (length < 0 && errno == EAGAIN) return Status::Ok();
    if (length <= 0) return Status::Internal(std::string("reading inotify failed: ") + std::strerror(errno));
    for (char* p = buffer; p < buffer + length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + event->len;
      if (event->mask & IN_Q_OVERFLOW) events->rescan = true;
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)) {
        return Status::FailedPrecondition("the watched folder '" + dir_ + "' was removed or moved away");
      }
      if ((event->mask & IN_ISDIR) || event->len == 0) continue;
      if (event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) events->names.emplace_back(event->name);
    }
  }
}

}  // namespace tsdsr::client
