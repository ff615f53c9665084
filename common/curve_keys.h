// ZeroMQ CURVE keys for the dispatcher ⇄ worker link: key pairs, Z85 key files and their checks, the key
// directory that `tsdsr-dispatcher --gen-keys DIR` writes, and which endpoints need keys at all.
//
// A key file holds one Z85 key (40 characters) on a line; blank lines and lines starting with '#' are
// ignored. Secret key files (*.key) must not be readable by group or others, as with ssh. The directory:
//   DIR/dispatcher.key, DIR/dispatcher.pub      the dispatcher's pair (the secret stays on its machine)
//   DIR/worker.key, DIR/worker.pub              a worker's pair (copied to the worker's machine)
//   DIR/authorized_workers/NAME.pub             the workers the dispatcher accepts, one public key a file
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tsdsr {

inline constexpr char kDispatcherSecretKeyFile[] = "dispatcher.key";
inline constexpr char kDispatcherPublicKeyFile[] = "dispatcher.pub";
inline constexpr char kWorkerSecretKeyFile[] = "worker.key";
inline constexpr char kWorkerPublicKeyFile[] = "worker.pub";
inline constexpr char kAuthorizedWorkersDir[] = "authorized_workers";
inline constexpr size_t kCurveKeyZ85Size = 40;  // the text form of a 32-byte key

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// What a CURVE client (a worker) connects with.
struct CurveClientKeys {
  CurveKeyPair own;
  std::string server_public_key;  // Z85: the dispatcher's dispatcher.pub
};

// True when this libzmq can do CURVE (it was built with libsodium). Thread-safe.
bool CurveAvailable();

// True for a well-formed Z85 CURVE key: 40 characters that decode to 32 bytes and encode back the same.
bool IsCurveKey(std::string_view z85);

// The Z85 text of a 32-byte binary key (as ZAP requests carry it); "" when `binary` is not 32 bytes.
std::string CurveKeyToZ85(std::string_view binary);

// A fresh key pair. FailedPrecondition when CURVE is unavailable. Thread-safe.
Result<CurveKeyPair> GenerateCurveKeyPair();

// The key pair of a Z85 secret key (the public half is derived). InvalidArgument for a malformed key.
Result<CurveKeyPair> CurveKeyPairOf(std::string_view secret_z85);

// The contents of the key file `path`, of at most `max_bytes`. NotFound when it is absent; InvalidArgument
// naming the file when it is not a regular file, is larger, cannot be read or, with `secret`, may be read by
// group or others.
Result<std::string> ReadKeyFile(const std::string& path, bool secret, size_t max_bytes);

// Reads the one key in `path`. NotFound when the file is absent; InvalidArgument naming the file when it
// holds no key, more than one, or a malformed one, or (with `secret`) when group or others may read it.
Result<std::string> ReadCurveKeyFile(const std::string& path, bool secret);

// Writes `z85` to a new file `path` (mode 0600 with `secret`, else 0644) under a '#' line saying `comment`.
// FailedPrecondition when `path` exists (keys are never overwritten); InvalidArgument for other I/O errors.
Status WriteCurveKeyFile(const std::string& path, std::string_view z85, bool secret, std::string_view comment);

// The public keys in every DIR/*.pub file, keyed by Z85 key, valued by the file's name without ".pub".
// NotFound when `dir` is not a directory; InvalidArgument naming the first bad file.
Result<std::map<std::string, std::string>> ReadAuthorizedKeys(const std::string& dir);

// --gen-keys: creates `dir` (mode 0700) if needed and writes a fresh dispatcher pair, a fresh worker pair and
// DIR/authorized_workers/worker.pub. FailedPrecondition, before writing anything, when one of them exists.
Status GenerateKeyDirectory(const std::string& dir);

// A worker's --curve-dir: DIR/worker.key (its pair) and DIR/dispatcher.pub. Errors as ReadCurveKeyFile; a
// DIR/worker.pub that does not match worker.key is InvalidArgument.
Result<CurveClientKeys> ReadWorkerKeys(const std::string& dir);

// True for an address that only this machine can reach: 127.0.0.0/8 or ::1 ([::1]). Host names (even
// localhost) are not: what they resolve to is not this program's to promise.
bool IsLoopbackHost(std::string_view host);

// True for endpoints that need no CURVE keys: ipc:// and inproc://, and tcp:// on a loopback host. A
// wildcard (*, 0.0.0.0), an interface name, a host name or a routable address is not local.
bool IsLocalEndpoint(std::string_view endpoint);

}  // namespace tsdsr
