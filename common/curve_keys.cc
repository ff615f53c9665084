#include "common/curve_keys.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <vector>

#include <zmq.h>

namespace tsdsr {
namespace {

namespace fs = std::filesystem;

constexpr size_t kCurveKeyBytes = 32;
constexpr size_t kMaxKeyFileBytes = 4096;

std::string OsError(int error) { return std::strerror(error); }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// Closes a descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now; the error of close(2), or 0.
  int Close() {
    const int result = ::close(fd_) == 0 ? 0 : errno;
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

}  // namespace

Result<std::string> ReadKeyFile(const std::string& path, bool secret, size_t max_bytes) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == ENOENT) return Status::NotFound("key file " + path + " does not exist");
    return Status::InvalidArgument("cannot read key file " + path + ": " + OsError(error));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return Status::InvalidArgument("cannot stat key file " + path);
  if (!S_ISREG(info.st_mode)) return Status::InvalidArgument("key file " + path + " is not a regular file");
  if (secret && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status::InvalidArgument("secret key file " + path + " may be read by other users; run 'chmod 600 " + path +
                                   "'");
  }
  std::string text;
  char buffer[1024];
  ssize_t n;
  while ((n = ::read(fd.get(), buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_bytes) return Status::InvalidArgument("key file " + path + " is too large");
  }
  if (n < 0) return Status::InvalidArgument("cannot read key file " + path + ": " + OsError(errno));
  return text;
}

bool CurveAvailable() { return zmq_has("curve") != 0; }

bool IsCurveKey(std::string_view z85) {
  if (z85.size() != kCurveKeyZ85Size) return false;
  const std::string text(z85);  // zmq_z85_decode wants a terminated string
  std::uint8_t binary[kCurveKeyBytes];
  if (zmq_z85_decode(binary, text.c_str()) == nullptr) return false;
  // Canonical form only: a key some other text also decodes to would compare unequal in the authorized set.
  return CurveKeyToZ85(std::string_view(reinterpret_cast<const char*>(binary), sizeof binary)) == text;
}

std::string CurveKeyToZ85(std::string_view binary) {
  if (binary.size() != kCurveKeyBytes) return "";
  char text[kCurveKeyZ85Size + 1] = {};
  if (zmq_z85_encode(text, reinterpret_cast<const std::uint8_t*>(binary.data()), binary.size()) == nullptr) return "";
  return text;
}

Result<CurveKeyPair> GenerateCurveKeyPair() {
  if (!CurveAvailable()) return Status::FailedPrecondition("this libzmq was built without CURVE (libsodium)");
  char public_key[kCurveKeyZ85Size + 1] = {};
  char secret_key[kCurveKeyZ85Size + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status::Internal(std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret_key};
}

Result<CurveKeyPair> CurveKeyPairOf(std::string_view secret_z85) {
  if (!IsCurveKey(secret_z85)) return Status::InvalidArgument("not a Z85 CURVE key (40 characters)");
  if (!CurveAvailable()) return Status::FailedPrecondition("this libzmq was built without CURVE (libsodium)");
  const std::string secret(secret_z85);
  char public_key[kCurveKeyZ85Size + 1] = {};
  if (zmq_curve_public(public_key, secret.c_str()) != 0) {
    return Status::Internal(std::string("zmq_curve_public failed: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret};
}

Result<std::string> ReadCurveKeyFile(const std::string& path, bool secret) {
  TSDSR_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path, secret, kMaxKeyFileBytes));
  std::string key;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line = Trim(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (line.empty() || line.front() == '#') continue;
    if (!key.empty()) return Status::InvalidArgument("key file " + path + " holds more than one key");
    if (!IsCurveKey(line)) {
      return Status::InvalidArgument("key file " + path + " does not hold a Z85 CURVE key (40 characters)");
    }
    key = std::string(line);
  }
  if (key.empty()) return Status::InvalidArgument("key file " + path + " holds no key");
  return key;
}

Status WriteCurveKeyFile(const std::string& path, std::string_view z85, bool secret, std::string_view comment) {
  const mode_t mode = secret ? 0600 : 0644;
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    const int error = errno;
    if (error == EEXIST) return Status::FailedPrecondition(path + " exists; keys are never overwritten");
    return Status::InvalidArgument("cannot create " + path + ": " + OsError(error));
  }
  if (::fchmod(fd.get(), mode) != 0) return Status::InvalidArgument("cannot chmod " + path + ": " + OsError(errno));
  const std::string text = "# " + std::string(comment) + "\n" + std::string(z85) + "\n";
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) != 0) {
    return Status::InvalidArgument("cannot write " + path + ": " + OsError(errno));
  }
  if (int error = fd.Close(); error != 0)
    return Status::InvalidArgument("cannot write " + path + ": " + OsError(error));
  return Status::Ok();
}

Result<std::map<std::string, std::string>> ReadAuthorizedKeys(const std::string& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return Status::NotFound(dir + " is not a directory");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() == ".pub" && entry.is_regular_file(error)) files.push_back(entry.path());
  }
  if (error) return Status::InvalidArgument("cannot list " + dir + ": " + error.message());
  std::sort(files.begin(), files.end());
  std::map<std::string, std::string> keys;
  for (const auto& file : files) {
    TSDSR_ASSIGN_OR_RETURN(std::string key, ReadCurveKeyFile(file.string(), /*secret=*/false));
    keys.emplace(std::move(key), file.stem().string());
  }
  return keys;
}

Status GenerateKeyDirectory(const std::string& dir) {
  const fs::path root(dir);
  const fs::path authorized = root / kAuthorizedWorkersDir;
  const std::vector<fs::path> outputs = {root / kDispatcherSecretKeyFile, root / kDispatcherPublicKeyFile,
                                         root / kWorkerSecretKeyFile, root / kWorkerPublicKeyFile,
                                         authorized / kWorkerPublicKeyFile};
  std::error_code error;
  for (const auto& path : outputs) {
    if (fs::exists(path, error)) {
      return Status::FailedPrecondition(path.string() + " exists; keys are never overwritten (choose another folder)");
    }
  }
  TSDSR_ASSIGN_OR_RETURN(CurveKeyPair dispatcher, GenerateCurveKeyPair());
  TSDSR_ASSIGN_OR_RETURN(CurveKeyPair worker, GenerateCurveKeyPair());
  const bool created = fs::create_directories(root, error);
  if (error) return Status::InvalidArgument("cannot create " + dir + ": " + error.message());
  if (created) fs::permissions(root, fs::perms::owner_all, error);
  fs::create_directories(authorized, error);
  if (error) return Status::InvalidArgument("cannot create " + authorized.string() + ": " + error.message());
  const std::string keep = "keep on the dispatcher's machine only, never share";
  TSDSR_RETURN_IF_ERROR(WriteCurveKeyFile(outputs[0], dispatcher.secret_key, true, "dispatcher secret key; " + keep));
  TSDSR_RETURN_IF_ERROR(WriteCurveKeyFile(outputs[1], dispatcher.public_key, false, "dispatcher public key"));
  TSDSR_RETURN_IF_ERROR(
      WriteCurveKeyFile(outputs[2], worker.secret_key, true, "worker secret key; copy to workers only"));
  TSDSR_RETURN_IF_ERROR(WriteCurveKeyFile(outputs[3], worker.public_key, false, "worker public key"));
  return WriteCurveKeyFile(outputs[4], worker.public_key, false, "an authorized worker (worker.pub)");
}

Result<CurveClientKeys> ReadWorkerKeys(const std::string& dir) {
  const fs::path root(dir);
  CurveClientKeys keys;
  TSDSR_ASSIGN_OR_RETURN(std::string secret, ReadCurveKeyFile((root / kWorkerSecretKeyFile).string(), true));
  TSDSR_ASSIGN_OR_RETURN(keys.own, CurveKeyPairOf(secret));
  auto listed = ReadCurveKeyFile((root / kWorkerPublicKeyFile).string(), false);
  if (listed.ok() && *listed != keys.own.public_key) {
    return Status::InvalidArgument((root / kWorkerPublicKeyFile).string() + " is not the public key of " +
                                   (root / kWorkerSecretKeyFile).string());
  }
  if (!listed.ok() && listed.status().code() != StatusCode::kNotFound) return listed.status();
  TSDSR_ASSIGN_OR_RETURN(keys.server_public_key, ReadCurveKeyFile((root / kDispatcherPublicKeyFile).string(), false));
  return keys;
}

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string name(host);  // a host name is not trusted to resolve to loopback
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, name.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool IsLocalEndpoint(std::string_view endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  std::string_view address = endpoint.substr(6);
  if (size_t source = address.rfind(';'); source != std::string_view::npos) address.remove_prefix(source + 1);
  const size_t colon = address.rfind(':');
  const bool bracketed_without_port = !address.empty() && address.back() == ']';
  return IsLoopbackHost(colon == std::string_view::npos || bracketed_without_port ? address : address.substr(0, colon));
}

}  // namespace tsdsr
