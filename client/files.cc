#include "client/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tsdsr::client {
namespace {

std::string OsError(int error) { return std::strerror(error); }

}  // namespace

Result<std::string> ReadInputFile(const std::string& path) {
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) return Status::InvalidArgument("input file '" + path + "' not found");
  if (std::filesystem::is_directory(status)) {
    return Status::InvalidArgument("input '" + path + "' is a directory, not an image file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read input file '" + path + "': " + OsError(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument("cannot read input file '" + path + "': " + OsError(errno));
  return bytes.str();
}

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  std::filesystem::path target(path);
  std::string temp =
      (target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(getpid()))).string();
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::InvalidArgument("cannot write '" + path + "': " + OsError(errno));
  std::size_t done = 0;
  int error = 0;
  while (done < bytes.size() && error == 0) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno != EINTR) {
      error = errno;
    }
  }
  if (error == 0 && fsync(fd) != 0) error = errno;
  if (close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    unlink(temp.c_str());
    return Status::InvalidArgument("cannot write '" + path + "': " + OsError(error));
  }
  return Status::Ok();
}

Status CreateParentFolders(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return Status::InvalidArgument("cannot create folder '" + folder.string() + "': " + ec.message());
  return Status::Ok();
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

}  // namespace tsdsr::client
