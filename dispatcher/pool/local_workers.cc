#include "dispatcher/pool/local_workers.h"

#include <filesystem>
#include <sstream>

namespace tsdsr::dispatcher {

int CountVisibleGpus(const char* visible_devices_env, const std::string& proc_gpus_dir) {
  if (visible_devices_env != nullptr) {
    std::stringstream list(visible_devices_env);
    std::string entry;
    int n = 0;
    while (std::getline(list, entry, ',')) {
      if (entry.empty() || entry == "-1") break;  // CUDA stops at the first invalid entry
      ++n;
    }
    return n;
  }
  std::error_code error;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator(proc_gpus_dir, error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++n;
  }
  return n;
}

Result<std::vector<std::string>> LocalWorkerDevices(int workers, const std::string& device, int gpus) {
  bool cuda = device == "cuda" || (device == "auto" && gpus > 0);
  if (cuda && gpus == 0) {
    return Status::FailedPrecondition("--device cuda, but no NVIDIA GPU is visible (CUDA_VISIBLE_DEVICES, driver)");
  }
  int count = workers >= 0 ? workers : (cuda ? gpus : 1);
  std::vector<std::string> devices;
  for (int i = 0; i < count; ++i) devices.push_back(cuda ? "cuda:" + std::to_string(i % gpus) : "cpu");
  return devices;
}

std::string LocalConnectAddress(const std::string& bound_endpoint) {
  const std::string tcp = "tcp://";
  if (bound_endpoint.rfind(tcp, 0) != 0) return bound_endpoint;
  size_t colon = bound_endpoint.rfind(':');
  std::string host = bound_endpoint.substr(tcp.size(), colon - tcp.size());
  if (host == "*" || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "[::]") host = "[::1]";
  return tcp + host + bound_endpoint.substr(colon);
}

}  // namespace tsdsr::dispatcher
