#include "dispatcher/jobs/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dispatcher/jobs/job_ids.h"

namespace tsdsr::dispatcher {
namespace {

namespace fs = std::filesystem;

std::string_view FolderOf(StoredFile kind) {
  switch (kind) {
    case StoredFile::kInput: return "inputs";
    case StoredFile::kResult: return "results";
    case StoredFile::kChunk: return "chunks";
  }
  return "results";
}

// A name of ours in the folder of `kind`: a job id, or for chunks "<id>-<n>".
bool IsStoredName(StoredFile kind, std::string_view name) {
  if (kind != StoredFile::kChunk) return IsJobId(name);
  const size_t dash = name.find('-');
  if (dash == std::string_view::npos || !IsJobId(name.substr(0, dash)) || dash + 1 >= name.size()) return false;
  return name.substr(dash + 1).find_first_not_of("0123456789") == std::string_view::npos;
}

Status StorageError(const std::string& what, int error) {
  return Status::InsufficientStorage(what + ": " + std::strerror(error));
}

// Writes all of `bytes` to `fd` and flushes them to the disk; the errno of the first failure, or 0.
int WriteAndSync(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (errno != EINTR) {
      return errno;
    }
  }
  return ::fsync(fd) == 0 ? 0 : errno;
}

// Flushes a directory entry (a rename into it) to the disk. Failures are ignored: the data itself is on disk.
void SyncDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string ChunkFileName(std::string_view id, int index) { return std::string(id) + "-" + std::to_string(index); }

std::optional<std::pair<std::string, int>> ParseChunkFileName(std::string_view name) {
  if (!IsStoredName(StoredFile::kChunk, name)) return std::nullopt;
  const size_t dash = name.find('-');
  const std::string_view digits = name.substr(dash + 1);
  if (digits.size() > 9) return std::nullopt;
  return std::make_pair(std::string(name.substr(0, dash)), std::stoi(std::string(digits)));
}

Result<std::unique_ptr<DataDir>> DataDir::Open(const std::string& path) {
  std::error_code error;
  const std::string absolute = fs::absolute(path, error).lexically_normal().string();
  for (const char* folder : {"", "/inputs", "/results", "/chunks", "/tmp"}) {
    fs::create_directories(absolute + folder, error);
    if (error) {
      return Status::InsufficientStorage("cannot create the data dir " + absolute + folder + ": " + error.message());
    }
  }
  const std::string lock_path = absolute + "/LOCK";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return StorageError("cannot open " + lock_path, errno);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int lock_error = errno;
    ::close(lock_fd);
    if (lock_error == EWOULDBLOCK) {
      return Status::FailedPrecondition("the data dir " + absolute + " is in use by another dispatcher");
    }
    return StorageError("cannot lock " + lock_path, lock_error);
  }
  std::unique_ptr<DataDir> dir(new DataDir(absolute, lock_fd));
  for (const auto& entry : fs::directory_iterator(absolute + "/tmp", error)) fs::remove_all(entry.path(), error);
  return dir;
}

DataDir::~DataDir() { ::close(lock_fd_); }

std::string DataDir::PathOf(StoredFile kind, std::string_view id) const {
  return path_ + "/" + std::string(FolderOf(kind)) + "/" + std::string(id);
}

std::string DataDir::TemporaryPath(std::string_view name) const {
  static std::atomic<std::uint64_t> counter{0};
  return path_ + "/tmp/" + std::string(name) + "." + std::to_string(counter.fetch_add(1));
}

Status DataDir::Publish(const std::string& temporary, StoredFile kind, std::string_view id) {
  if (::rename(temporary.c_str(), PathOf(kind, id).c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return StorageError("cannot store " + std::string(id) + " in the data dir " + path_, error);
  }
  SyncDirectory(path_ + "/" + std::string(FolderOf(kind)));
  return Status::Ok();
}

Status DataDir::Write(StoredFile kind, std::string_view id, std::string_view bytes) {
  const std::string target = PathOf(kind, id);
  const std::string temporary = TemporaryPath(id);
  const std::string what = "cannot store " + std::string(kind == StoredFile::kInput ? "the upload" : "the result") +
                           " in the data dir " + path_;
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return StorageError(what, errno);
  int error = WriteAndSync(fd, bytes);
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(temporary.c_str(), target.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temporary.c_str());
    return StorageError(what, error);
  }
  SyncDirectory(path_ + "/" + std::string(FolderOf(kind)));
  return Status::Ok();
}

Result<std::string> DataDir::Read(StoredFile kind, std::string_view id) const {
  const std::string file = PathOf(kind, id);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no stored file " + file);
    return Status::Internal("cannot read " + file + ": " + std::strerror(errno));
  }
  std::string bytes;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && info.st_size > 0) bytes.reserve(static_cast<size_t>(info.st_size));
  char buffer[1 << 16];
  int error = 0;
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      bytes.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      error = errno;
      break;
    }
  }
  ::close(fd);
  if (error != 0) return Status::Internal("cannot read " + file + ": " + std::strerror(error));
  return bytes;
}

void DataDir::Remove(StoredFile kind, std::string_view id) { ::unlink(PathOf(kind, id).c_str()); }

std::vector<std::string> DataDir::List(StoredFile kind) const {
  std::vector<std::string> ids;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(path_ + "/" + std::string(FolderOf(kind)), error)) {
    std::string name = entry.path().filename().string();
    if (IsStoredName(kind, name)) ids.push_back(std::move(name));
  }
  return ids;
}

std::int64_t DataDir::AvailableBytes() const {
  struct statvfs stats {};
  if (::statvfs(path_.c_str(), &stats) != 0) return -1;
  return static_cast<std::int64_t>(stats.f_bavail) * static_cast<std::int64_t>(stats.f_frsize);
}

}  // namespace tsdsr::dispatcher
